import Foundation
import Synchronization

/// Follows one API request from admission to its end, then accounts for it exactly once: frees its
/// limits, counts its tokens for the key, and hands a `UsageEvent` to the recorder.
///
/// A non-streamed request ends when its handler returns (the access middleware finishes the ticket).
/// A stream ends when its body has been written, or when the client goes away: its relay finishes it.
public final class RequestTicket: Sendable {
    struct State {
        var event: UsageEvent
        var finishedByBody = false
        var finished = false
        var firstToken: ContinuousClock.Instant?
        /// The key whose limits the request holds, once admitted.
        var admittedKey: AuthenticatedKey?
        /// Output lines relayed so far: Ollama streams one token a line, so a stream the client
        /// abandons (no final counts) is accounted by them.
        var producedLines = 0
        /// The key's tokens in its minute window when the request was admitted.
        var windowTokens = 0
        /// Tokens reserved against the key's token limits, given back when the request ends.
        var reservedTokens = 0
        /// Why the model stopped (Ollama's `done_reason`), for the request's trace.
        var finishReasons: [String] = []
        /// Frees the in-flight counts the request holds on its backends, when it ends.
        var backendReleases: [@Sendable () -> Void] = []
    }

    let started = ContinuousClock.now
    let sink: any UsageSink
    /// The limiter and key checks that reservations go through; nil where no limits apply.
    let access: APIAccess?
    /// The request's trace span, when tracing is on; it ends when the ticket finishes.
    let span: OTLPSpan?
    private let state: Mutex<State>

    init(event: UsageEvent, sink: any UsageSink, access: APIAccess? = nil, span: OTLPSpan? = nil) {
        self.sink = sink
        self.access = access
        self.span = span
        self.state = Mutex(State(event: event))
    }

    func setKeyID(_ id: String) {
        state.withLock { $0.event.keyID = id }
    }

    func setAdmitted(_ key: AuthenticatedKey, windowTokens: Int = 0) {
        state.withLock {
            $0.admittedKey = key
            $0.windowTokens = windowTokens
        }
    }

    /// Reserves the most tokens the request may use against its key's tokens-per-minute limit and
    /// quota (see `KeyLimiter.reserve`); a 429 when they cannot be had. Called once the route knows
    /// the model and the request's limits, before Ollama is called.
    public func reserveTokens(_ tokens: Int) throws(GatewayError) {
        guard let access, let (key, windowTokens) = state.withLock({ state in state.admittedKey.map { ($0, state.windowTokens) } })
        else { return }
        let reserved = try access.limiter.reserve(
            key, tokens: tokens, windowTokens: windowTokens, quotaUsed: { access.authenticator.tokensUsed(by: key) })
        state.withLock { $0.reservedTokens += reserved }
    }

    /// The model as asked and as served, once the route knows it.
    public func setModel(_ model: ResolvedModel) {
        state.withLock {
            $0.event.modelRequested = model.requestedName
            $0.event.modelResolved = model.upstreamName
        }
    }

    /// The backend serving the request; `release` frees what it holds there once the request ends.
    func setBackend(_ name: String, release: @escaping @Sendable () -> Void) {
        let finished = state.withLock { state in
            state.event.backend = name
            if !state.finished { state.backendReleases.append(release) }
            return state.finished
        }
        if finished { release() }
    }

    /// The response is a stream: its relay will finish the ticket, not the middleware.
    public func finishWithBody() {
        state.withLock {
            $0.finishedByBody = true
            $0.event.streamed = true
        }
        sink.streamStarted()
    }

    var isFinishedByBody: Bool { state.withLock { $0.finishedByBody } }

    /// The first token reached the client (time to first token).
    public func markFirstToken() {
        state.withLock { if $0.firstToken == nil { $0.firstToken = .now } }
    }

    /// One line of model output reached the client.
    public func noteProduced() {
        state.withLock { $0.producedLines += 1 }
    }

    /// Ollama's token counts, as soon as they are known.
    public func setTokens(prompt: Int, completion: Int) {
        state.withLock {
            $0.event.promptTokens = prompt
            $0.event.completionTokens = completion
        }
    }

    /// Why the model stopped, once known (only the trace keeps it).
    public func setFinishReason(_ reason: String?) {
        guard span != nil, let reason, !reason.isEmpty else { return }
        state.withLock { $0.finishReasons = [reason] }
    }

    /// Ends the request; later calls do nothing.
    public func finish(status: Int, error: GatewayError? = nil, cancelled: Bool = false) {
        let finished: (UsageEvent, AuthenticatedKey?, Int, [String], [@Sendable () -> Void])? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.event.status = status
            state.event.errorType = error?.kind.rawValue
            // A request ended by the shutdown's drain deadline did not finish: it counts as cancelled.
            state.event.cancelled = cancelled || error?.code == ShutdownDrain.errorCode
            state.event.latency = .now - started
            state.event.timeToFirstToken = state.firstToken.map { $0 - started }
            if state.event.completionTokens == 0 { state.event.completionTokens = state.producedLines }
            defer { state.backendReleases = [] }
            return (state.event, state.admittedKey, state.reservedTokens, state.finishReasons, state.backendReleases)
        }
        guard let (event, key, reserved, finishReasons, releases) = finished else { return }
        for release in releases { release() }
        sink.requestFinished(event, key: key)
        if let span { RequestTracing.finish(span, event: event, finishReasons: finishReasons) }
        // Only now: the real tokens are counted, so the key's budget is never seen without either.
        if let key { access?.limiter.release(reservation: reserved, ofKey: key.id) }
    }
}

/// Where finished requests go: the limiter, the key counters, the usage log.
public protocol UsageSink: Sendable {
    func streamStarted()
    func requestFinished(_ event: UsageEvent, key: AuthenticatedKey?)
}
