@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import SQLiteKit

/// Opens SQLite connections with the settings every connection of the gateway needs.
///
/// sqlite-nio installs a busy handler that retries forever (spinning a worker thread); `busy_timeout`
/// replaces it with SQLite's sleeping handler bounded by `StoreConfiguration.sqliteBusyTimeout`.
/// `synchronous = NORMAL` is the recommended durability level in WAL mode (a power cut can lose the
/// last transactions, never corrupt the file).
struct GatewaySQLiteSource: ConnectionPoolSource {
    let path: String
    let threadPool: NIOThreadPool
    let busyTimeoutMilliseconds: Int64

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        let pragmas = [
            "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
        ]
        return SQLiteConnection.open(storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop)
            .flatMap { connection in
                eventLoop.makeFutureWithTask {
                    do {
                        for pragma in pragmas {
                            _ = try await connection.query(pragma, [])
                        }
                        return connection
                    } catch {
                        try? await connection.close()  // the open error matters, not a failed close
                        throw error
                    }
                }
            }
    }
}

/// `SQLiteDatabase` over a connection pool: each query borrows a connection; `withConnection` keeps one
/// for a whole closure (transactions).
struct PooledSQLiteDatabase: SQLiteDatabase {
    let pool: EventLoopGroupConnectionPool<GatewaySQLiteSource>
    let logger: Logger

    var eventLoop: any EventLoop { pool.eventLoopGroup.any() }

    func query(
        _ query: String,
        _ binds: [SQLiteData],
        logger: Logger,
        _ onRow: @escaping @Sendable (SQLiteRow) -> Void
    ) -> EventLoopFuture<Void> {
        pool.withConnection(logger: logger) { $0.query(query, binds, logger: logger, onRow) }
    }

    func query(
        _ query: String,
        _ binds: [SQLiteData],
        _ onRow: @escaping @Sendable (SQLiteRow) -> Void
    ) async throws {
        try await self.query(query, binds, logger: logger, onRow).get()
    }

    func withConnection<T>(
        _ closure: @escaping @Sendable (SQLiteConnection) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        pool.withConnection(logger: logger) { closure($0) }
    }

    func withConnection<T>(
        _ closure: @escaping @Sendable (SQLiteConnection) async throws -> T
    ) async throws -> T {
        let box = try await pool.withConnection(logger: logger) { connection in
            connection.eventLoop.makeFutureWithTask { UncheckedBox(value: try await closure(connection)) }
        }.get()
        return box.value
    }
}

/// Carries a closure result through `EventLoopFuture`, which requires `Sendable`, for the generic
/// `withConnection` requirement of `SQLiteDatabase` (its callers in this module only return Sendable values).
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
}
