import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The deadline of a graceful shutdown. The server stops accepting connections and waits for the
/// requests under way; once `timeout` has passed since the shutdown began, every request still
/// running (a long stream, a stalled model) ends with `error` in its API's format — the last event of
/// a stream — and is accounted as cancelled, so the process exits in bounded time.
///
/// Requests reach the drain through `ShutdownDrain.current`, bound for every request by
/// `ServerGuard`; `withDeadlines` and the stream relay (`StreamRelay`) watch it beside their own timers.
public final class ShutdownDrain: Sendable {
    struct State {
        var draining = false
        var expired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var cancelledBeforeWaiting: Set<Int> = []
    }

    let timeout: Duration
    let logger: Logger
    private let state = Mutex(State())

    /// The code of the error that ends requests at the deadline; the usage record says cancelled.
    static let errorCode = "shutting_down"

    static let error = GatewayError(
        .overloaded, "The gateway is shutting down and ended this request at its drain deadline; retry it.",
        code: errorCode)

    @TaskLocal static var current: ShutdownDrain?

    public init(timeout: Duration, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    /// Starts the deadline (once; later calls do nothing).
    func beginDraining() {
        let first = state.withLock { state in
            defer { state.draining = true }
            return !state.draining
        }
        guard first else { return }
        logger.notice(
            "shutting down: waiting for the requests under way",
            metadata: ["shutdown.drain_timeout_ms": "\(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)"])
        // An event-loop timer, not a task: it lives with the loop and needs no one to await it.
        MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(timeout)) { self.expire() }
    }

    /// Ends the wait of every request now.
    func expire() {
        let waiters = state.withLock { state in
            state.expired = true
            defer { state.waiters = [:] }
            return state.waiters
        }
        if !waiters.isEmpty {
            logger.warning("drain deadline passed: ending the requests still running", metadata: ["requests": "\(waiters.count)"])
        }
        for waiter in waiters.values { waiter.resume() }
    }

    var isExpired: Bool { state.withLock { $0.expired } }

    /// Returns once the deadline has passed; the deadline starts when the server this task serves is
    /// told to shut down gracefully. Throws `CancellationError` when cancelled first.
    func waitForDeadline() async throws {
        try await withGracefulShutdownHandler {
            try await waitUntilExpired()
        } onGracefulShutdown: {
            self.beginDraining()
        }
    }

    private func waitUntilExpired() async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = state.withLock { state in
                    if state.expired { return .success(()) }
                    if state.cancelledBeforeWaiting.remove(id) != nil { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                if !state.expired { state.cancelledBeforeWaiting.insert(id) }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
