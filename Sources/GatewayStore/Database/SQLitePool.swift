@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import SQLiteKit
import Synchronization

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
    let opened = OpenedConnections()

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        let pragmas = [
            "PRAGMA busy_timeout = \(busyTimeoutMilliseconds)",
            "PRAGMA foreign_keys = ON",
            "PRAGMA synchronous = NORMAL",
        ]
        // The opening counts until the connection is ready or closed again: its pragmas and a close
        // after a failure need the threads that shutting down stops.
        opened.beginOpening()
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
            .always { [opened] result in opened.endOpening(result) }
    }
}

/// `SQLiteDatabase` over a connection pool: each query borrows a connection; `withConnection` keeps one
/// for a whole closure (transactions).
struct PooledSQLiteDatabase: SQLiteDatabase {
    let pool: EventLoopGroupConnectionPool<GatewaySQLiteSource>
    let inFlight: OperationsInFlight
    let logger: Logger

    var eventLoop: any EventLoop { pool.eventLoopGroup.any() }

    func query(
        _ query: String,
        _ binds: [SQLiteData],
        logger: Logger,
        _ onRow: @escaping @Sendable (SQLiteRow) -> Void
    ) -> EventLoopFuture<Void> {
        counted { pool.withConnection(logger: logger) { $0.query(query, binds, logger: logger, onRow) } }
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
        counted { pool.withConnection(logger: logger) { closure($0) } }
    }

    func withConnection<T>(
        _ closure: @escaping @Sendable (SQLiteConnection) async throws -> T
    ) async throws -> T {
        let box = try await counted {
            pool.withConnection(logger: logger) { connection in
                connection.eventLoop.makeFutureWithTask { UncheckedBox(value: try await closure(connection)) }
            }
        }.get()
        return box.value
    }

    /// Every operation goes through here, so that shutting down can wait for it, and refuse those
    /// that come later: one let through while the pool shuts down could open a connection after the
    /// threads that close it are gone.
    private func counted<T>(_ operation: () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        guard inFlight.begin() else { return eventLoop.makeFailedFuture(StoreError.shutDown) }
        let done = operation()
        done.whenComplete { [inFlight] _ in inFlight.end() }
        return done
    }
}

/// Every connection the source opened, until the database shuts down: the connection pool closes
/// the connections it holds, but not one whose opening was still under way when it shut down (it
/// arrives later, when the threads that close SQLite handles may be gone). Shutting down waits for
/// the openings and closes what is still open before those threads stop.
final class OpenedConnections: Sendable {
    private let openings = OperationsInFlight()
    private let connections = Mutex<[SQLiteConnection]>([])

    func beginOpening() {
        openings.begin()
    }

    func endOpening(_ result: Result<SQLiteConnection, any Error>) {
        if case .success(let connection) = result {
            connections.withLock { connections in
                connections.removeAll { $0.isClosed }
                connections.append(connection)
            }
        }
        openings.end()
    }

    /// Waits for the openings under way, then closes every connection still open.
    func closeAll() async {
        await openings.drained()
        let opened = connections.withLock { connections in
            defer { connections = [] }
            return connections
        }
        for connection in opened where !connection.isClosed {
            try? await connection.close()
        }
    }
}

/// Counts the operations that hold or wait for a connection, so that shutting down can wait for them:
/// a connection handed back after the pool and its threads are gone could not be closed any more
/// (a leaked file handle, and an assertion failure in debug builds).
final class OperationsInFlight: Sendable {
    private struct State {
        var count = 0
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Counts an operation in; false once `close()` was called (the operation must not start).
    @discardableResult
    func begin() -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.count += 1
            return true
        }
    }

    /// Refuses new operations from now on, then waits for those under way.
    func close() async {
        state.withLock { $0.closed = true }
        await drained()
    }

    func end() {
        let waiters = state.withLock { state in
            state.count -= 1
            guard state.count == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once no operation is in flight.
    func drained() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { state in
                if state.count > 0 { state.waiters.append(continuation) }
                return state.count == 0
            }
            if idle { continuation.resume() }
        }
    }
}

/// Carries a closure result through `EventLoopFuture`, which requires `Sendable`, for the generic
/// `withConnection` requirement of `SQLiteDatabase` (its callers in this module only return Sendable values).
private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
}
