import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension OllamaClient {
    /// Sends a request to the backend the pool picks, moving on to the next one when a backend fails
    /// before it answered (unreachable, 5xx, busy, no answer within `firstByteTimeout`, or it lacks
    /// the model): nothing has reached the client yet, so another backend can serve the request as
    /// if it were the first. Once a backend has answered, its response is the request's, and a
    /// failure later in its body ends the stream with the API's error event as with one backend.
    ///
    /// Tries `BackendTuning.maxAttempts` backends at most. None left: a 503 naming the model (with
    /// one backend, that backend's own error, which says more).
    func routedSend(
        pool: BackendPool, _ method: HTTPMethod, _ path: String, body: ByteBuffer?, deadline: NIODeadline,
        model: String?, conversation: () -> UInt64?
    ) async throws -> (response: HTTPClientResponse, span: OTLPSpan?) {
        let routing = RequestRouting.current
        let targets: [BackendPool.Target]
        var session: UInt64?
        if let named = routing?.backend {
            guard let target = pool.target(named: named) else { throw Self.unknownBackend(named) }
            targets = [target]
        } else {
            if pool.tuning.stickySessions, model != nil, pool.isSeveral {
                session = RequestRouting.session(explicit: routing?.sessionID, conversationStart: conversation)
            }
            targets = pool.plan(model: model ?? "", session: session)
        }
        guard !targets.isEmpty else { throw Self.noBackend(for: model, lastFailure: nil) }
        var lastError: (any Error)?
        for target in targets {
            if let lastError {
                logger.notice(
                    "trying the next backend", metadata: ["backend": "\(target.name)", "error": "\(lastError)"])
            }
            // With another backend to move on to, each attempt gets the first-byte timeout (within
            // the request's own deadline); the last one has what is left.
            let attemptDeadline =
                target.name == targets.last?.name ? deadline : min(deadline, .now() + TimeAmount(pool.tuning.firstByteTimeout))
            pool.started(target.name)
            do {
                let answered = try await target.client.sendTraced(method, path, body: body, deadline: attemptDeadline)
                pool.succeeded(target.name, model: model)
                if let session { pool.remember(session: session, servedBy: target.name) }
                if let ticket = routing?.ticket {
                    ticket.setBackend(target.name) { pool.finished(target.name) }
                } else {
                    pool.finished(target.name)
                }
                return answered
            } catch {
                pool.finished(target.name)
                let verdict = Self.verdict(on: error)
                if verdict.backendFault { pool.failed(target.name, reason: (error as? GatewayError)?.message ?? "\(error)") }
                guard verdict.tryNext, NIODeadline.now() < deadline else {
                    // The error is the request's own (or its time is up): it is what the client gets,
                    // and the backend that gave it is the one accounted.
                    routing?.ticket?.setBackend(target.name) {}
                    throw error
                }
                lastError = error
            }
        }
        if let last = targets.last { routing?.ticket?.setBackend(last.name) {} }
        // Every backend tried failed. With a single backend configured its own error says more, and
        // when the last one lacked the model, that is what the client should hear.
        guard let lastError else { throw Self.noBackend(for: model, lastFailure: nil) }
        if !pool.isSeveral || (lastError as? GatewayError)?.kind == .notFound { throw lastError }
        throw Self.noBackend(for: model, lastFailure: lastError)
    }

    /// The backends a model management request applies to (pull, delete…): the one named, else every
    /// enabled one.
    func managementTargets(named name: String?) throws(GatewayError) -> [OllamaClient] {
        guard let pool else { return [self] }
        if let name {
            guard let target = pool.target(named: name) else { throw Self.unknownBackend(name) }
            return [target.client]
        }
        let targets = pool.enabledTargets().map(\.client)
        guard !targets.isEmpty else { throw Self.noBackend(for: nil, lastFailure: nil) }
        return targets
    }

    /// Whether a failure lets the request move on to another backend, and whether it counts against
    /// the backend's health.
    static func verdict(on error: any Error) -> (tryNext: Bool, backendFault: Bool) {
        guard let error = error as? GatewayError else { return (false, false) }
        switch error.kind {
        case .upstreamUnavailable, .upstreamError, .overloaded, .timeout:
            return (true, true)
        case .notFound where error.code == "model_not_found":
            // That backend lacks the model (its list was stale): another may have it.
            return (true, false)
        default:
            return (false, false)
        }
    }

    /// No backend can serve the model now: a 503 in the caller's format, naming the model.
    static func noBackend(for model: String?, lastFailure: (any Error)?) -> GatewayError {
        let what = model.map { "the model '\($0)'" } ?? "this request"
        var message = "No Ollama server can serve \(what) now"
        if let failure = lastFailure as? GatewayError {
            message += " (the last one tried: \(failure.message))"
        }
        message += "; try again shortly."
        return GatewayError(.serviceUnavailable, message, param: model == nil ? nil : "model", code: "no_backend_available")
    }

    static func unknownBackend(_ name: String) -> GatewayError {
        GatewayError(.invalidRequest, "There is no backend named '\(name)'.", param: RequestRouting.backendParameter, code: "unknown_backend")
    }
}
