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
    }

    let started = ContinuousClock.now
    let sink: any UsageSink
    private let state: Mutex<State>

    init(event: UsageEvent, sink: any UsageSink) {
        self.sink = sink
        self.state = Mutex(State(event: event))
    }

    func setKeyID(_ id: String) {
        state.withLock { $0.event.keyID = id }
    }

    func setAdmitted(_ key: AuthenticatedKey) {
        state.withLock { $0.admittedKey = key }
    }

    /// The model as asked and as served, once the route knows it.
    public func setModel(_ model: ResolvedModel) {
        state.withLock {
            $0.event.modelRequested = model.requestedName
            $0.event.modelResolved = model.upstreamName
        }
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

    /// Ends the request; later calls do nothing.
    public func finish(status: Int, error: GatewayError? = nil, cancelled: Bool = false) {
        let finished: (UsageEvent, AuthenticatedKey?)? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            state.event.status = status
            state.event.errorType = error?.kind.rawValue
            // A request ended by the shutdown's drain deadline did not finish: it counts as cancelled.
            state.event.cancelled = cancelled || error?.code == ShutdownDrain.errorCode
            state.event.latency = .now - started
            state.event.timeToFirstToken = state.firstToken.map { $0 - started }
            if state.event.completionTokens == 0 { state.event.completionTokens = state.producedLines }
            return (state.event, state.admittedKey)
        }
        guard let (event, key) = finished else { return }
        sink.requestFinished(event, key: key)
    }
}

/// Where finished requests go: the limiter, the key counters, the usage log.
public protocol UsageSink: Sendable {
    func streamStarted()
    func requestFinished(_ event: UsageEvent, key: AuthenticatedKey?)
}
