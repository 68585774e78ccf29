import AsyncHTTPClient
import Foundation
import GatewayAPI
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import Tracing

/// Talks to one Ollama server. Every failure comes out as a `GatewayError` that says what happened
/// upstream, so routes only have to render it.
public struct OllamaClient: Sendable {
    let http: HTTPClient
    let runtime: RuntimeSettings
    let authHeader: (name: String, value: String)?
    let logger: Logger
    /// Traces each call under its request's span, when tracing is on.
    let tracer: OTLPTracer?
    /// The backend this client talks to; nil: the one `RuntimeSettings.ollamaURL` names.
    var backendURL: String?
    /// Routes requests between several backends (see `BackendPool`); nil on a client bound to one.
    var pool: BackendPool?

    public init(
        http: HTTPClient, runtime: RuntimeSettings, authHeader: (name: String, value: String)? = nil, logger: Logger,
        tracer: OTLPTracer? = nil, backendURL: String? = nil
    ) {
        self.http = http
        self.runtime = runtime
        self.authHeader = authHeader
        self.logger = logger
        self.tracer = tracer
        self.backendURL = backendURL
    }

    /// Where Ollama is now (an admin may move it while the gateway runs).
    public var baseURL: String { backendURL ?? runtime.ollamaURL }

    /// Largest error body read from Ollama.
    static let maxErrorBody = 64 * 1024
    /// Largest non-streamed answer read from Ollama.
    static let maxAnswerBody = 256 * 1024 * 1024

    // MARK: - Requests

    /// Sends a request and returns the response once Ollama has answered with a success status: on
    /// the backend the pool picks for `model` when there is a pool (see `routedSend`), else on this
    /// client's own.
    func send(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, deadline: NIODeadline = .now() + .seconds(600),
        model: String? = nil, conversation: () -> UInt64? = { nil }
    ) async throws -> HTTPClientResponse {
        try await sendSpanned(method, path, body: body, deadline: deadline, model: model, conversation: conversation).response
    }

    /// `send`, and the call's trace span (see `sendTraced`).
    func sendSpanned(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer?, deadline: NIODeadline, model: String?,
        conversation: () -> UInt64?
    ) async throws -> (response: HTTPClientResponse, span: OTLPSpan?) {
        if let pool {
            return try await routedSend(
                pool: pool, method, path, body: body, deadline: deadline, model: model, conversation: conversation)
        }
        return try await sendTraced(method, path, body: body, deadline: deadline)
    }

    /// Sends a request to this client's own backend.
    func sendDirect(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, deadline: NIODeadline = .now() + .seconds(600)
    ) async throws -> HTTPClientResponse {
        try await sendTraced(method, path, body: body, deadline: deadline).response
    }

    /// `send`, and the call's trace span (nil when the request is not traced). The span ends with
    /// the request's unless the caller ends it first (once it has read the whole answer).
    func sendTraced(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, deadline: NIODeadline = .now() + .seconds(600)
    ) async throws -> (response: HTTPClientResponse, span: OTLPSpan?) {
        let (url, headers, span) = outgoing(method, path, hasBody: body != nil)
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers
        if let body { request.body = .bytes(body) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: deadline, logger: logger)
        } catch {
            throw failed(error, span: span)
        }
        return try await accepted(response, span: span)
    }

    /// Starts a request that no task awaits (see `UpstreamExchange`); its answer goes through
    /// `accepted`, or its failure through `failed`, like `sendTraced`'s.
    func startExchange(_ method: HTTPMethod, _ path: String, body: ByteBuffer?, deadline: NIODeadline) throws
        -> (exchange: UpstreamExchange, span: OTLPSpan?)
    {
        let (url, headers, span) = outgoing(method, path, hasBody: body != nil)
        do {
            let request = try HTTPClient.Request(url: url, method: method, headers: headers, body: body.map { .byteBuffer($0) })
            return (UpstreamExchange(http: http, request: request, deadline: deadline, logger: logger), span)
        } catch {
            throw failed(error, span: span)
        }
    }

    /// A request to this backend as it goes out: where to, its headers (the JSON body's type, the
    /// authentication Ollama may require, the trace context), and its span when the request is traced.
    private func outgoing(_ method: HTTPMethod, _ path: String, hasBody: Bool)
        -> (url: String, headers: HTTPHeaders, span: OTLPSpan?)
    {
        let baseURL = baseURL
        var headers = HTTPHeaders()
        if hasBody { headers.add(name: "Content-Type", value: "application/json") }
        if let authHeader { headers.add(name: authHeader.name, value: authHeader.value) }
        let span = RequestTracing.startUpstreamSpan(
            tracer: tracer, method: method.rawValue, url: baseURL, path: path, headers: &headers)
        return (baseURL + path, headers, span)
    }

    /// A request that failed before Ollama answered: the failure as the client hears it, on the span.
    func failed(_ error: any Error, span: OTLPSpan?) -> any Error {
        let translated = translate(error)
        span?.recordError(translated)
        span?.setStatus(SpanStatus(code: .error))
        span?.end()
        return translated
    }

    /// Ollama's answer when its status is a success; else Ollama's error (read from the body).
    func accepted(_ response: HTTPClientResponse, span: OTLPSpan?) async throws -> (response: HTTPClientResponse, span: OTLPSpan?) {
        span?.attributes["http.response.status_code"] = Int64(response.status.code)
        guard response.status == .ok else {
            let failure = await failure(of: response)
            span?.attributes["error.type"] = failure.kind.rawValue
            span?.setStatus(SpanStatus(code: .error))
            span?.end()
            throw failure
        }
        return (response, span)
    }

    /// Sends a JSON request and decodes the JSON answer.
    func exchange<Answer: Decodable>(
        _ method: HTTPMethod, _ path: String, body: (some Encodable)?, as: Answer.Type,
        deadline: NIODeadline = .now() + .seconds(600), model: String? = nil, conversation: () -> UInt64? = { nil }
    ) async throws -> Answer {
        var encoded: ByteBuffer?
        if let body { encoded = try Self.encode(body) }
        let (response, span) = try await sendSpanned(
            method, path, body: encoded, deadline: deadline, model: model, conversation: conversation)
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: Self.maxAnswerBody)
        } catch {
            span?.end()
            throw translate(error)
        }
        span?.end()
        do {
            if Answer.self == OllamaChatChunk.self, let chunk = OllamaChatChunkDecoder.decode(bytes) {
                return chunk as! Answer
            }
            return try JSONDecoder().decode(Answer.self, from: bytes)
        } catch {
            logger.warning(
                "Ollama sent an answer the gateway cannot read",
                metadata: ["ollama.url": "\(LogRedaction.url(baseURL))", "ollama.path": "\(path)", "error": "\(error)"])
            throw GatewayError(.upstreamError, "Ollama sent an answer the gateway cannot read.", code: "upstream_invalid")
        }
    }

    static func encode(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(data: try JSONEncoder().encode(value))
    }

    // MARK: - Endpoints

    /// A non-streamed chat (`stream:false`).
    public func chat(_ request: OllamaChatRequest) async throws -> OllamaChatChunk {
        var request = request
        request.stream = false
        return try await exchange(
            .POST, "/api/chat", body: request, as: OllamaChatChunk.self, model: request.model,
            conversation: { request.conversationStart })
    }

    /// A streamed chat: Ollama's lines, once Ollama has answered (which must happen by `deadline`;
    /// the lines are the relay's to time).
    func streamChat(_ request: OllamaChatRequest, deadline: NIODeadline = .now() + .seconds(600)) async throws
        -> OllamaLineStream<OllamaChatLine>
    {
        var request = request
        request.stream = true
        return try await streamLines(
            "/api/chat", body: try Self.encode(request), as: OllamaChatLine.self, deadline: deadline, model: request.model,
            conversation: { request.conversationStart })
    }

    /// A streamed chat whose answer is awaited in steps (see `PendingStream`): Ollama's lines once
    /// it answered, which must happen by `deadline`.
    func pendingStreamChat(_ request: OllamaChatRequest, deadline: NIODeadline) throws -> PendingStream<OllamaChatLine> {
        var request = request
        request.stream = true
        return try PendingStream(
            client: self, path: "/api/chat", body: try Self.encode(request), deadline: deadline, model: request.model,
            conversation: { request.conversationStart })
    }

    /// A non-streamed completion of a raw prompt (`stream:false`).
    public func generate(_ request: OllamaGenerateRequest) async throws -> OllamaGenerateChunk {
        var request = request
        request.stream = false
        return try await exchange(
            .POST, "/api/generate", body: request, as: OllamaGenerateChunk.self, model: request.model,
            conversation: { request.conversationStart })
    }

    /// A streamed completion of a raw prompt: Ollama's lines, once Ollama has answered.
    func streamGenerate(_ request: OllamaGenerateRequest, deadline: NIODeadline = .now() + .seconds(600))
        async throws -> OllamaLineStream<OllamaGenerateChunk>
    {
        var request = request
        request.stream = true
        return try await streamLines(
            "/api/generate", body: try Self.encode(request), as: OllamaGenerateChunk.self, deadline: deadline,
            model: request.model, conversation: { request.conversationStart })
    }

    /// Embeddings of one or several texts, in one request.
    public func embed(_ request: OllamaEmbedRequest) async throws -> OllamaEmbedResponse {
        try await exchange(.POST, "/api/embed", body: request, as: OllamaEmbedResponse.self, model: request.model)
    }

    /// The models Ollama has; with several backends, all of theirs (see `BackendPool.readTags`).
    public func tags() async throws -> OllamaTagsResponse {
        if let pool { return try await pool.readTags() }
        return try await exchange(.GET, "/api/tags", body: Optional<OllamaShowRequest>.none, as: OllamaTagsResponse.self,
            deadline: .now() + .seconds(10))
    }

    /// The models loaded now; with several backends, on every one (see `BackendPool.readRunning`).
    public func running() async throws -> OllamaPsResponse {
        if let pool { return try await pool.readRunning() }
        return try await exchange(.GET, "/api/ps", body: Optional<OllamaShowRequest>.none, as: OllamaPsResponse.self,
            deadline: .now() + .seconds(10))
    }

    public func version() async throws -> OllamaVersionResponse {
        try await exchange(.GET, "/api/version", body: Optional<OllamaShowRequest>.none, as: OllamaVersionResponse.self,
            deadline: .now() + .seconds(10))
    }

    /// Asks an Ollama at `baseURL` (not necessarily the current one) for its version: the settings
    /// page's "test connection", before a new URL is saved.
    public func probeVersion(at baseURL: String) async throws -> String {
        var request = HTTPClientRequest(url: baseURL + "/api/version")
        if let authHeader { request.headers.add(name: authHeader.name, value: authHeader.value) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .now() + .seconds(5), logger: logger)
        } catch {
            throw translate(error)
        }
        guard response.status == .ok else { throw await failure(of: response) }
        let bytes = try await response.body.collect(upTo: Self.maxErrorBody)
        guard let answer = try? JSONDecoder().decode(OllamaVersionResponse.self, from: bytes) else {
            throw GatewayError(.upstreamError, "It answered, but not as Ollama does (no version).", code: "upstream_invalid")
        }
        return answer.version
    }

    // MARK: - Failures

    /// Ollama's own error, with the status that says who is at fault. Clients never see where Ollama
    /// is (its URL is internal); the log says it, for the operator.
    func failure(of response: HTTPClientResponse) async -> GatewayError {
        let body = (try? await response.body.collect(upTo: Self.maxErrorBody)) ?? ByteBuffer()
        let message: String =
            if let decoded = try? JSONDecoder().decode(OllamaErrorBody.self, from: body) {
                decoded.error
            } else {
                String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
            }
        let error = Self.error(status: Int(response.status.code), message: message)
        if error.kind != .invalidRequest, error.kind != .notFound {
            logger.warning(
                "Ollama answered with an error",
                metadata: [
                    "ollama.url": "\(LogRedaction.url(baseURL))", "http.status": "\(response.status.code)", "error": "\(message.prefix(500))",
                ])
        }
        return error
    }

    static func error(status: Int, message: String) -> GatewayError {
        switch status {
        case 404 where message.contains("not found"):
            return GatewayError(.notFound, message, param: "model", code: "model_not_found")
        case 401, 403:
            return GatewayError(.upstreamUnavailable,
                "Ollama refused the gateway (HTTP \(status)): the operator should check OLLAMA_URL's host against "
                    + "Ollama's allowed hosts, or set OLLAMA_AUTH_HEADER for an Ollama behind authentication.",
                code: "upstream_refused")
        case 429, 503:
            return GatewayError(.overloaded, "Ollama is busy: \(message)", code: "upstream_overloaded")
        case 400..<500:
            // Everything else Ollama refuses is about the request the client sent.
            return GatewayError(.invalidRequest, message.isEmpty ? "Ollama refused the request (HTTP \(status))." : message)
        case 500 where isRefusedFormat(message):
            return GatewayError(.invalidRequest, message, param: "format")
        case 500...:
            return GatewayError(.upstreamError, "Ollama failed: \(message)", code: "upstream_error")
        default:
            return GatewayError(.upstreamError, "Ollama answered HTTP \(status): \(message)", code: "upstream_error")
        }
    }

    /// Ollama releases before the 400 answered a `format` they cannot use with a 500; it is still the
    /// client's mistake.
    static func isRefusedFormat(_ message: String) -> Bool {
        message.hasPrefix("invalid format:") || message.hasPrefix("invalid JSON schema in format")
    }

    /// A transport failure, named so an operator knows where to look (the log has Ollama's URL and
    /// the cause; the client gets what happened, not where).
    func translate(_ error: any Error) -> any Error {
        if error is CancellationError || error is GatewayError { return error }
        let translated: GatewayError
        if let error = error as? HTTPClientError, error == .cancelled || error == .alreadyShutdown {
            // The request was abandoned, or the gateway is stopping: not Ollama's failure.
            return CancellationError()
        } else if let error = error as? HTTPClientError, error == .deadlineExceeded {
            translated = GatewayError(.timeout, "Ollama did not answer in time.", code: "upstream_timeout")
        } else if let error = error as? HTTPClientError, error == .remoteConnectionClosed {
            translated = GatewayError(
                .upstreamError, "Ollama closed the connection before answering.", code: "upstream_closed")
        } else {
            translated = GatewayError(.upstreamUnavailable, Self.unreachable(error), code: "upstream_unreachable")
        }
        // An Ollama that is down fails every request: the model refresh says so once, in plain words.
        logger.log(
            level: translated.kind == .upstreamUnavailable ? .debug : .warning, "Ollama request failed",
            metadata: ["ollama.url": "\(LogRedaction.url(baseURL))", "error": "\(String(describing: error))"])
        return translated
    }

    /// Why Ollama cannot be reached, in plain words, and what to do about it.
    static func unreachable(_ error: any Error) -> String {
        "Ollama is not reachable (\(reason(error))). Start Ollama, or point the gateway at it with OLLAMA_URL "
            + "(--ollama-url); to try the gateway without Ollama, run it with --demo."
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let failure = error.connectionErrors.first { return reason(failure.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "its host name does not resolve" }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused: nothing listens at its address"
            case EHOSTUNREACH, ENETUNREACH: return "its host cannot be reached"
            case ETIMEDOUT: return "the connection timed out"
            default: return String(cString: strerror(error.errnoCode))
            }
        }
        if let error = error as? HTTPClientError, error == .connectTimeout { return "the connection timed out" }
        return "the connection failed"
    }
}

extension OllamaClient {
    public func show(_ model: String) async throws -> OllamaShowResponse {
        try await exchange(.POST, "/api/show", body: OllamaShowRequest(model: model), as: OllamaShowResponse.self,
            deadline: .now() + .seconds(30), model: model)
    }
}
