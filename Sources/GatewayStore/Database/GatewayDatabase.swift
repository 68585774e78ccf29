@preconcurrency import AsyncKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLiteKit
import Synchronization

/// The open database of the gateway: picks the engine from a `StoreConfiguration`, owns the connection
/// pool (and, for SQLite, the worker threads that run SQLite's blocking calls) and exposes one SQLKit
/// `SQLDatabase` that every repository uses, whatever the engine.
///
/// Call `shutdown()` once when done; it closes every connection.
public final class GatewayDatabase: Sendable {
    public let configuration: StoreConfiguration
    public var engine: StoreConfiguration.Engine { configuration.engine }
    /// Pooled: each statement borrows a connection. Use `transaction(_:)` for several statements that
    /// must see one connection.
    public let sql: any SQLDatabase
    let logger: Logger
    private let resources: Resources
    private let isShutDown = Mutex(false)

    private enum Resources: @unchecked Sendable {
        // The pools synchronise internally (a lock, and event-loop confinement per loop); async-kit
        // predates Sendable annotations, hence the unchecked conformance.
        case sqlite(EventLoopGroupConnectionPool<GatewaySQLiteSource>, NIOThreadPool, OperationsInFlight)
        case postgres(EventLoopGroupConnectionPool<PostgresConnectionSource>)
    }

    private init(configuration: StoreConfiguration, sql: any SQLDatabase, logger: Logger, resources: Resources) {
        self.configuration = configuration
        self.sql = sql
        self.logger = logger
        self.resources = resources
    }

    /// Opens the database and, unless `migrate` is false, brings its schema up to date.
    public static func open(
        _ configuration: StoreConfiguration,
        migrate: Bool = true,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "gateway.store")
    ) async throws -> GatewayDatabase {
        let database: GatewayDatabase
        switch configuration.location {
        case .sqlite(let directory):
            database = try await openSQLite(
                configuration: configuration, directory: directory, eventLoopGroup: eventLoopGroup, logger: logger)
        case .postgres(let url, let schema):
            database = try openPostgres(
                configuration: configuration, url: url, schema: schema, eventLoopGroup: eventLoopGroup, logger: logger)
        }
        if migrate {
            do {
                try await database.migrate()
            } catch {
                try await database.shutdown()
                throw error
            }
        }
        return database
    }

    /// Applies the migrations this gateway knows and the database lacks. Safe to call repeatedly and
    /// from several processes at once.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await Migrator(database: self).run()
    }

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled back when it
    /// throws. On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`), so two writers
    /// queue on the busy timeout instead of failing on a lock upgrade.
    ///
    /// With `serializedBy`, transactions naming the same lock run one after the other on PostgreSQL too
    /// (a transaction-scoped advisory lock), for read-check-write sequences that READ COMMITTED would
    /// otherwise let interleave. SQLite's write lock already serialises every writing transaction.
    public func transaction<Result: Sendable>(
        serializedBy lockName: String? = nil,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let engine = self.engine
        let begin = engine == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        return try await withConnection { connection in
            try await connection.raw(SQLQueryString(begin)).run()
            let result: Result
            do {
                if engine == .postgres, let lockName {
                    try await connection.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: lockName)))").run()
                }
                result = try await body(connection)
            } catch {
                do {
                    try await connection.raw("ROLLBACK").run()
                } catch let rollbackError {
                    connection.logger.error(
                        "rollback failed", metadata: ["store.error": "\(String(reflecting: rollbackError))"])
                }
                throw error
            }
            try await connection.raw("COMMIT").run()
            return result
        }
    }

    /// Runs `body` with one connection held for its whole duration. Implemented per engine rather than
    /// through `SQLDatabase.withSession`, whose PostgreSQL override (constrained to Sendable results) is
    /// not the protocol's witness and would be bypassed through `any SQLDatabase`, silently spreading a
    /// transaction over several pooled connections.
    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        let level = configuration.queryLogLevel
        switch resources {
        case .sqlite(let pool, _, let inFlight):
            return try await PooledSQLiteDatabase(pool: pool, inFlight: inFlight, logger: logger).withConnection { connection in
                try await body(connection.sql(queryLogLevel: level))
            }
        case .postgres(let pool):
            return try await pool.withConnection(logger: logger) { connection in
                connection.eventLoop.makeFutureWithTask {
                    try await body(connection.sql(queryLogLevel: level))
                }
            }.get()
        }
    }

    /// A database dropped without `shutdown()` (a caller that threw on its way out) still closes its
    /// connections, in the background: async-kit's pool traps in debug builds when it deinitializes
    /// open, which turned one failing test into the end of the whole test process.
    deinit {
        guard !isShutDown.withLock({ $0 }) else { return }
        logger.warning("The database was released without being shut down; closing its connections now")
        switch resources {
        case .sqlite(let pool, let threadPool, _):
            // The callback holds the pool until its connections are closed, then stops the threads.
            pool.shutdownGracefully { _ in
                withExtendedLifetime(pool) { threadPool.shutdownGracefully { _ in } }
            }
        case .postgres(let pool):
            pool.shutdownGracefully { _ in withExtendedLifetime(pool) {} }
        }
    }

    /// Closes all connections. Further use of `sql` fails.
    public func shutdown() async throws {
        let alreadyDone = isShutDown.withLock { done in
            defer { done = true }
            return done
        }
        guard !alreadyDone else { return }
        switch resources {
        case .sqlite(let pool, let threadPool, let inFlight):
            // Queries still running (a caller that did not wait for them) finish first: their
            // connections must come back while the threads that close them are still there. No
            // new query starts from here on.
            await inFlight.close()
            // A connection is handed back to the pool on the pool's event loop, after its operation
            // ended; one handed back after the pool closed is closed without anyone waiting. Let the
            // hand-backs run first, and let every close they queued start before the threads stop
            // (a close still queued then would be dropped with its connection unclosed).
            let loop = pool.eventLoopGroup.next()
            try? await loop.submit {}.get()
            try await pool.shutdownAsync()
            await pool.source.opened.closeAll()
            try? await loop.submit {}.get()
            _ = try? await threadPool.runIfActive {}
            try await threadPool.shutdownGracefully()
        case .postgres(let pool):
            try await pool.shutdownAsync()
        }
    }

    // MARK: - Engines

    private static func openSQLite(
        configuration: StoreConfiguration,
        directory: String,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) async throws -> GatewayDatabase {
        guard let path = configuration.sqliteFilePath else {
            throw StoreError.invalidConfiguration("no SQLite path")
        }
        try prepareSQLiteFile(directory: directory, path: path)

        let threadPool = NIOThreadPool(numberOfThreads: configuration.maxConnections)
        threadPool.start()
        let busyMilliseconds = configuration.sqliteBusyTimeout.components.seconds * 1000
            + configuration.sqliteBusyTimeout.components.attoseconds / 1_000_000_000_000_000
        let source = GatewaySQLiteSource(path: path, threadPool: threadPool, busyTimeoutMilliseconds: busyMilliseconds)
        // One event loop: the pool then holds exactly `maxConnections` connections, which matches the
        // number of worker threads.
        let pool = EventLoopGroupConnectionPool(
            source: source,
            maxConnectionsPerEventLoop: configuration.maxConnections,
            requestTimeout: .seconds(30),
            logger: logger,
            on: eventLoopGroup.next()
        )
        let inFlight = OperationsInFlight()
        let sql = PooledSQLiteDatabase(pool: pool, inFlight: inFlight, logger: logger)
            .sql(queryLogLevel: configuration.queryLogLevel)
        let database = GatewayDatabase(
            configuration: configuration, sql: sql, logger: logger, resources: .sqlite(pool, threadPool, inFlight))
        do {
            // WAL lets readers run while one connection writes; the mode is stored in the file.
            let rows = try await switchToWAL(sql)
            let mode = try rows.first?.decode(column: "journal_mode", as: String.self)
            guard mode?.lowercased() == "wal" else {
                throw StoreError.invalidConfiguration("SQLite refused WAL journal mode (got \(mode ?? "nothing"))")
            }
        } catch {
            try await database.shutdown()
            throw error
        }
        logger.debug("opened SQLite store", metadata: ["store.path": "\(path)"])
        return database
    }

    /// `PRAGMA journal_mode = WAL`. Instances that open a new file at the same moment race to switch
    /// it, and SQLite answers the losers SQLITE_BUSY at once instead of through the busy handler;
    /// the winner's mode is then stored in the file, so asking again shortly after succeeds.
    private static func switchToWAL(_ sql: any SQLDatabase) async throws -> [any SQLRow] {
        var attempts = 0
        while true {
            do {
                return try await sql.raw("PRAGMA journal_mode = WAL").all()
            } catch let error as SQLiteError where error.reason == .busy && attempts < 100 {
                attempts += 1
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Creates the data directory (0700) and the database file (0600) so that neither is ever readable by
    /// other users, not even for the moment before SQLite would create the file with the umask's mode.
    static func prepareSQLiteFile(directory: String, path: String) throws {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        if !fileManager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            try fileManager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } else if !isDirectory.boolValue {
            throw StoreError.invalidConfiguration("data directory \(directory) is not a directory")
        }
        let descriptor = openCreatingFile(path, mode: 0o600)
        guard descriptor >= 0 else {
            throw StoreError.invalidConfiguration(
                "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { _ = closeFile(descriptor) }
        // An existing file keeps its owner but loses any group/other access it had.
        guard fchmod(descriptor, 0o600) == 0 else {
            throw StoreError.invalidConfiguration(
                "cannot set mode 0600 on \(path): \(String(cString: strerror(errno)))")
        }
    }

    private static func openPostgres(
        configuration: StoreConfiguration,
        url: String,
        schema: String?,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) throws -> GatewayDatabase {
        var postgres: SQLPostgresConfiguration
        do {
            postgres = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StoreError.invalidConfiguration(
                "cannot parse DATABASE_URL \(configuration.redactedDescription): check sslmode (disable, prefer, require)")
        }
        if let schema {
            postgres.searchPath = [schema]
        }
        let loops = eventLoopGroup.makeIterator().reduce(0) { count, _ in count + 1 }
        let perLoop = max(1, (configuration.maxConnections + loops - 1) / max(1, loops))
        let pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: postgres),
            maxConnectionsPerEventLoop: perLoop,
            requestTimeout: .seconds(30),
            pruneInterval: .seconds(60),
            logger: logger,
            on: eventLoopGroup
        )
        let sql = pool.database(logger: logger).sql(queryLogLevel: configuration.queryLogLevel)
        logger.debug("opened PostgreSQL store", metadata: ["store.url": "\(configuration.redactedDescription)"])
        return GatewayDatabase(configuration: configuration, sql: sql, logger: logger, resources: .postgres(pool))
    }
}

// Free functions, because inside `GatewayDatabase` the name `open` means its own static method.
#if canImport(Glibc)
import Glibc
private func openCreatingFile(_ path: String, mode: mode_t) -> Int32 { Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode) }
private func closeFile(_ descriptor: Int32) -> Int32 { Glibc.close(descriptor) }
#elseif canImport(Musl)
import Musl
private func openCreatingFile(_ path: String, mode: mode_t) -> Int32 { Musl.open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode) }
private func closeFile(_ descriptor: Int32) -> Int32 { Musl.close(descriptor) }
#elseif canImport(Darwin)
import Darwin
private func openCreatingFile(_ path: String, mode: mode_t) -> Int32 { Darwin.open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode) }
private func closeFile(_ descriptor: Int32) -> Int32 { Darwin.close(descriptor) }
#endif
