import Foundation
import GatewayAPI

extension ModelList.Model {
    /// The model as listed under one of its public names.
    init(entry: ModelEntry, id: String) {
        self.init(
            id: id, created: entry.info.modifiedAt ?? 0, ownedBy: "ollama",
            capabilities: entry.info.capabilities.map(\.rawValue).sorted(), contextLength: entry.info.contextLength,
            ollamaModel: entry.info.name)
    }
}

extension ModelList {
    /// Every callable model under each of its public names.
    init(entries: [ModelEntry]) {
        self.init(data: entries.filter(\.isCallable).flatMap { entry in
            entry.publicNames.map { ModelList.Model(entry: entry, id: $0) }
        })
    }
}

/// Ollama's timestamps (RFC 3339, fractional seconds and offsets).
enum RFC3339 {
    static func epochSeconds(_ text: String?) -> Int? {
        guard let text else { return nil }
        if let date = try? Date(text, strategy: .iso8601.year().month().day().dateTimeSeparator(.standard).time(includingFractionalSeconds: true).timeZone(separator: .omitted)) {
            return Int(date.timeIntervalSince1970)
        }
        if let date = try? Date(text, strategy: .iso8601) { return Int(date.timeIntervalSince1970) }
        return nil
    }

    static func string(_ epochSeconds: Int) -> String {
        Date(timeIntervalSince1970: TimeInterval(epochSeconds)).formatted(.iso8601)
    }
}

extension AnthropicModelInfo {
    /// The model as listed under one of its public names, for Anthropic clients.
    init(entry: ModelEntry, id: String) {
        self.init(
            id: id, displayName: id, createdAt: RFC3339.string(entry.info.modifiedAt ?? 0),
            maxInputTokens: entry.info.contextLength)
    }
}

extension AnthropicModelList {
    /// One page of every callable model under each of its public names, in the order of the OpenAI
    /// listing, cut by Anthropic's cursors: `after_id`, `before_id` (the page just before it) and
    /// `limit` (1–1000, default 20).
    static func page(entries: [ModelEntry], query: [String: String]) throws(GatewayError) -> AnthropicModelList {
        let all = ModelList(entries: entries).data.map(\.id)
        let byID = Dictionary(
            entries.filter(\.isCallable).flatMap { entry in entry.publicNames.map { ($0, entry) } },
            uniquingKeysWith: { first, _ in first })
        var limit = 20
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw .invalid("'limit' must be an integer from 1 to 1000.", param: "limit")
            }
            limit = value
        }
        func position(of id: String, param: String) throws(GatewayError) -> Int {
            guard let index = all.firstIndex(of: id) else {
                throw .invalid("'\(param)' names no listed model: '\(id)'.", param: param)
            }
            return index
        }
        let range: Range<Int>
        if let before = query["before_id"] {
            let end = try position(of: before, param: "before_id")
            range = max(0, end - limit)..<end
        } else {
            var start = 0
            if let after = query["after_id"] { start = try position(of: after, param: "after_id") + 1 }
            range = start..<min(all.count, start + limit)
        }
        let ids = all[range]
        let hasMore = query["before_id"] != nil ? range.lowerBound > 0 : range.upperBound < all.count
        return AnthropicModelList(
            data: ids.compactMap { id in byID[id].map { AnthropicModelInfo(entry: $0, id: id) } }, hasMore: hasMore)
    }
}
