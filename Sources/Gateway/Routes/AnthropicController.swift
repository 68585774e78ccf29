import AsyncHTTPClient
import GatewayAPI
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The Anthropic-compatible API: `/v1/messages` and `/v1/messages/count_tokens` (also under `/anthropic`).
///
/// Clients authenticate with `x-api-key` (the SDKs' default) or `Authorization: Bearer`; neither is
/// ever sent to Ollama (the upstream client builds its own headers). `anthropic-version` and
/// `anthropic-beta` are accepted and need nothing from the gateway.
public struct AnthropicController: Sendable {
    public typealias Context = GatewayRequestContext
    let upstream: OllamaClient
    let models: any ModelDirectory
    let images: ImageFetcher
    let settings: ChatSettings
    let access: APIAccess
    let renderer = AnthropicErrorRenderer()

    public init(
        upstream: OllamaClient, models: any ModelDirectory, images: ImageFetcher, settings: ChatSettings, access: APIAccess
    ) {
        self.upstream = upstream
        self.models = models
        self.images = images
        self.settings = settings
        self.access = access
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("messages", use: messages)
        group.post("messages/count_tokens", use: countTokens)
    }

    /// `GET models` and `models/{id}` in Anthropic's shape, under `/anthropic/v1` (under `/v1` the
    /// OpenAI controller answers, in Anthropic's shape too when the request has `anthropic-version`).
    public func addModelRoutes(to group: RouterGroup<Context>) {
        group.get("models", use: listModels)
        group.get("models/{id}", use: showModel)
    }

    // MARK: - Models

    @Sendable func listModels(_ request: Request, context: Context) async throws -> Response {
        try await Self.listModels(request, context: context, models: models)
    }

    @Sendable func showModel(_ request: Request, context: Context) async throws -> Response {
        try await Self.showModel(request, context: context, models: models)
    }

    /// The listing the key may see, one page of it as Anthropic's SDK pages (`after_id`, `before_id`, `limit`).
    static func listModels(_ request: Request, context: Context, models: any ModelDirectory) async throws -> Response {
        let visible = try await models.listing().filter { context.apiKey?.mayList($0) ?? true }
        var query: [String: String] = [:]
        for name in ["after_id", "before_id", "limit"] {
            if let value = request.uri.queryParameters.get(name) { query[name] = value }
        }
        let page = try AnthropicModelList.page(entries: visible, query: query)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(page)))
    }

    static func showModel(_ request: Request, context: Context, models: any ModelDirectory) async throws -> Response {
        // Model names contain `/` and `:`; the path parameter arrives percent-decoded.
        let id = try context.parameters.require("id")
        guard let entry = await models.callableEntry(named: id), context.apiKey?.mayList(entry) ?? true else {
            throw GatewayError.modelNotFound(id)
        }
        let info = AnthropicModelInfo(entry: entry, id: id)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(info)))
    }

    /// A decoded request with its model resolved and its remote images fetched, translated.
    struct Prepared {
        var request: AnthropicMessagesRequest
        var plan: AnthropicUpstreamPlan
        var model: ResolvedModel
        var timeout: Duration
    }

    func prepare(_ request: inout Request, context: Context, requireMaxTokens: Bool) async throws -> Prepared {
        let messages = try await request.decodeAPIBody(AnthropicMessagesRequest.self, limit: settings.maxBodyBytes)
        // Checked before any upstream work, so a request without it never reaches Ollama.
        if requireMaxTokens, messages.maxTokens == nil {
            throw GatewayError.invalid("'max_tokens' is required.", param: "max_tokens")
        }
        let model = try await models.resolve(messages.model)
        context.ticket?.setModel(model)
        try context.authorize(model)
        try Self.checkCapabilities(of: model, for: messages)
        let remote = AnthropicRequestTranslator.remoteImages(in: messages)
        let fetched = try await images.fetchAll(remote.urls, params: remote.params)
        let plan = try AnthropicRequestTranslator.translate(
            messages, model: model, defaults: settings.defaults, images: fetched, requireMaxTokens: requireMaxTokens,
            stripBillingHeader: settings.stripClaudeCodeBillingHeader)
        return Prepared(
            request: messages, plan: plan, model: model, timeout: plan.chat.parameters.timeout ?? settings.requestTimeout)
    }

    /// What the request needs that the model may lack, refused before Ollama is called.
    static func checkCapabilities(of model: ResolvedModel, for request: AnthropicMessagesRequest) throws(GatewayError) {
        try model.requireGeneration()
        func hasImage(_ blocks: [AnthropicContentBlock]) -> Bool {
            blocks.contains { block in
                switch block {
                case .image: true
                case .toolResult(_, .blocks(let nested)?, _): hasImage(nested)
                default: false
                }
            }
        }
        let hasImages = request.messages.contains { message in
            if case .blocks(let blocks) = message.content { hasImage(blocks) } else { false }
        }
        if hasImages { try model.require(.vision, for: "images", param: "messages") }
        if try AnthropicRequestTranslator.effectiveTools(of: request)?.isEmpty == false,
            request.toolChoice != AnthropicToolChoice.none
        {
            try model.require(.tools, for: "tools", param: "tools")
        }
    }

    // MARK: - Messages

    @Sendable func messages(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let prepared = try await prepare(&request, context: context, requireMaxTokens: true)
        try context.reserveTokens(
            promptBytes: request.declaredBodyBytes, parameters: prepared.plan.chat.parameters, model: prepared.model)
        let upstreamRequest = prepared.plan.chat.request
        let style = AnthropicResponseStyle(
            model: prepared.request.model, excludeReasoning: prepared.plan.chat.parameters.excludeReasoning ?? false,
            stopSequences: prepared.plan.stopSequences,
            estimatedInputTokens: AnthropicTokenEstimate.inputTokens(of: upstreamRequest),
            omitThinking: prepared.request.thinkingDisplay == "omitted")
        let model = prepared.model
        let relay = AnthropicStreamRelay(upstream: upstream)
        // Ollama is always asked to stream: a stop sequence must be able to end the generation early,
        // and the non-streamed message is the accumulation of the very events a stream would carry.
        let started = ContinuousClock.now
        let timeout = prepared.timeout
        let idle = settings.streamIdleTimeout

        if !prepared.request.stream {
            let upstreamResponse = try await model.namingNotFound {
                try await upstream.streamChat(upstreamRequest, deadline: .now() + TimeAmount(timeout))
            }
            var translator = AnthropicStreamTranslator(style: style)
            var accumulator = AnthropicMessageAccumulator()
            accumulator.apply(translator.start())
            let remaining = timeout - (ContinuousClock.now - started)
            try await relay.run(response: upstreamResponse, translator: &translator, deadline: remaining, idle: idle, ping: nil) {
                events in
                for event in events { accumulator.apply(event) }
            }
            let message = accumulator.message ?? AnthropicMessageResponse(id: style.id, model: style.model)
            context.ticket?.setTokens(prompt: message.usage.inputTokens, completion: message.usage.outputTokens)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(message)))
        }

        // Ollama answers once the model is loaded and its first token is ready. Its quick refusals
        // (unknown model, missing capability, busy) keep their HTTP status; a longer silence commits
        // the stream, so that pings keep the client's connection alive while the model loads.
        // The call outlives the handler, so it is a task of its own — awaited by the response body
        // and cancelled with it, and bounded by the request's deadline.
        let ping = settings.streamPingInterval
        let handoff = UpstreamHandoff()
        let call = Task {
            do {
                let response = try await model.namingNotFound {
                    try await upstream.streamChat(upstreamRequest, deadline: .now() + TimeAmount(timeout))
                }
                handoff.fulfil(.success(response))
            } catch {
                handoff.fulfil(.failure(error))
            }
        }
        await withTaskCancellationHandler {
            await handoff.wait(upTo: ping)
        } onCancel: {
            call.cancel()
        }
        if case .failure(let error) = handoff.result { throw error }

        let renderer = self.renderer
        let inbound = request
        let ticket = context.ticket
        return Response.apiStream(headers: ServerSentEvents.headers, request: inbound, ticket: ticket) { writer in
            try await withTaskCancellationHandler {
                var translator = AnthropicStreamTranslator(style: style)
                try await writer.write(AnthropicStreamRelay.encode([translator.start()]))
                do {
                    // Still loading: ping until Ollama answers.
                    var answer = handoff.result
                    while answer == nil {
                        await handoff.wait(upTo: ping)
                        try Task.checkCancellation()
                        answer = handoff.result
                        if answer == nil { try await writer.write(AnthropicStreamRelay.encode([.ping])) }
                    }
                    let upstreamResponse = try answer!.get()
                    let remaining = timeout - (ContinuousClock.now - started)
                    try await relay.run(
                        response: upstreamResponse, translator: &translator, deadline: remaining, idle: idle, ping: ping
                    ) { events in
                        for case .messageDelta(_, _, let usage) in events {
                            ticket?.setTokens(prompt: usage.inputTokens ?? 0, completion: usage.outputTokens)
                        }
                        try await writer.write(AnthropicStreamRelay.encode(events))
                        ticket?.markFirstToken()
                        for case .contentBlockDelta in events { ticket?.noteProduced() }
                    }
                    ticket?.finish(status: 200)
                } catch let error as GatewayError {
                    // After the first byte the status is sent: the failure travels as the last event.
                    ticket?.finish(status: 200, error: error)
                    try await writer.write(renderer.streamEvent(for: error))
                }
            } onCancel: {
                call.cancel()
            }
        }
    }

    // MARK: - Token counting

    /// `count_tokens`: Ollama's own count (`prompt_eval_count`) of the translated prompt, from a
    /// one-token generation; the gateway's estimate when Ollama cannot count it (prompt longer than
    /// the context, Ollama unreachable, failing or busy). The `x-token-count` header says which.
    @Sendable func countTokens(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let prepared = try await prepare(&request, context: context, requireMaxTokens: false)
        let count = try await PromptTokenCount.count(
            prepared.plan.chat.request, model: prepared.model, upstream: upstream, timeout: prepared.timeout,
            logger: context.logger)
        return Response(
            status: .ok, headers: [.contentType: "application/json", AnthropicTokenCountHeader.name: count.method.rawValue],
            body: .init(byteBuffer: JSONWire.encode(AnthropicTokenCount(inputTokens: count.tokens))))
    }
}

/// `x-token-count` on a `count_tokens` answer: `exact` (Ollama's count) or `estimate`.
enum AnthropicTokenCountHeader {
    static let name = HTTPField.Name("x-token-count")!
}

/// Relays Ollama's NDJSON chat stream as Anthropic events, sending `ping` while the model is silent.
struct AnthropicStreamRelay: Sendable {
    let upstream: OllamaClient

    /// The SSE frames of some events, in one buffer (one write per upstream chunk).
    static func encode(_ events: [AnthropicStreamEvent]) -> ByteBuffer {
        var out = ByteBuffer()
        for event in events {
            ServerSentEvents.appendEvent(event.type, to: &out) { $0.write(event) }
        }
        return out
    }

    /// Reads the upstream stream under the overall deadline and the idle timeout, hands each line's
    /// events to `emit`, and — when `ping` is set — emits a `ping` after that long without output.
    /// Ends at Ollama's last line or when a stop sequence ends the answer (leaving early cancels
    /// the upstream request). Upstream failures are thrown as `GatewayError`s.
    ///
    /// Only this task ever calls `emit`: the next upstream read and the ping timer race as child
    /// tasks of one group, and whichever finishes first is handled here.
    func run(
        response: HTTPClientResponse, translator: inout AnthropicStreamTranslator, deadline: Duration, idle: Duration,
        ping: Duration?, emit: ([AnthropicStreamEvent]) async throws -> Void
    ) async throws {
        try await withDeadlines(overall: deadline, idle: idle) { activity in
            let reader = UpstreamBodyReader(response: response, upstream: upstream)
            var lines = NDJSONLineSplitter()
            let clock = ContinuousClock()
            /// When the client last got something: pings fill the silences after it.
            var lastOutput = clock.now
            /// Feeds a chunk (nil: the end of the body); true when the answer is complete.
            func consume(_ buffer: ByteBuffer?) async throws -> Bool {
                var events: [AnthropicStreamEvent] = []
                var failure: GatewayError?
                if let buffer {
                    activity.touch()
                    lines.append(buffer)
                    while failure == nil, !translator.finished, let line = lines.nextLine() {
                        do { events += try Self.translate(line, translator: &translator) } catch { failure = error }
                    }
                } else if let line = lines.finish() {
                    do { events += try Self.translate(line, translator: &translator) } catch { failure = error }
                }
                if let failure {
                    // What came before the failing line in the same chunk still reaches the client.
                    if !events.isEmpty { try await emit(events) }
                    throw failure
                }
                if !events.isEmpty {
                    try await emit(events)
                    lastOutput = clock.now
                }
                if translator.finished { return true }
                if buffer == nil {
                    throw GatewayError(.upstreamError, "Ollama ended the stream before it was done.", code: "upstream_incomplete")
                }
                return false
            }

            guard let ping else {
                while true {
                    if try await consume(try await reader.next()) { return }
                }
            }
            enum Step: Sendable {
                case chunk(ByteBuffer?)
                case pingDue
                case timerCancelled
            }
            @Sendable func timer(until wake: ContinuousClock.Instant) async -> Step {
                do {
                    try await EventLoopTimer.sleep(until: wake)
                    return .pingDue
                } catch {
                    return .timerCancelled
                }
            }
            try await withThrowingTaskGroup(of: Step.self) { group in
                defer { group.cancelAll() }
                group.addTask { .chunk(try await reader.next()) }
                let firstWake = lastOutput + ping
                group.addTask { await timer(until: firstWake) }
                while let step = try await group.next() {
                    switch step {
                    case .chunk(let buffer):
                        if try await consume(buffer) { return }
                        group.addTask { .chunk(try await reader.next()) }
                    case .pingDue:
                        if clock.now - lastOutput >= ping {
                            try await emit([.ping])
                            lastOutput = clock.now
                        }
                        let wake = lastOutput + ping
                        group.addTask { await timer(until: wake) }
                    case .timerCancelled:
                        continue
                    }
                }
            }
        }
    }

    /// One upstream line's events; an `error` line (whatever else it holds) fails the stream.
    static func translate(_ line: ByteBuffer, translator: inout AnthropicStreamTranslator) throws(GatewayError)
        -> [AnthropicStreamEvent]
    {
        translator.translate(try OllamaClient.decodeLine(line, as: OllamaChatChunk.self, error: \.error))
    }
}

/// Ollama's answer to a streamed request, handed from the call (a task of its own) to whoever waits:
/// first the handler, for a while, then the response body. Waiting ends when the answer is there,
/// the time is up, or the waiting task is cancelled.
private final class UpstreamHandoff: Sendable {
    private struct State {
        var result: Result<HTTPClientResponse, any Error>?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var result: Result<HTTPClientResponse, any Error>? { state.withLock { $0.result } }

    func fulfil(_ result: Result<HTTPClientResponse, any Error>) {
        let waiter = state.withLock { state in
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns when the answer is there, `duration` has passed, or the task is cancelled.
    func wait(upTo duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait() }
            group.addTask { try? await EventLoopTimer.sleep(for: duration) }
            await group.next()
            group.cancelAll()
        }
    }

    private func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.result != nil || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}

/// The upstream body's iterator, read by one child task at a time (the next read starts only after
/// the previous one has been handled), so it can move between tasks.
private final class UpstreamBodyReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private let upstream: OllamaClient

    init(response: HTTPClientResponse, upstream: OllamaClient) {
        self.iterator = response.body.makeAsyncIterator()
        self.upstream = upstream
    }

    func next() async throws -> ByteBuffer? {
        do {
            return try await iterator.next()
        } catch {
            throw upstream.translate(error)
        }
    }
}
