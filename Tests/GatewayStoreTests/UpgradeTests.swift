import Foundation
import GatewayStore
import Logging
import SQLKit
import Testing

/// A database written by the previous release (Fixtures/schema-v2.sql, made by
/// scripts/make-upgrade-fixture.py with that release's binary) opens in this one: the migrations run,
/// and every key, usage record, setting, session and audit entry is still there and still works.
/// When a migration is added, this is the test that says the upgrade keeps everything; the next
/// release adds its own fixture beside this one.
@Suite struct UpgradeTests {
    struct FixtureFacts: Decodable {
        var activeKey: String
        var limitedKey: String
        var adminPassword: String
        var rowCounts: [String: Int]
    }

    static func fixture(_ name: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil), "missing fixture \(name)")
    }

    /// Loads the SQL dump into a new SQLite file in `directory`, without the gateway's migrations.
    static func load(dump: URL, into directory: String) async throws {
        let sql = try String(contentsOf: dump, encoding: .utf8)
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: directory), migrate: false, logger: quiet)
        do {
            try await database.transaction { db in
                for statement in statements(sql) where !["BEGIN TRANSACTION", "COMMIT"].contains(statement) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
            }
        } catch {
            try? await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }

    /// The statements of an SQL dump: split at semicolons outside quoted strings and identifiers.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
                continue
            }
            current.append(character)
        }
        return statements
    }

    static let quiet: Logger = {
        var logger = Logger(label: "gateway.store.upgrade-tests")
        logger.logLevel = .error
        return logger
    }()

    static func rowCounts(_ database: GatewayDatabase) async throws -> [String: Int] {
        let tables = try await database.sql.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).all().map { try $0.decode(column: "name", as: String.self) }
        var counts: [String: Int] = [:]
        for table in tables {
            counts[table] = try await database.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").all()
                .first?.decode(column: "n", as: Int.self)
        }
        return counts
    }

    @Test func theSplitterKeepsSemicolonsInsideStrings() {
        #expect(
            Self.statements("INSERT INTO t VALUES('a;b');\nINSERT INTO \"x;y\" VALUES('it''s; fine');")
                == ["INSERT INTO t VALUES('a;b')", "INSERT INTO \"x;y\" VALUES('it''s; fine')"])
    }

    @Test func aVersion2DatabaseUpgradesWithNothingLost() async throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let facts = try decoder.decode(FixtureFacts.self, from: Data(contentsOf: try Self.fixture("schema-v2.secrets.json")))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-upgrade-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.load(dump: try Self.fixture("schema-v2.sql"), into: directory)

        // Opened as the gateway opens it: migrations run.
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: directory), logger: Self.quiet)
        do {
            let counts = try await Self.rowCounts(database)
            for (table, count) in facts.rowCounts {
                // schema_migrations gains a row per migration added since; every other table keeps its rows.
                if table == "schema_migrations" {
                    #expect((counts[table] ?? 0) >= count, "\(table)")
                } else {
                    #expect(counts[table] == count, "\(table): \(counts[table] ?? -1) rows, the fixture had \(count)")
                }
            }
            let store = testStore(database)

            // The keys still authenticate, with their limits; the revoked one stays revoked.
            let active = try #require(try await store.apiKeys.find(secret: facts.activeKey))
            #expect(active.name == "fixture-active")
            #expect(active.tokensUsed > 0)
            let limited = try #require(try await store.apiKeys.find(secret: facts.limitedKey))
            #expect(limited.allowedModels == ["sim-chat*"])
            #expect(limited.limits.requestsPerMinute == 60 && limited.limits.tokensPerMinute == 100_000)
            #expect(limited.limits.tokenQuota == 5_000_000 && limited.limits.maxConcurrentRequests == 3)
            #expect(limited.expiresAt != nil)
            let all = try await store.apiKeys.list(includeRevoked: true)
            #expect(all.count == 3)
            #expect(all.first { $0.name == "fixture-revoked" }?.status() == .revoked)

            // The admin signs in with the same password; settings and model settings are as saved.
            #expect(try await store.adminAccounts.verify(username: "admin", password: facts.adminPassword) != nil)
            #expect(try await store.settings.get("reasoning.format")?.value == .string("both"))
            let saved = try await database.sql.raw("SELECT aliases FROM model_settings").all()
                .map { try $0.decode(column: "aliases", as: String.self) }
            #expect(saved == [#"["fixture-alias"]"#])

            // Usage: every request record, summed per key as the key counters say.
            let usage = try await database.sql.raw(
                "SELECT key_id, SUM(prompt_tokens + completion_tokens) AS tokens FROM usage_log GROUP BY key_id"
            ).all()
            let perKey = try Dictionary(uniqueKeysWithValues: usage.map {
                (try $0.decode(column: "key_id", as: String?.self) ?? "-", try $0.decode(column: "tokens", as: Int.self))
            })
            #expect(perKey[active.id] == active.tokensUsed)
            #expect(perKey[limited.id] == limited.tokensUsed)
        } catch {
            try? await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }
}
