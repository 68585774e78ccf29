import Foundation
import SQLKit

/// An Ollama server defined from the admin API, as stored (shared by every gateway instance).
public struct BackendRecord: Sendable, Hashable {
    public var name: String
    public var url: String
    /// A header sent with every request to it; its value is a secret the admin API never shows.
    public var authHeaderName: String?
    public var authHeaderValue: String?
    public var priority: Int
    public var weight: Int
    public var enabled: Bool
    /// The models it may serve; empty: all it has.
    public var models: [String]
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        name: String, url: String, authHeaderName: String? = nil, authHeaderValue: String? = nil, priority: Int = 0,
        weight: Int = 1, enabled: Bool = true, models: [String] = [], createdAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.name = name
        self.url = url
        self.authHeaderName = authHeaderName
        self.authHeaderValue = authHeaderValue
        self.priority = priority
        self.weight = weight
        self.enabled = enabled
        self.models = models
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

public struct BackendRepository: Sendable {
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.sql = database.sql
    }

    static let columns =
        "name, url, auth_header_name, auth_header_value, priority, weight, enabled, models, created_at, updated_at"

    public func list() async throws -> [BackendRecord] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM backends ORDER BY name").all().map(Self.record(from:))
    }

    public func get(_ name: String) async throws -> BackendRecord? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM backends WHERE name = \(bind: name)").all().first
            .map(Self.record(from:))
    }

    /// Adds a backend; `.conflict` when the name is taken.
    @discardableResult
    public func create(_ record: BackendRecord, now: Date = Date()) async throws -> BackendRecord {
        let rows = try await sql.raw(
            """
            INSERT INTO backends (\(unsafeRaw: Self.columns))
            VALUES (\(bind: record.name), \(bind: record.url), \(bind: record.authHeaderName), \(bind: record.authHeaderValue),
                \(bind: record.priority), \(bind: record.weight), \(bind: record.enabled), \(bind: try JSONText.encode(record.models)),
                \(bind: Timestamp.milliseconds(now)), \(bind: Timestamp.milliseconds(now)))
            ON CONFLICT (name) DO NOTHING
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard let row = rows.first else { throw StoreError.conflict("a backend named '\(record.name)' exists already") }
        return try Self.record(from: row)
    }

    /// Replaces a backend's definition (its name stays); nil when there is none by that name.
    public func update(_ record: BackendRecord, now: Date = Date()) async throws -> BackendRecord? {
        try await sql.raw(
            """
            UPDATE backends SET url = \(bind: record.url), auth_header_name = \(bind: record.authHeaderName),
                auth_header_value = \(bind: record.authHeaderValue), priority = \(bind: record.priority),
                weight = \(bind: record.weight), enabled = \(bind: record.enabled),
                models = \(bind: try JSONText.encode(record.models)), updated_at = \(bind: Timestamp.milliseconds(now))
            WHERE name = \(bind: record.name)
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all().first.map(Self.record(from:))
    }

    @discardableResult
    public func delete(_ name: String) async throws -> Bool {
        try await !sql.raw("DELETE FROM backends WHERE name = \(bind: name) RETURNING name").all().isEmpty
    }

    static func record(from row: any SQLRow) throws -> BackendRecord {
        BackendRecord(
            name: try row.string("name"), url: try row.string("url"),
            authHeaderName: try row.optionalString("auth_header_name"),
            authHeaderValue: try row.optionalString("auth_header_value"),
            priority: try row.int("priority"), weight: try row.int("weight"), enabled: try row.bool("enabled"),
            models: try row.json("models", as: [String].self),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
