import Foundation
import GatewayAPI
import SQLKit

/// What the administrator set for one Ollama model.
public struct ModelSettingsRecord: Sendable, Hashable, Codable {
    /// The Ollama model name (`llama3.1:8b`).
    public var model: String
    public var displayName: String?
    /// Other names clients may use; each belongs to at most one model.
    public var aliases: [String]
    public var enabled: Bool
    /// Ollama-format overrides: `options` keys (`num_ctx`, `temperature`, …) and request fields
    /// (`think`, `keep_alive`) plus the gateway's own `request_timeout` (milliseconds).
    public var parameters: [String: JSONValue]
    public var updatedAt: Date

    public init(
        model: String, displayName: String? = nil, aliases: [String] = [], enabled: Bool = true,
        parameters: [String: JSONValue] = [:], updatedAt: Date = Date()
    ) {
        self.model = model
        self.displayName = displayName
        self.aliases = aliases
        self.enabled = enabled
        self.parameters = parameters
        self.updatedAt = updatedAt
    }

    enum CodingKeys: String, CodingKey {
        case model
        case displayName = "display_name"
        case aliases, enabled, parameters
        case updatedAt = "updated_at"
    }
}

public struct ModelSettingsRepository: Sendable {
    let database: GatewayDatabase
    var sql: any SQLDatabase { database.sql }

    public init(database: GatewayDatabase) {
        self.database = database
    }

    static let columns = "model, display_name, aliases, enabled, parameters, updated_at"

    public func get(model: String) async throws -> ModelSettingsRecord? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM model_settings WHERE model = \(bind: model)")
            .all().first.map(Self.record(from:))
    }

    public func list() async throws -> [ModelSettingsRecord] {
        try await Self.list(on: sql)
    }

    /// The settings for a name as a client sent it: the model itself, else the model owning the alias.
    public func resolve(name: String) async throws -> ModelSettingsRecord? {
        if let exact = try await get(model: name) { return exact }
        return try await list().first { $0.aliases.contains(name) }
    }

    /// Insert or replace. Fails with `.conflict` when an alias is another model's name or alias; the check
    /// and the write happen in one transaction, so two administrators cannot both take the same alias.
    @discardableResult
    public func upsert(_ settings: ModelSettingsRecord, now: Date = Date()) async throws -> ModelSettingsRecord {
        var settings = settings
        settings.model = settings.model.trimmingCharacters(in: .whitespaces)
        guard !settings.model.isEmpty else { throw StoreError.invalidArgument("a model needs a name") }
        var seen = Set<String>()
        settings.aliases = settings.aliases.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != settings.model && seen.insert($0).inserted }
        let record = settings
        let aliasesText = try JSONText.encode(record.aliases)
        let parametersText = try JSONText.encode(record.parameters)
        let nowMs = Timestamp.milliseconds(now)

        return try await database.transaction(serializedBy: "ollama-gateway.model_settings") { db in
            for other in try await Self.list(on: db) where other.model != record.model {
                if record.aliases.contains(other.model) {
                    throw StoreError.conflict("alias \(other.model) is the name of another model")
                }
                if let taken = record.aliases.first(where: other.aliases.contains) {
                    throw StoreError.conflict("alias \(taken) already belongs to \(other.model)")
                }
                if other.aliases.contains(record.model) {
                    throw StoreError.conflict("\(record.model) is already an alias of \(other.model)")
                }
            }
            let rows = try await db.raw(
                """
                INSERT INTO model_settings (model, display_name, aliases, enabled, parameters, updated_at)
                VALUES (
                    \(bind: record.model), \(bind: record.displayName), \(bind: aliasesText), \(bind: record.enabled),
                    \(bind: parametersText), \(bind: nowMs)
                )
                ON CONFLICT (model) DO UPDATE SET
                    display_name = excluded.display_name, aliases = excluded.aliases, enabled = excluded.enabled,
                    parameters = excluded.parameters, updated_at = excluded.updated_at
                RETURNING \(unsafeRaw: Self.columns)
                """
            ).all()
            guard let row = rows.first else { throw StoreError.corruptRow("model settings upsert returned nothing") }
            return try Self.record(from: row)
        }
    }

    @discardableResult
    public func delete(model: String) async throws -> Bool {
        try await !sql.raw("DELETE FROM model_settings WHERE model = \(bind: model) RETURNING model").all().isEmpty
    }

    static func list(on sql: any SQLDatabase) async throws -> [ModelSettingsRecord] {
        try await sql.raw("SELECT \(unsafeRaw: columns) FROM model_settings ORDER BY model").all().map(record(from:))
    }

    static func record(from row: any SQLRow) throws -> ModelSettingsRecord {
        ModelSettingsRecord(
            model: try row.string("model"),
            displayName: try row.optionalString("display_name"),
            aliases: try row.json("aliases", as: [String].self),
            enabled: try row.bool("enabled"),
            parameters: try row.json("parameters", as: [String: JSONValue].self),
            updatedAt: try row.date("updated_at")
        )
    }
}
