import Foundation
import GatewayStore
import Logging
import SQLKit
import Testing

/// The engines a test runs against. SQLite always; PostgreSQL when `TEST_DATABASE_URL` is set, or
/// when `REQUIRE_POSTGRES=1` (then a missing URL fails the PostgreSQL variants instead of dropping them).
enum TestEngine: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var available: [TestEngine] {
        let environment = ProcessInfo.processInfo.environment
        let hasURL = !(environment["TEST_DATABASE_URL"] ?? "").isEmpty
        let required = environment["REQUIRE_POSTGRES"] == "1"
        return hasURL || required ? [.sqlite, .postgres] : [.sqlite]
    }

    var testDescription: String { rawValue }
}

struct PostgresUnavailable: Error, CustomStringConvertible {
    var description: String {
        "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set; run scripts/postgres-test-server.sh start"
    }
}

/// A fresh, isolated database: a new temporary directory for SQLite, a new schema for PostgreSQL
/// (dropped afterwards), so that tests and concurrent runs never see each other's rows.
struct TestDatabaseLocation: Sendable {
    let engine: TestEngine
    let configuration: StoreConfiguration
    private let cleanup: @Sendable () async throws -> Void

    static func make(_ engine: TestEngine) throws -> TestDatabaseLocation {
        switch engine {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("gateway-store-tests-\(UUID().uuidString)", isDirectory: true)
            return TestDatabaseLocation(
                engine: engine,
                configuration: StoreConfiguration(location: .sqlite(dataDirectory: directory.path)),
                cleanup: { try FileManager.default.removeItem(at: directory) }
            )
        case .postgres:
            guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
                throw PostgresUnavailable()
            }
            let schema = "gwtest_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            var configuration = try StoreConfiguration.postgres(url: url, schema: schema)
            configuration.maxConnections = 8
            let dropConfiguration = try StoreConfiguration.postgres(url: url)
            return TestDatabaseLocation(
                engine: engine,
                configuration: configuration,
                cleanup: {
                    let database = try await GatewayDatabase.open(dropConfiguration, migrate: false)
                    do {
                        try await database.sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run()
                    } catch {
                        try await database.shutdown()
                        throw error
                    }
                    try await database.shutdown()
                }
            )
        }
    }

    func open(migrate: Bool = true) async throws -> GatewayDatabase {
        var logger = Logger(label: "gateway.store.tests")
        logger.logLevel = .warning
        return try await GatewayDatabase.open(configuration, migrate: migrate, logger: logger)
    }

    func remove() async throws {
        try await cleanup()
    }
}

/// Opens a fresh migrated database, runs `body`, then shuts it down and removes it, also when `body`
/// throws.
func withTestDatabase<Result>(
    _ engine: TestEngine,
    _ body: (GatewayDatabase) async throws -> Result
) async throws -> Result {
    let location = try TestDatabaseLocation.make(engine)
    let database: GatewayDatabase
    do {
        database = try await location.open()
    } catch {
        try await location.remove()
        throw error
    }
    let result: Result
    do {
        result = try await body(database)
    } catch {
        try await database.shutdown()
        try await location.remove()
        throw error
    }
    try await database.shutdown()
    try await location.remove()
    return result
}

/// The store with the cheapest bcrypt cost, so that password tests stay fast.
func testStore(_ database: GatewayDatabase, sessionPolicy: SessionPolicy = SessionPolicy()) -> GatewayStore {
    GatewayStore(database: database, passwordHasher: PasswordHasher(cost: 4), sessionPolicy: sessionPolicy)
}

/// A fixed instant with whole milliseconds, as the store keeps times.
let referenceTime = Date(timeIntervalSince1970: 1_800_000_000)

/// Several instances on one fresh location (as several gateway processes, or one restarted): every
/// instance `open` hands out is shut down at the end, also when `body` throws, and the location removed.
func withTestLocation<Result>(
    _ engine: TestEngine,
    _ body: (_ open: @escaping @Sendable (_ migrate: Bool) async throws -> GatewayDatabase) async throws -> Result
) async throws -> Result {
    let location = try TestDatabaseLocation.make(engine)
    let opened = OpenedDatabases()
    let open: @Sendable (Bool) async throws -> GatewayDatabase = { migrate in
        let database = try await location.open(migrate: migrate)
        await opened.add(database)
        return database
    }
    let result: Result
    do {
        result = try await body(open)
    } catch {
        try await opened.shutdownAll()
        try await location.remove()
        throw error
    }
    try await opened.shutdownAll()
    try await location.remove()
    return result
}

actor OpenedDatabases {
    private var databases: [GatewayDatabase] = []

    func add(_ database: GatewayDatabase) {
        databases.append(database)
    }

    /// `shutdown` is idempotent, so instances a test closed itself are fine here.
    func shutdownAll() async throws {
        for database in databases { try await database.shutdown() }
        databases = []
    }
}
