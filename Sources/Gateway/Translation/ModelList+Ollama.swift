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
}
