import Foundation
import GatewayAPI
import GatewayStore
import Hummingbird

extension AdminController {
    struct SettingsView: Encodable {
        var effective: PersistedRuntimeSettings.Effective
        var warnings: [String]

        enum CodingKeys: String, CodingKey {
            case ollamaURL = "ollama_url"
            case defaults
            case reasoningFormat = "reasoning_format"
            case sources, warnings
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(effective.values.ollamaURL, forKey: .ollamaURL)
            try container.encode(effective.defaults, forKey: .defaults)
            try container.encode(effective.values.reasoningFormat.rawValue, forKey: .reasoningFormat)
            try container.encode(effective.sources, forKey: .sources)
            try container.encode(warnings + effective.problems, forKey: .warnings)
        }
    }

    struct SettingsChange: Decodable {
        var ollamaURL: PatchField<String>
        var defaults: PatchField<[String: JSONValue]>
        var reasoningFormat: PatchField<String>

        enum CodingKeys: String, CodingKey, CaseIterable {
            case ollamaURL = "ollama_url"
            case defaults
            case reasoningFormat = "reasoning_format"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ollamaURL = try container.decodePatch(String.self, forKey: .ollamaURL)
            defaults = try container.decodePatch([String: JSONValue].self, forKey: .defaults)
            reasoningFormat = try container.decodePatch(String.self, forKey: .reasoningFormat)
        }

        static func optional<Value>(_ field: PatchField<Value>) -> Value?? {
            switch field {
            case .absent: nil
            case .null: .some(nil)
            case .value(let value): .some(value)
            }
        }
    }

    @Sendable func getSettings(_ request: Request, context: Context) async throws -> Response {
        let effective = try await runtimeSettings.reload(logger: context.logger)
        return AdminJSON.response(SettingsView(effective: effective, warnings: []))
    }

    @Sendable func updateSettings(_ request: Request, context: Context) async throws -> Response {
        let body = try await AdminJSON.decode(
            SettingsChange.self, from: request, fields: Set(SettingsChange.CodingKeys.allCases.map(\.rawValue)))
        let change = PersistedRuntimeSettings.Change(
            ollamaURL: SettingsChange.optional(body.ollamaURL), defaults: SettingsChange.optional(body.defaults),
            reasoningFormat: SettingsChange.optional(body.reasoningFormat))
        let (effective, warnings) = try await runtimeSettings.apply(
            change, by: try actor(context), from: context.remoteAddress, audit: store.auditLog, logger: context.logger)
        return AdminJSON.response(SettingsView(effective: effective, warnings: warnings))
    }

    // MARK: - Models

    struct ModelView: Encodable {
        var entry: ModelEntry
        /// The backends whose model lists have it (in listings).
        var backends: [String]? = nil

        enum CodingKeys: String, CodingKey {
            case name, available, enabled, callable, aliases, overrides, capabilities, family, quantization, size, digest
            case displayName = "display_name"
            case publicNames = "public_names"
            case parameterSize = "parameter_size"
            case modifiedAt = "modified_at"
            case contextLength = "context_length"
            case backends
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            if let backends { try container.encode(backends, forKey: .backends) }
            let info = entry.info
            let settings = entry.settings
            try container.encode(info.name, forKey: .name)
            try container.encode(info.available, forKey: .available)
            try container.encode(settings.enabled, forKey: .enabled)
            try container.encode(entry.isCallable, forKey: .callable)
            try container.encode(settings.displayName, forKey: .displayName)
            try container.encode(settings.aliases, forKey: .aliases)
            try container.encode(settings.overrides, forKey: .overrides)
            try container.encode(entry.publicNames, forKey: .publicNames)
            try container.encode(info.capabilities.map(\.rawValue).sorted(), forKey: .capabilities)
            try container.encode(info.family, forKey: .family)
            try container.encode(info.parameterSize, forKey: .parameterSize)
            try container.encode(info.quantization, forKey: .quantization)
            try container.encode(info.size, forKey: .size)
            try container.encode(info.digest, forKey: .digest)
            try container.encode(info.modifiedAt.map { Date(timeIntervalSince1970: TimeInterval($0)) }, forKey: .modifiedAt)
            try container.encode(info.contextLength, forKey: .contextLength)
        }
    }

    struct ModelList: Encodable {
        var models: [ModelView]

        enum CodingKeys: String, CodingKey {
            case models
        }
    }

    struct ModelUpdateResponse: Encodable {
        var model: ModelView
        var warnings: [String]

        enum CodingKeys: String, CodingKey {
            case model, warnings
        }
    }

    struct RefreshResponse: Encodable {
        var models: Int

        enum CodingKeys: String, CodingKey {
            case models
        }
    }

    @Sendable func listModels(_ request: Request, context: Context) async throws -> Response {
        let serving = backendPool.servingBackends()
        return AdminJSON.response(ModelList(models: await registry.entries().map {
            ModelView(entry: $0, backends: serving[ModelInfo.normalized($0.info.name)] ?? [])
        }))
    }

    @Sendable func updateModel(_ request: Request, context: Context) async throws -> Response {
        let raw = context.parameters.getCatchAll().joined(separator: "/")
        guard let requested = raw.removingPercentEncoding, !requested.isEmpty, requested.count <= 300 else {
            throw AdminAPIError.invalid("The URL must name a model: PUT /admin/api/models/{name}.")
        }
        let settings = try await AdminJSON.decode(
            ModelSettings.self, from: request, fields: ["display_name", "aliases", "enabled", "overrides"])
        let (entry, warnings) = try await models.update(
            settings, requested: requested, by: try actor(context), from: context.remoteAddress)
        return AdminJSON.response(ModelUpdateResponse(model: ModelView(entry: entry), warnings: warnings))
    }

    @Sendable func refreshModels(_ request: Request, context: Context) async throws -> Response {
        let count = try await models.refresh(by: try actor(context), from: context.remoteAddress, logger: context.logger)
        return AdminJSON.response(RefreshResponse(models: count))
    }

    // MARK: - Audit log

    struct AuditEntryView: Encodable {
        var entry: AuditEntry

        enum CodingKeys: String, CodingKey {
            case id, actor, action, target, details
            case occurredAt = "occurred_at"
            case clientAddress = "client_address"
        }

        enum ActorKeys: String, CodingKey {
            case kind, name
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let event = entry.event
            try container.encode(entry.id, forKey: .id)
            try container.encode(event.occurredAt, forKey: .occurredAt)
            var actor = container.nestedContainer(keyedBy: ActorKeys.self, forKey: .actor)
            try actor.encode(event.actor.kind.rawValue, forKey: .kind)
            try actor.encode(event.actor.name, forKey: .name)
            try container.encode(event.action, forKey: .action)
            try container.encode(event.target, forKey: .target)
            try container.encode(event.details, forKey: .details)
            try container.encode(event.clientAddress, forKey: .clientAddress)
        }
    }

    struct AuditPageView: Encodable {
        var entries: [AuditEntryView]
        var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case entries
            case nextCursor = "next_cursor"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(entries, forKey: .entries)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    static let auditQueryNames: Set<String> = ["since", "until", "actor", "actor_kind", "action", "limit", "cursor"]

    @Sendable func queryAudit(_ request: Request, context: Context) async throws -> Response {
        let parameters = request.uri.queryParameters
        for (name, _) in parameters where !Self.auditQueryNames.contains(String(name)) {
            throw AdminAPIError.invalid(
                "Unknown query parameter '\(name.prefix(100))'; expected \(Self.auditQueryNames.sorted().joined(separator: ", ")).")
        }
        var query = AuditQuery()
        query.since = try Timestamps.queryParameter("since", in: parameters)
        query.until = try Timestamps.queryParameter("until", in: parameters)
        query.actor = parameters.get("actor").flatMap { $0.isEmpty ? nil : $0 }
        query.action = parameters.get("action").flatMap { $0.isEmpty ? nil : $0 }
        if let kind = parameters.get("actor_kind"), !kind.isEmpty {
            guard let parsed = AuditActor.Kind(rawValue: kind) else {
                throw AdminAPIError.invalid("'actor_kind' must be account, token or system.")
            }
            query.actorKind = parsed
        }
        if let limit = parameters.get("limit"), !limit.isEmpty {
            guard let value = Int(limit), (1...AuditLogRepository.maximumPageSize).contains(value) else {
                throw AdminAPIError.invalid("'limit' must be an integer from 1 to \(AuditLogRepository.maximumPageSize).")
            }
            query.limit = value
        }
        if let cursor = parameters.get("cursor"), !cursor.isEmpty {
            guard let parsed = AuditCursor(token: cursor) else {
                throw AdminAPIError.invalid("'cursor' is not a cursor this API returned (next_cursor).")
            }
            query.after = parsed
        }
        let page = try await store.auditLog.query(query)
        return AdminJSON.response(AuditPageView(entries: page.entries.map(AuditEntryView.init), nextCursor: page.next?.token))
    }
}
