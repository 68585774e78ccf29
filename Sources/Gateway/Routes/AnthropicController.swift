import GatewayAPI
import HTTPTypes
import Hummingbird
import NIOCore

/// The Anthropic-compatible API: `/v1/messages` and `/v1/messages/count_tokens` (also under `/anthropic`).
///
/// Clients authenticate with `x-api-key` (the SDKs' default) or `Authorization: Bearer`; neither is
/// ever sent to Ollama (the upstream client builds its own headers). `anthropic-version` and
/// `anthropic-beta` are accepted and need nothing from the gateway.
public struct AnthropicController: APIRouteController, Sendable {
    public typealias Context = GatewayRequestContext
    let services: APIRouteServices
    let renderer = AnthropicErrorRenderer()

    public init(_ services: APIRouteServices) {
        self.services = services
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

    /// A decoded request with its model resolved and its remote images fetched, translated; its
    /// tokens reserved unless it is only counted.
    func prepare(_ request: inout Request, context: Context, requireMaxTokens: Bool) async throws
        -> PreparedRequest<AnthropicMessagesRequest, AnthropicUpstreamPlan>
    {
        try await RoutePreparation<AnthropicMessagesRequest, AnthropicUpstreamPlan>(
            validate: { messages in
                // Checked before any upstream work, so a request without it never reaches Ollama.
                if requireMaxTokens, messages.maxTokens == nil {
                    throw GatewayError.invalid("'max_tokens' is required.", param: "max_tokens")
                }
            },
            modelName: \.model, checkCapabilities: Self.checkCapabilities,
            translate: { messages, model in
                let remote = AnthropicRequestTranslator.remoteImages(in: messages)
                let fetched = try await images.fetchAll(remote.urls, params: remote.params)
                return try AnthropicRequestTranslator.translate(
                    messages, model: model, defaults: settings.defaults, images: fetched, requireMaxTokens: requireMaxTokens,
                    stripBillingHeader: settings.stripClaudeCodeBillingHeader)
            },
            parameters: requireMaxTokens ? { $0.chat.parameters } : nil
        ).run(&request, context: context, models: models, maxBodyBytes: settings.maxBodyBytes)
    }

    func timeout(of prepared: PreparedRequest<AnthropicMessagesRequest, AnthropicUpstreamPlan>) -> Duration {
        prepared.plan.chat.parameters.timeout ?? settings.requestTimeout
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
        let upstreamRequest = prepared.plan.chat.request
        let style = AnthropicResponseStyle(
            model: prepared.body.model, excludeReasoning: prepared.plan.chat.parameters.excludeReasoning ?? false,
            stopSequences: prepared.plan.stopSequences,
            estimatedInputTokens: AnthropicTokenEstimate.inputTokens(of: upstreamRequest),
            omitThinking: prepared.body.thinkingDisplay == "omitted")
        let model = prepared.model
        let started = ContinuousClock.now
        let timing = settings.streamTiming(timeout(of: prepared), started: started)

        if !prepared.body.stream {
            // The message is the accumulation of the very events a stream would carry. Ollama is asked
            // to stream only when there are stop sequences to watch, so that one can end the generation
            // early; otherwise its answer comes whole, and the translator reads it as a one-line stream
            // (a line per token costs a read and a wake-up each).
            var translator = AnthropicStreamTranslator(style: style)
            var accumulator = AnthropicMessageAccumulator()
            accumulator.apply(translator.start())
            if prepared.plan.stopSequences.isEmpty {
                var whole = upstreamRequest
                whole.stream = false
                let answer = try await withDeadlines(overall: timing.timeout, idle: nil) { _ in
                    try await model.namingNotFound { try await upstream.chat(whole) }
                }
                for event in translator.translate(answer) { accumulator.apply(event) }
            } else {
                let lines = try await model.namingNotFound {
                    try await upstream.streamChat(upstreamRequest, deadline: .now() + TimeAmount(timing.timeout))
                }
                let remaining = timing.deadline - ContinuousClock.now
                accumulator = try await withDeadlines(overall: remaining, idle: timing.idle) { activity in
                    var accumulator = accumulator
                    reading: for try await batch in lines {
                        activity.touch()
                        for line in batch {
                            for event in translator.translate(line.chunk) { accumulator.apply(event) }
                            if translator.finished { break reading }
                        }
                    }
                    return accumulator
                }
            }
            let message = accumulator.message ?? AnthropicMessageResponse(id: style.id, model: style.model)
            context.ticket?.setTokens(prompt: message.usage.inputTokens, completion: message.usage.outputTokens)
            context.ticket?.setFinishReason(message.stopReason)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(message)))
        }

        // Ollama answers once the model is loaded and its first token is ready. Its quick refusals
        // (unknown model, missing capability, busy) keep their HTTP status; a longer silence commits
        // the stream, so that pings keep the client's connection alive while the model loads, and
        // the relay goes on waiting for the answer.
        var pending = try upstream.pendingStreamChat(upstreamRequest, deadline: .now() + TimeAmount(timing.timeout))
        let relay = StreamRelay(adapter: AnthropicStreamAdapter(style: style), context: context, timing: timing)
        if let lines = try await model.namingNotFound({ try await pending.lines(until: .now() + TimeAmount(timing.heartbeat)) }) {
            return relay.response { lines }
        }
        let loading = pending
        return relay.response {
            var pending = loading
            return try await model.namingNotFound { try await pending.lines() }
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
            prepared.plan.chat.request, model: prepared.model, upstream: upstream, timeout: timeout(of: prepared),
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
