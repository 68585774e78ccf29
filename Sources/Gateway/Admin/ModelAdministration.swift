import Foundation
import GatewayAPI
import GatewayStore
import Logging

/// Changing a model's settings and refreshing the model list, checked and audited: the one path the
/// JSON admin API and the web console share.
struct ModelAdministration: Sendable {
    let registry: ModelRegistry
    let audit: AuditLogRepository

    /// The settings as they will be saved: names trimmed, and checked for what the registry does not
    /// check itself (lengths, duplicates).
    static func normalized(_ settings: ModelSettings) throws(AdminAPIError) -> ModelSettings {
        var settings = settings
        if let displayName = settings.displayName {
            let trimmed = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 200 else {
                throw AdminAPIError.invalid("'display_name' must have 1 to 200 characters, or be null.")
            }
            settings.displayName = trimmed
        }
        settings.aliases = settings.aliases.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard settings.aliases.allSatisfy({ !$0.isEmpty && $0.count <= 200 }), Set(settings.aliases).count == settings.aliases.count
        else {
            throw AdminAPIError.invalid("'aliases' must be distinct non-empty names of at most 200 characters.")
        }
        return settings
    }

    /// The registry's name for a model named in a URL: `llama3.2` means `llama3.2:latest` when that exists.
    func registryName(_ requested: String) async -> String {
        let known = Set(await registry.entries().map(\.info.name))
        return known.contains(requested) || !known.contains(ModelInfo.normalized(requested))
            ? requested : ModelInfo.normalized(requested)
    }

    /// Validates and saves `settings` for the model `requested` names; returns the entry as saved and
    /// the warnings (unknown option names, kept).
    func update(
        _ settings: ModelSettings, requested: String, by actor: AuditActor, from address: String?
    ) async throws -> (entry: ModelEntry, warnings: [String]) {
        let settings = try Self.normalized(settings)
        let model = await registryName(requested)
        let warnings = try await registry.updateSettings(settings, forModel: model)
        try await audit.insert(AuditEvent(
            actor: actor, action: "model.update", target: model,
            details: [
                "display_name": settings.displayName.map(JSONValue.string) ?? .null,
                "aliases": .array(settings.aliases.map(JSONValue.string)),
                "enabled": .bool(settings.enabled),
                "overrides": .object(settings.overrides),
            ],
            clientAddress: address, occurredAt: Date()))
        guard let entry = await registry.entries().first(where: { $0.info.name == model }) else {
            throw AdminAPIError.notFound("The model '\(model)' vanished while it was saved.")
        }
        return (entry, warnings)
    }

    /// Reads the model list from Ollama now; returns how many models there are.
    func refresh(by actor: AuditActor, from address: String?, logger: Logger) async throws -> Int {
        do {
            try await registry.refresh()
        } catch {
            let reported = AdminAPIError.from(error, logger: logger)
            try await audit.insert(AuditEvent(
                actor: actor, action: "models.refresh", target: nil,
                details: ["result": "failed", "error": .string(reported.message)], clientAddress: address, occurredAt: Date()))
            throw reported
        }
        let count = await registry.entries().count
        try await audit.insert(AuditEvent(
            actor: actor, action: "models.refresh", target: nil, details: ["result": "ok", "models": .int(count)],
            clientAddress: address, occurredAt: Date()))
        return count
    }
}

extension PersistedRuntimeSettings {
    /// Applies a change and records it in the audit log (the values, which hold no secret).
    func apply(_ change: Change, by actor: AuditActor, from address: String?, audit: AuditLogRepository, logger: Logger)
        async throws -> (Effective, warnings: [String])
    {
        let (effective, warnings) = try await apply(change, logger: logger)
        var details: [String: JSONValue] = [:]
        if let url = change.ollamaURL { details["ollama_url"] = url.map(JSONValue.string) ?? .null }
        if let defaults = change.defaults { details["defaults"] = defaults.map(JSONValue.object) ?? .null }
        if let format = change.reasoningFormat { details["reasoning_format"] = format.map(JSONValue.string) ?? .null }
        if !details.isEmpty {
            try await audit.insert(AuditEvent(
                actor: actor, action: "settings.update", target: "runtime", details: .object(details),
                clientAddress: address, occurredAt: Date()))
        }
        return (effective, warnings)
    }
}
