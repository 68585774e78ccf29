import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// One request to Ollama that no Swift task holds: AsyncHTTPClient runs it on an event loop (its
/// callback form), and tasks await its answer in turn. The Anthropic route needs that: its handler
/// waits a little for Ollama's answer, to pass a quick refusal on with its own status, and when the
/// model is still loading it returns the stream's head and leaves the wait to the relay, which pings
/// meanwhile. The async form of the client ties a request to the one task that awaits it.
///
/// A task that is cancelled while it waits cancels the request. Once the answer is taken, its body
/// owns the request: dropping the body, read or not, cancels it. An exchange released before anyone
/// took its answer (the handler's response was never written) is cancelled.
final class UpstreamExchange: Sendable {
    typealias Body = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, BodyDemand
    >

    private let call: HTTPClient.Task<Void>
    private let head: EventLoopFuture<HTTPResponseHead>
    private let shared: SharedState

    init(http: HTTPClient, request: HTTPClient.Request, deadline: NIODeadline, logger: Logger) {
        let eventLoop = http.eventLoopGroup.any()
        let shared = SharedState()
        // The body's sequence exists before the request starts: Ollama's head may come back before
        // `execute` has returned.
        let produced = Body.makeSequence(
            backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8), finishOnDeinit: true,
            delegate: BodyDemand(shared))
        shared.state.withLock { state in
            state.source = produced.source
            state.body = produced.sequence
        }
        let delegate = ResponseDelegate(eventLoop: eventLoop, shared: shared)
        let call = http.execute(
            request: request, delegate: delegate, eventLoop: .delegate(on: eventLoop), deadline: deadline, logger: logger)
        // A client that is shutting down fails the request without a word to the delegate.
        call.futureResult.whenFailure { delegate.didReceiveError(task: call, $0) }
        shared.attach(call)
        self.call = call
        self.head = delegate.head.futureResult
        self.shared = shared
    }

    deinit {
        shared.abandon()
    }

    /// Ollama's answer (its head, and its body to read) once it came; nil if `bound` passed first
    /// (the request goes on). Throws the transport's failure as the client reports it. The answer is
    /// taken once.
    func response(until bound: NIODeadline?) async throws -> HTTPClientResponse? {
        let waited: EventLoopFuture<HTTPResponseHead?>
        var timer: Scheduled<Void>?
        if let bound {
            let promise = head.eventLoop.makePromise(of: HTTPResponseHead?.self)
            head.whenComplete { promise.completeWith($0.map { $0 }) }
            // Completing a promise that is complete already does nothing: the first of the two wins.
            timer = head.eventLoop.scheduleTask(deadline: bound) { promise.succeed(nil) }
            waited = promise.futureResult
        } else {
            waited = head.map { $0 }
        }
        defer { timer?.cancel() }
        let answered = try await withTaskCancellationHandler {
            try await waited.get()
        } onCancel: {
            call.cancel()
        }
        guard let answered else { return nil }
        guard let body = shared.takeBody() else { preconditionFailure("an exchange's answer is taken once") }
        return HTTPClientResponse(version: answered.version, status: answered.status, headers: answered.headers, body: .stream(body))
    }

    /// What the client's callbacks, the body's reader and the exchange share.
    final class SharedState: Sendable {
        struct State {
            var source: Body.Source?
            /// The body, until a reader takes it (or the request fails before its head).
            var body: Body?
            var taken = false
            /// The acknowledgement of the last body part, held back while the reader has enough.
            var demand: EventLoopPromise<Void>?
            /// The reader asked for more before the acknowledgement was held back (it reads on
            /// another thread): the next one that would be held back goes at once.
            var wantsMore = false
            var call: HTTPClient.Task<Void>?
            var headCame = false
            /// Nobody will read the rest.
            var abandoned = false
        }
        let state = Mutex(State())

        func attach(_ call: HTTPClient.Task<Void>) {
            let abandoned = state.withLock { state in
                state.call = call
                return state.abandoned
            }
            if abandoned { call.cancel() }
        }

        func takeBody() -> Body? {
            state.withLock { state in
                defer { (state.body, state.taken) = (nil, true) }
                return state.body
            }
        }

        /// The request ended: its last byte came, or it failed. A failure before the head leaves no
        /// body to read; after it, the reader gets the failure at the end of what came.
        func finish(_ error: (any Error)?) {
            // Released outside the lock: a sequence released unread calls back (`didTerminate`).
            let (source, demand, unread) = state.withLock { state in
                let unread = state.headCame ? nil : state.body
                if !state.headCame { state.body = nil }
                defer { (state.source, state.demand, state.call) = (nil, nil, nil) }
                return (state.source, state.demand, unread)
            }
            if let error { source?.finish(error) } else { source?.finish() }
            demand?.succeed()
            withExtendedLifetime(unread) {}
        }

        /// Nobody will read the rest: the request is cancelled, and a held-back acknowledgement is
        /// released, since the client finishes a cancelled request only once it has it.
        func cancel() {
            let (call, demand) = state.withLock { state in
                state.abandoned = true
                defer { state.demand = nil }
                return (state.call, state.demand)
            }
            call?.cancel()
            demand?.succeed()
        }

        /// The exchange is released: a body nobody took is dropped, and its request cancelled.
        func abandon() {
            let (taken, unread) = state.withLock { state in
                defer { state.body = nil }
                return (state.taken, state.body)
            }
            if !taken { cancel() }
            withExtendedLifetime(unread) {}
        }
    }

    /// Hands the answer on as it arrives: the head to a promise, the body to the sequence, whose
    /// reader sets the pace (a body part is acknowledged once the sequence wants more).
    private final class ResponseDelegate: HTTPClientResponseDelegate, Sendable {
        typealias Response = Void

        let head: EventLoopPromise<HTTPResponseHead>
        private let eventLoop: any EventLoop
        private let shared: SharedState

        init(eventLoop: any EventLoop, shared: SharedState) {
            self.eventLoop = eventLoop
            self.shared = shared
            head = eventLoop.makePromise()
        }

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            shared.state.withLock { $0.headCame = true }
            self.head.succeed(head)
            return eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            guard let source = shared.state.withLock({ $0.source }) else { return eventLoop.makeSucceededVoidFuture() }
            switch source.yield(buffer) {
            case .produceMore, .dropped:
                return eventLoop.makeSucceededVoidFuture()
            case .stopProducing:
                let promise = eventLoop.makePromise(of: Void.self)
                let heldBack = shared.state.withLock { state in
                    if state.wantsMore {
                        state.wantsMore = false
                        return false
                    }
                    state.demand = promise
                    return true
                }
                if !heldBack { promise.succeed() }
                return promise.futureResult
            }
        }

        func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
            head.fail(error)
            shared.finish(error)
        }

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {
            shared.finish(nil)
        }
    }

    /// The body's reader asking for more, or gone.
    final class BodyDemand: NIOAsyncSequenceProducerDelegate, Sendable {
        private let shared: SharedState

        init(_ shared: SharedState) {
            self.shared = shared
        }

        func produceMore() {
            let demand = shared.state.withLock { state -> EventLoopPromise<Void>? in
                guard let demand = state.demand else {
                    state.wantsMore = true
                    return nil
                }
                state.demand = nil
                return demand
            }
            demand?.succeed()
        }

        /// The reader is gone (or never came): nobody will read the rest.
        func didTerminate() {
            shared.cancel()
        }
    }
}
