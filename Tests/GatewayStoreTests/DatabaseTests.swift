import Foundation
import SQLKit
import Testing

@testable import GatewayStore

@Suite("Database and migrations")
struct DatabaseTests {
    @Test("migrations are idempotent", arguments: TestEngine.available)
    func migrationsTwice(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            // `open` migrated already: a second and third run apply nothing.
            #expect(try await database.migrate() == [])
            #expect(try await database.migrate() == [])
            let versions = try await database.sql.raw("SELECT version FROM schema_migrations ORDER BY version")
                .all().map { try $0.decode(column: "version", as: Int.self) }
            #expect(versions == Migration.all.map(\.version))
        }
    }

    @Test("concurrent start-ups apply each migration once", arguments: TestEngine.available)
    func migrationsConcurrently(engine: TestEngine) async throws {
        try await withTestLocation(engine) { open in
            let instances = try await withThrowingTaskGroup(of: GatewayDatabase.self) { group in
                for _ in 0..<4 { group.addTask { try await open(false) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for instance in instances { group.addTask { try await instance.migrate() } }
                return try await group.reduce(into: []) { $0.append(contentsOf: $1) }
            }
            #expect(applied.sorted() == Migration.all.map(\.version))
            let count = try await instances[0].sql.raw("SELECT COUNT(*) AS n FROM schema_migrations")
                .all().first?.decode(column: "n", as: Int.self)
            #expect(count == Migration.all.count)
        }
    }

    @Test("shutting down while queries run and connections open leaves no connection unclosed")
    func shutdownUnderLoad() async throws {
        // A connection handed back, or opened, after the pool's threads stopped could not be closed:
        // sqlite-nio asserts on it in debug builds, so this test would crash the test process.
        for _ in 0..<10 {
            try await withTestLocation(.sqlite) { open in
                let database = try await open(true)
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 { group.addTask { _ = try? await database.sql.raw("SELECT 1").all() } }
                    group.addTask { try? await database.shutdown() }
                }
                await #expect(throws: (any Error).self) { try await database.sql.raw("SELECT 1").all() }
            }
        }
    }

    @Test("a database released without shutdown closes itself instead of trapping")
    func releasedWithoutShutdown() async throws {
        // async-kit's pool asserts it was shut down when it deinitializes: before the database
        // closed itself on release, this test ended the test process in debug builds.
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gateway-store-tests-\(UUID().uuidString)", isDirectory: true)
        defer { _ = try? FileManager.default.removeItem(at: directory) }
        do {
            let database = try await GatewayDatabase.open(.sqlite(dataDirectory: directory.path))
            _ = try await database.sql.raw("SELECT 1").all()
        }
        // The closing runs in the background; give it its moment, then open the file again.
        try await Task.sleep(for: .milliseconds(200))
        let again = try await GatewayDatabase.open(.sqlite(dataDirectory: directory.path))
        _ = try await again.sql.raw("SELECT 1").all()
        try await again.shutdown()
    }

    @Test("SQLite file: created with mode 0600 in a new directory, WAL journal")
    func sqliteFile() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("gateway-store-tests-\(UUID().uuidString)/nested/data", isDirectory: true)
        defer { _ = try? FileManager.default.removeItem(at: directory.deletingLastPathComponent().deletingLastPathComponent()) }
        let configuration = StoreConfiguration.sqlite(dataDirectory: directory.path)
        let database = try await GatewayDatabase.open(configuration)
        let path = try #require(configuration.sqliteFilePath)
        #expect(path.hasSuffix("/nested/data/gateway.sqlite"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let directoryAttributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((directoryAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        let mode = try await database.sql.raw("PRAGMA journal_mode").all().first?
            .decode(column: "journal_mode", as: String.self)
        #expect(mode == "wal")
        let timeout = try await database.sql.raw("PRAGMA busy_timeout").all().first?
            .decode(column: "timeout", as: Int.self)
        #expect(timeout == 30_000)
        try await database.shutdown()
        try await database.shutdown()  // a second call is harmless
    }

    @Test("the SQLite bundled with sqlite-nio supports RETURNING and upserts")
    func sqliteVersion() async throws {
        try await withTestDatabase(.sqlite) { database in
            let version = try #require(
                try await database.sql.raw("SELECT sqlite_version() AS v").all().first?.decode(column: "v", as: String.self))
            let parts = version.split(separator: ".").compactMap { Int($0) }
            #expect(parts.count >= 2)
            #expect(parts[0] > 3 || (parts[0] == 3 && parts[1] >= 35), "SQLite \(version) lacks RETURNING")
        }
    }

    @Test("a failing transaction leaves nothing behind", arguments: TestEngine.available)
    func transactionRollback(engine: TestEngine) async throws {
        struct Planned: Error {}
        try await withTestDatabase(engine) { database in
            await #expect(throws: Planned.self) {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO settings (key, value, updated_at) VALUES ('a', '1', 0)").run()
                    throw Planned()
                }
            }
            let store = testStore(database)
            #expect(try await store.settings.get("a") == nil)
            let committed = try await database.transaction { db in
                try await db.raw("INSERT INTO settings (key, value, updated_at) VALUES ('b', '2', 0)").run()
                return 7
            }
            #expect(committed == 7)
            #expect(try await store.settings.get("b")?.value == .int(2))
        }
    }
}

@Suite("Store configuration")
struct StoreConfigurationTests {
    @Test func databaseURLSelectsPostgres() throws {
        let sqlite = try StoreConfiguration(dataDirectory: "/var/lib/gw", databaseURL: nil)
        #expect(sqlite.engine == .sqlite)
        #expect(sqlite.sqliteFilePath == "/var/lib/gw/gateway.sqlite")
        #expect(try StoreConfiguration(dataDirectory: "/d", databaseURL: "  ").engine == .sqlite)

        let postgres = try StoreConfiguration(
            dataDirectory: "/d", databaseURL: "postgres://gw:s3cret@db.internal:5433/gateway?sslmode=disable")
        #expect(postgres.engine == .postgres)
        #expect(postgres.maxConnections == 10)
        #expect(!postgres.redactedDescription.contains("s3cret"))
        #expect(postgres.redactedDescription.contains("db.internal:5433"))
    }

    @Test func schemaFromURL() throws {
        let configuration = try StoreConfiguration.postgres(url: "postgresql://gw@localhost/gw?schema=tenant_a")
        #expect(configuration.location == .postgres(url: "postgresql://gw@localhost/gw?schema=tenant_a", schema: "tenant_a"))
    }

    @Test func rejectsBadURLs() {
        #expect(throws: StoreError.self) { try StoreConfiguration.postgres(url: "mysql://u@h/db") }
        #expect(throws: StoreError.self) { try StoreConfiguration.postgres(url: "postgres:///db") }
        #expect(throws: StoreError.self) { try StoreConfiguration.postgres(url: "postgres://host/db") }
        #expect(throws: StoreError.self) { try StoreConfiguration.postgres(url: "postgres://u@h/db", schema: "x; DROP") }
    }

    @Test func unknownSSLModeIsAConfigurationError() async throws {
        let configuration = try StoreConfiguration.postgres(url: "postgres://u@127.0.0.1:1/db?sslmode=bogus")
        await #expect(throws: StoreError.self) { try await GatewayDatabase.open(configuration) }
    }
}
