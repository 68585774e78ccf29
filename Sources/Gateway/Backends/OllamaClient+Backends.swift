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
        var attempts = try BackendAttempts(pool: pool, model: model, deadline: deadline, conversation: conversation)
        while let (target, attemptDeadline) = attempts.next(logger: logger) {
            do {
                let answered = try await target.client.sendTraced(method, path, body: body, deadline: attemptDeadline)
                attempts.succeeded(target)
                return answered
            } catch {
                try attempts.failed(target, error)
            }
        }
        throw attempts.exhausted()
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
