import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization

/// A streamed request to Ollama whose answer is awaited in steps, possibly by different tasks: the
/// Anthropic route's handler waits a short while for it, and when the model is still loading its
/// relay waits for the rest (see `AnthropicController.messages`). It moves on from backend to
/// backend as `OllamaClient.routedSend` does, and it has the same outcomes: Ollama's lines once a
/// backend answered with a success, else the failure the client gets.
///
/// The request in flight runs on the HTTP client's event loop (`UpstreamExchange`), not on a task;
/// a waiting task that is cancelled cancels it, and so does dropping a `PendingStream` before its
/// lines were handed out.
struct PendingStream<Line: OllamaStreamLine>: Sendable {
    private let client: OllamaClient
    private let path: String
    private let body: ByteBuffer
    /// The backends to try; nil on a client bound to one Ollama.
    private var attempts: BackendAttempts?
    private var current: InFlight?
    /// How the only attempt of a client bound to one Ollama failed.
    private var failure: (any Error)?

    init(client: OllamaClient, path: String, body: ByteBuffer, deadline: NIODeadline, model: String?,
        conversation: () -> UInt64?) throws
    {
        self.client = client
        self.path = path
        self.body = body
        if let pool = client.pool {
            attempts = try BackendAttempts(pool: pool, model: model, deadline: deadline, conversation: conversation)
        } else {
            current = InFlight(try client.startExchange(.POST, path, body: body, deadline: deadline), target: nil, pool: nil)
        }
    }

    /// Ollama's lines once a backend answered; nil when `bound` came first (the request goes on).
    mutating func lines(until bound: NIODeadline) async throws -> OllamaLineStream<Line>? {
        try await answer(until: bound)
    }

    /// Ollama's lines, however long they take (within the request's deadline).
    mutating func lines() async throws -> OllamaLineStream<Line> {
        guard let lines = try await answer(until: nil) else { preconditionFailure("an unbounded wait ends with an answer") }
        return lines
    }

    private mutating func answer(until bound: NIODeadline?) async throws -> OllamaLineStream<Line>? {
        while true {
            if current == nil {
                guard var attempts else { throw failure ?? CancellationError() }
                guard let (target, deadline) = attempts.next(logger: client.logger) else { throw attempts.exhausted() }
                self.attempts = attempts
                do {
                    current = InFlight(
                        try target.client.startExchange(.POST, path, body: body, deadline: deadline), target: target,
                        pool: attempts.pool)
                } catch {
                    try settle(target, failure: error)
                    continue
                }
            }
            guard let inFlight = current else { continue }
            let backend = inFlight.target?.client ?? client
            do {
                let response: HTTPClientResponse
                do {
                    guard let answered = try await inFlight.exchange.response(until: bound) else { return nil }
                    response = answered
                } catch {
                    throw backend.failed(error, span: inFlight.span)
                }
                inFlight.settled()
                let answer = try await backend.accepted(response, span: inFlight.span)
                if let target = inFlight.target { attempts?.succeeded(target) }
                current = nil
                return OllamaLineStream(body: answer.response.body, client: backend)
            } catch {
                inFlight.settled()
                current = nil
                guard let target = inFlight.target else {
                    failure = error
                    throw error
                }
                try settle(target, failure: error)
            }
        }
    }

    private mutating func settle(_ target: BackendPool.Target, failure: any Error) throws {
        guard var attempts else { throw failure }
        defer { self.attempts = attempts }
        try attempts.failed(target, failure)
    }

    /// The attempt in flight. Dropped before it was settled (nobody will wait for it any more), it
    /// ends its span and leaves the pool's count of requests in flight; its exchange cancels itself.
    private final class InFlight: Sendable {
        let exchange: UpstreamExchange
        let span: OTLPSpan?
        let target: BackendPool.Target?
        private let pool: BackendPool?
        private let isSettled = Atomic<Bool>(false)

        init(_ started: (exchange: UpstreamExchange, span: OTLPSpan?), target: BackendPool.Target?, pool: BackendPool?) {
            exchange = started.exchange
            span = started.span
            self.target = target
            self.pool = pool
        }

        func settled() {
            isSettled.store(true, ordering: .relaxed)
        }

        deinit {
            guard !isSettled.load(ordering: .relaxed) else { return }
            span?.end()
            if let target { pool?.finished(target.name) }
        }
    }
}
