import Foundation
import GatewayAPI
import SQLKit

/// One runtime setting: a JSON value under a key such as `ollama.url` or `defaults.parameters`.
public struct SettingRecord: Sendable, Hashable, Codable {
    public var key: String
    public var value: JSONValue
    public var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case key, value
        case updatedAt = "updated_at"
    }
}

/// Gateway-wide settings changed at run time from the admin UI, shared by all instances.
public struct SettingsRepository: Sendable {
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.sql = database.sql
    }

    public func get(_ key: String) async throws -> SettingRecord? {
        try await sql.raw("SELECT key, value, updated_at FROM settings WHERE key = \(bind: key)")
            .all().first.map(Self.record(from:))
    }

    public func all() async throws -> [SettingRecord] {
        try await sql.raw("SELECT key, value, updated_at FROM settings ORDER BY key").all().map(Self.record(from:))
    }

    /// Insert or replace.
    @discardableResult
    public func set(_ key: String, to value: JSONValue, now: Date = Date()) async throws -> SettingRecord {
        guard !key.isEmpty else { throw StoreError.invalidArgument("a setting needs a key") }
        let rows = try await sql.raw(
            """
            INSERT INTO settings (key, value, updated_at)
            VALUES (\(bind: key), \(bind: try JSONText.encode(value)), \(bind: Timestamp.milliseconds(now)))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            RETURNING key, value, updated_at
            """
        ).all()
        guard let row = rows.first else { throw StoreError.corruptRow("settings upsert returned nothing") }
        return try Self.record(from: row)
    }

    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try await !sql.raw("DELETE FROM settings WHERE key = \(bind: key) RETURNING key").all().isEmpty
    }

    static func record(from row: any SQLRow) throws -> SettingRecord {
        SettingRecord(
            key: try row.string("key"),
            value: try row.json("value", as: JSONValue.self),
            updatedAt: try row.date("updated_at")
        )
    }
}
