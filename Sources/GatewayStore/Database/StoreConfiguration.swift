import Foundation
import Logging

/// Where the gateway keeps its state: an SQLite file in the data directory (the default, nothing to
/// install) or a PostgreSQL database shared by several gateway instances.
public struct StoreConfiguration: Sendable, Hashable, CustomStringConvertible {
    public enum Engine: String, Sendable, Hashable, Codable {
        case sqlite
        case postgres
    }

    public enum Location: Sendable, Hashable {
        /// `<dataDirectory>/gateway.sqlite`; the directory is created when missing.
        case sqlite(dataDirectory: String)
        /// A `postgres://user:password@host:port/database?sslmode=disable` URL, optionally with a schema
        /// (also accepted as a `schema=` query item) that is put first on the `search_path`.
        case postgres(url: String, schema: String?)
    }

    public static let sqliteFileName = "gateway.sqlite"

    public var location: Location
    /// Upper bound of open connections held by this process. SQLite also gets one worker thread per
    /// connection, so a connection waiting for the write lock can never starve the one holding it.
    public var maxConnections: Int
    /// How long an SQLite statement waits for another connection's write lock before failing.
    public var sqliteBusyTimeout: Duration
    /// Query logging level; `nil` (the default) logs no SQL, because binds carry hashes of secrets.
    public var queryLogLevel: Logger.Level?

    public init(
        location: Location,
        maxConnections: Int? = nil,
        sqliteBusyTimeout: Duration = .seconds(30),
        queryLogLevel: Logger.Level? = nil
    ) {
        self.location = location
        switch location {
        case .sqlite: self.maxConnections = max(1, maxConnections ?? 4)
        case .postgres: self.maxConnections = max(1, maxConnections ?? 10)
        }
        self.sqliteBusyTimeout = sqliteBusyTimeout
        self.queryLogLevel = queryLogLevel
    }

    /// The start-up rule: `DATABASE_URL` (when set and not empty) selects PostgreSQL, otherwise SQLite
    /// in `DATA_DIR`.
    public init(dataDirectory: String, databaseURL: String?, maxConnections: Int? = nil) throws {
        if let databaseURL, !databaseURL.trimmingCharacters(in: .whitespaces).isEmpty {
            try self.init(location: Self.postgresLocation(url: databaseURL), maxConnections: maxConnections)
        } else {
            self.init(location: .sqlite(dataDirectory: dataDirectory), maxConnections: maxConnections)
        }
    }

    public static func sqlite(dataDirectory: String) -> StoreConfiguration {
        StoreConfiguration(location: .sqlite(dataDirectory: dataDirectory))
    }

    public static func postgres(url: String, schema: String? = nil) throws -> StoreConfiguration {
        var location = try postgresLocation(url: url)
        if let schema, case .postgres(let url, _) = location {
            try Self.validateSchemaName(schema)
            location = .postgres(url: url, schema: schema)
        }
        return StoreConfiguration(location: location)
    }

    public var engine: Engine {
        switch location {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// The SQLite file path, for `.sqlite` locations.
    public var sqliteFilePath: String? {
        guard case .sqlite(let directory) = location else { return nil }
        return URL(fileURLWithPath: directory, isDirectory: true)
            .appendingPathComponent(Self.sqliteFileName, isDirectory: false).path
    }

    /// Never the password of a PostgreSQL URL: libraries print the values they are handed.
    public var description: String { redactedDescription }

    /// A description safe to log: the password of a PostgreSQL URL is masked.
    public var redactedDescription: String {
        switch location {
        case .sqlite: return "sqlite:\(sqliteFilePath ?? "")"
        case .postgres(let url, let schema):
            var text = url
            if var components = URLComponents(string: url), components.password != nil {
                components.password = "****"
                text = components.string ?? "postgres://(unparseable)"
            }
            return schema.map { "\(text) (schema \($0))" } ?? text
        }
    }

    static func postgresLocation(url: String) throws -> Location {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(),
            ["postgres", "postgresql"].contains(scheme)
        else {
            throw StoreError.invalidConfiguration("DATABASE_URL must be a postgres:// or postgresql:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError.invalidConfiguration("DATABASE_URL has no host")
        }
        guard components.user != nil else {
            throw StoreError.invalidConfiguration("DATABASE_URL has no user name")
        }
        let schema = components.queryItems?.last(where: { $0.name == "schema" })?.value
        if let schema { try validateSchemaName(schema) }
        return .postgres(url: url, schema: schema)
    }

    static func validateSchemaName(_ schema: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789_")
        guard !schema.isEmpty, schema.count <= 63, schema.allSatisfy({ allowed.contains($0) }),
            !(schema.first?.isNumber ?? true)
        else {
            throw StoreError.invalidConfiguration(
                "schema name must be lower-case letters, digits and underscores: \(schema)")
        }
    }
}
