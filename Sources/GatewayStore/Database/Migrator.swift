import Logging
import SQLKit

/// Applies pending migrations inside one transaction that first takes a lock, so that several
/// instances starting at once apply each version exactly once:
/// - PostgreSQL: a transaction-scoped advisory lock keyed by the schema, released by COMMIT/ROLLBACK
///   (also when the process dies, as the connection closes).
/// - SQLite: `BEGIN IMMEDIATE`, the database write lock, taken before `schema_migrations` is read.
struct Migrator {
    let database: GatewayDatabase
    let migrations: [Migration]

    init(database: GatewayDatabase, migrations: [Migration] = Migration.all) {
        self.database = database
        self.migrations = migrations
    }

    /// Returns the versions applied by this call (empty when the schema was already current).
    func run() async throws -> [Int] {
        let engine = database.engine
        let schema: String? = {
            if case .postgres(_, let schema) = database.configuration.location { return schema }
            return nil
        }()
        let migrations = self.migrations
        let logger = database.logger

        let lockName = "ollama-gateway.migrations.\(schema ?? "default")"
        let applied = try await database.transaction(serializedBy: lockName) { db -> [Int] in
            // Only when missing: CREATE SCHEMA IF NOT EXISTS still demands the CREATE privilege on the
            // database, which a least-privilege role given a ready-made schema does not have.
            if engine == .postgres, let schema,
                try await db.raw("SELECT 1 AS present FROM pg_namespace WHERE nspname = \(bind: schema)").all().isEmpty
            {
                try await db.raw("CREATE SCHEMA \(ident: schema)").run()
            }
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """
            ).run()
            let done = Set(
                try await db.raw("SELECT version FROM schema_migrations").all().map {
                    try $0.decode(column: "version", as: Int.self)
                })
            let known = Set(migrations.map(\.version))
            if let unknown = done.subtracting(known).max() {
                logger.warning(
                    "database schema has a migration this gateway does not know; a newer version ran here",
                    metadata: ["store.schema_version": "\(unknown)"])
            }
            var appliedNow: [Int] = []
            let dialect = SchemaDialect(engine: engine)
            for migration in migrations.sorted(by: { $0.version < $1.version }) where !done.contains(migration.version) {
                for statement in migration.statements(dialect) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw(
                    """
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Timestamp.now()))
                    """
                ).run()
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
        if !applied.isEmpty {
            logger.info("applied schema migrations", metadata: ["store.versions": "\(applied)"])
        }
        return applied
    }
}
