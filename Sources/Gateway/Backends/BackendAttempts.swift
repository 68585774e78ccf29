import Logging
import NIOCore

/// The backends one request tries in turn (see `OllamaClient.routedSend`), and what each attempt's
/// outcome does: to the pool's view of the backend, to the conversation's stickiness, and to the
/// request's accounting. Taken by value from one task to the next when a request's answer is awaited
/// in two steps (see `PendingStream`).
struct BackendAttempts: Sendable {
    let pool: BackendPool
    let model: String?
    /// The request's own deadline; each attempt but the last has the first-byte timeout within it.
    let deadline: NIODeadline
    /// Read when the request starts: the routing's task-local values are gone where a relay goes on.
    private let routing: RequestRouting?
    private let targets: [BackendPool.Target]
    private let session: UInt64?
    private var tried = 0
    private var lastError: (any Error)?

    init(pool: BackendPool, model: String?, deadline: NIODeadline, conversation: () -> UInt64?) throws {
        self.pool = pool
        self.model = model
        self.deadline = deadline
        routing = RequestRouting.current
        var session: UInt64?
        if let named = routing?.backend {
            guard let target = pool.target(named: named) else { throw OllamaClient.unknownBackend(named) }
            targets = [target]
        } else {
            if pool.tuning.stickySessions, model != nil, pool.isSeveral {
                session = RequestRouting.session(explicit: routing?.sessionID, conversationStart: conversation)
            }
            targets = pool.plan(model: model ?? "", session: session)
        }
        self.session = session
        guard !targets.isEmpty else { throw OllamaClient.noBackend(for: model, lastFailure: nil) }
    }

    /// The next backend to try, and when its attempt must have an answer; nil when none is left.
    mutating func next(logger: Logger) -> (target: BackendPool.Target, deadline: NIODeadline)? {
        guard tried < targets.count else { return nil }
        let target = targets[tried]
        tried += 1
        if let lastError {
            logger.notice("trying the next backend", metadata: ["backend": "\(target.name)", "error": "\(lastError)"])
        }
        // With another backend to move on to, each attempt gets the first-byte timeout (within the
        // request's own deadline); the last one has what is left.
        let attemptDeadline = tried == targets.count ? deadline : min(deadline, .now() + TimeAmount(pool.tuning.firstByteTimeout))
        pool.started(target.name)
        return (target, attemptDeadline)
    }

    /// The backend answered: its response is the request's.
    func succeeded(_ target: BackendPool.Target) {
        pool.succeeded(target.name, model: model)
        if let session { pool.remember(session: session, servedBy: target.name) }
        if let ticket = routing?.ticket {
            ticket.setBackend(target.name) { pool.finished(target.name) }
        } else {
            pool.finished(target.name)
        }
    }

    /// The backend failed before it answered: rethrows the error when it is the request's own (or
    /// the request's time is up), else records it and lets `next` move on.
    mutating func failed(_ target: BackendPool.Target, _ error: any Error) throws {
        pool.finished(target.name)
        let verdict = OllamaClient.verdict(on: error)
        if verdict.backendFault { pool.failed(target.name, reason: (error as? GatewayError)?.message ?? "\(error)") }
        guard verdict.tryNext, NIODeadline.now() < deadline else {
            // What the client gets, and the backend that gave it is the one accounted.
            routing?.ticket?.setBackend(target.name) {}
            throw error
        }
        lastError = error
    }

    /// What the request fails with when every backend tried failed.
    func exhausted() -> any Error {
        if let last = targets.last { routing?.ticket?.setBackend(last.name) {} }
        // With a single backend configured its own error says more, and when the last one lacked the
        // model, that is what the client should hear.
        guard let lastError else { return OllamaClient.noBackend(for: model, lastFailure: nil) }
        if !pool.isSeveral || (lastError as? GatewayError)?.kind == .notFound { return lastError }
        return OllamaClient.noBackend(for: model, lastFailure: lastError)
    }
}
