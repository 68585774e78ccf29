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
/// owns the request: dropping the body cancels it. An exchange that is released before anyone took
/// its answer (the handler's response was never written) is cancelled.
final class UpstreamExchange: Sendable {
    private let call: HTTPClient.Task<Void>
    private let delegate: Delegate

    init(http: HTTPClient, request: HTTPClient.Request, deadline: NIODeadline, logger: Logger) {
        delegate = Delegate(eventLoop: http.eventLoopGroup.any())
        call = http.execute(
            request: request, delegate: delegate, eventLoop: .delegate(on: delegate.eventLoop), deadline: deadline,
            logger: logger)
        delegate.attach(call)
    }

    deinit {
        if !delegate.taken { call.cancel() }
    }

    /// Ollama's answer (its head, and its body to read) once it came; nil if `bound` passed first
    /// (the request goes on). Throws the transport's failure as the client reports it.
    func response(until bound: NIODeadline?) async throws -> HTTPClientResponse? {
        let head = delegate.head.futureResult
        let waited: EventLoopFuture<HTTPClientResponse?>
        var timer: Scheduled<Void>?
        if let bound {
            let promise = delegate.eventLoop.makePromise(of: HTTPClientResponse?.self)
            head.whenComplete { promise.completeWith($0.map { $0 }) }
            // Completing a promise that is complete already does nothing: the first of the two wins.
            timer = delegate.eventLoop.scheduleTask(deadline: bound) { promise.succeed(nil) }
            waited = promise.futureResult
        } else {
            waited = head.map { $0 }
        }
        defer { timer?.cancel() }
        let response = try await withTaskCancellationHandler {
            try await waited.get()
        } onCancel: {
            call.cancel()
        }
        if response != nil { delegate.taken = true }
        return response
    }

    /// Hands the answer on as it arrives: the head to a promise, the body to an asynchronous sequence
    /// whose reader sets the pace (a body part is acknowledged once the sequence wants more).
    private final class Delegate: HTTPClientResponseDelegate, NIOAsyncSequenceProducerDelegate, Sendable {
        typealias Response = Void
        typealias Body = NIOThrowingAsyncSequenceProducer<
            ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Delegate
        >

        let eventLoop: any EventLoop
        let head: EventLoopPromise<HTTPClientResponse>
        private struct State {
            var source: Body.Source?
            var body: Body?
            /// The acknowledgement of the last body part, held back while the reader has enough.
            var demand: EventLoopPromise<Void>?
            /// The reader asked for more before the acknowledgement was held back (it reads on
            /// another thread): the next one that would be held back goes at once.
            var wantsMore = false
            var call: HTTPClient.Task<Void>?
            /// The request has ended: its last byte came, or it failed.
            var ended = false
            var taken = false
        }
        private let state = Mutex(State())

        init(eventLoop: any EventLoop) {
            self.eventLoop = eventLoop
            head = eventLoop.makePromise()
        }

        /// Called once, right after the request started. One that has failed already has no body to
        /// hand on (and a sequence made for it would never be released: it holds its delegate).
        func attach(_ call: HTTPClient.Task<Void>) {
            state.withLock { state in
                guard !state.ended else { return }
                let produced = Body.makeSequence(
                    backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8), finishOnDeinit: true, delegate: self)
                state.call = call
                state.source = produced.source
                state.body = produced.sequence
            }
        }

        var taken: Bool {
            get { state.withLock { $0.taken } }
            set { state.withLock { $0.taken = newValue } }
        }

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            // The sequence goes out with the head: from here on only its reader keeps it.
            guard let body = state.withLock({ state in defer { state.body = nil }; return state.body }) else {
                return eventLoop.makeSucceededVoidFuture()
            }
            self.head.succeed(
                HTTPClientResponse(version: head.version, status: head.status, headers: head.headers, body: .stream(body)))
            return eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            guard let source = state.withLock({ $0.source }) else { return eventLoop.makeSucceededVoidFuture() }
            switch source.yield(buffer) {
            case .produceMore, .dropped:
                return eventLoop.makeSucceededVoidFuture()
            case .stopProducing:
                let promise = eventLoop.makePromise(of: Void.self)
                let heldBack = state.withLock { state in
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
            finish(error)
        }

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {
            finish(nil)
        }

        private func finish(_ error: (any Error)?) {
            // Taken out and released outside the lock: the sequence, released unread, calls `didTerminate`.
            let (source, demand, unread) = state.withLock { state in
                state.ended = true
                defer { (state.source, state.demand, state.body, state.call) = (nil, nil, nil, nil) }
                return (state.source, state.demand, state.body)
            }
            if let error { source?.finish(error) } else { source?.finish() }
            demand?.succeed()
            withExtendedLifetime(unread) {}
        }

        // MARK: NIOAsyncSequenceProducerDelegate

        func produceMore() {
            let demand = state.withLock { state -> EventLoopPromise<Void>? in
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
            state.withLock { $0.call }?.cancel()
        }
    }
}
