import Foundation
import GatewayAPI

extension ModelList.Model {
    init(ollama model: OllamaModelSummary) {
        self.init(id: model.name, created: RFC3339.epochSeconds(model.modifiedAt) ?? 0, ownedBy: "ollama")
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
