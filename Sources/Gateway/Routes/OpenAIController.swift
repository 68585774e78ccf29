import GatewayAPI
import Hummingbird
import NIOCore

/// The OpenAI-compatible API: `/v1/chat/completions`, `/v1/models`.
public struct OpenAIController: APIRouteController, Sendable {
    public typealias Context = GatewayRequestContext
    let services: APIRouteServices
    let renderer = OpenAIErrorRenderer()

    public init(_ services: APIRouteServices) {
        self.services = services
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("chat/completions", use: chatCompletions)
        group.get("models", use: listModels)
        group.get("models/{id}", use: showModel)
    }

    // MARK: - Chat completions

    @Sendable func chatCompletions(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let prepared = try await RoutePreparation<ChatCompletionRequest, UpstreamChatPlan>(
            validate: { _ = try responseStyle(for: $0) }, modelName: \.model, checkCapabilities: Self.checkCapabilities,
            translate: { chat, model in
                let remote = OpenAIChatRequestTranslator.remoteImages(in: chat)
                let fetched = try await images.fetchAll(remote.urls, params: remote.params)
                return try OpenAIChatRequestTranslator.translate(chat, model: model, defaults: settings.defaults, images: fetched)
            }, parameters: \.parameters
        ).run(&request, context: context, models: models, maxBodyBytes: settings.maxBodyBytes)
        let (chat, model) = (prepared.body, prepared.model)
        var plan = prepared.plan
        var finalStyle = try responseStyle(for: chat)
        finalStyle.excludeReasoning = plan.parameters.excludeReasoning ?? false
        let timeout = plan.parameters.timeout ?? settings.requestTimeout

        if !chat.stream {
            plan.request.stream = false
            let answer = try await withDeadlines(overall: timeout, idle: nil) { _ in
                try await model.namingNotFound { try await upstream.chat(plan.request) }
            }
            context.ticket?.setTokens(prompt: answer.metrics.promptEvalCount ?? 0, completion: answer.metrics.evalCount ?? 0)
            context.ticket?.setFinishReason(answer.doneReason)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: JSONWire.encode(OpenAIChatResponseTranslator.completion(from: answer, style: finalStyle))))
        }

        // Ollama reports most failures before its first line: wait for its status before ours.
        let started = ContinuousClock.now
        let lines = try await model.namingNotFound {
            try await upstream.streamChat(plan.request, deadline: .now() + TimeAmount(timeout))
        }
        let adapter = OpenAIChatStreamAdapter(
            translator: OpenAIChatStreamTranslator(style: finalStyle), includeUsage: chat.streamOptions?.includeUsage ?? false)
        return StreamRelay(adapter: adapter, context: context, timing: settings.streamTiming(timeout, started: started))
            .response { lines }
    }

    func responseStyle(for chat: ChatCompletionRequest) throws(GatewayError) -> ChatResponseStyle {
        var format = settings.reasoningFormat
        if let name = chat.reasoningFormat {
            guard let requested = ReasoningFormat(rawValue: name) else {
                throw .invalid(
                    "'reasoning_format' must be one of \(ReasoningFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
                    param: "reasoning_format")
            }
            format = requested
        }
        return ChatResponseStyle(model: chat.model, reasoningFormat: format, excludeReasoning: false)
    }

    /// What the request needs that the model may lack, refused before Ollama is called.
    static func checkCapabilities(of model: ResolvedModel, for chat: ChatCompletionRequest) throws(GatewayError) {
        try model.requireGeneration()
        let hasImages = chat.messages.contains { message in
            guard case .parts(let parts) = message.content else { return false }
            return parts.contains { if case .imageURL = $0 { true } else { false } }
        }
        if hasImages { try model.require(.vision, for: "images", param: "messages") }
        if chat.tools?.isEmpty == false, chat.toolChoice != ToolChoice.none {
            try model.require(.tools, for: "tools", param: "tools")
        }
    }

    // MARK: - Models

    /// Anthropic's SDKs read `/v1/models` too, and say so with their version header.
    static func isAnthropicClient(_ request: Request) -> Bool { request.headers[.anthropicVersion] != nil }

    /// An Anthropic client's answer, with its errors in Anthropic's format (this group's middleware
    /// renders OpenAI's).
    static func answerAnthropicClient(_ answer: () async throws -> Response) async throws -> Response {
        do {
            return try await answer()
        } catch let error as GatewayError {
            return AnthropicErrorRenderer().response(for: error)
        }
    }

    @Sendable func listModels(_ request: Request, context: Context) async throws -> Response {
        if Self.isAnthropicClient(request) {
            return try await Self.answerAnthropicClient {
                try await AnthropicController.listModels(request, context: context, models: models)
            }
        }
        let visible = try await models.listing().filter { context.apiKey?.mayList($0) ?? true }
        let list = ModelList(entries: visible)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(list)))
    }

    @Sendable func showModel(_ request: Request, context: Context) async throws -> Response {
        if Self.isAnthropicClient(request) {
            return try await Self.answerAnthropicClient {
                try await AnthropicController.showModel(request, context: context, models: models)
            }
        }
        // Model names contain `/` and `:`; the path parameter arrives percent-decoded.
        let id = try context.parameters.require("id")
        guard let entry = await models.callableEntry(named: id), context.apiKey?.mayList(entry) ?? true else {
            throw GatewayError.modelNotFound(id)
        }
        let model = ModelList.Model(entry: entry, id: id)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(model)))
    }
}
