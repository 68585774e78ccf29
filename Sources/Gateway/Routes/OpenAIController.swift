import AsyncHTTPClient
import GatewayAPI
import Hummingbird
import NIOCore

/// The OpenAI-compatible API: `/v1/chat/completions`, `/v1/models`.
public struct OpenAIController<Context: RequestContext>: Sendable {
    let upstream: OllamaClient
    let models: any ModelDirectory
    let images: ImageFetcher
    let settings: ChatSettings
    let renderer = OpenAIErrorRenderer()

    public init(upstream: OllamaClient, models: any ModelDirectory, images: ImageFetcher, settings: ChatSettings) {
        self.upstream = upstream
        self.models = models
        self.images = images
        self.settings = settings
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.add(middleware: APIErrorMiddleware<Context>(renderer: renderer))
        group.post("chat/completions", use: chatCompletions)
        group.get("models", use: listModels)
    }

    // MARK: - Chat completions

    @Sendable func chatCompletions(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        let chat: ChatCompletionRequest
        do {
            chat = try JSONWire.decode(ChatCompletionRequest.self, from: body)
        } catch {
            throw GatewayError.decoding(error)
        }
        let style = try responseStyle(for: chat)
        let model = try await models.resolve(chat.model)
        let remoteImages = OpenAIChatRequestTranslator.remoteImageURLs(in: chat)
        let fetched = remoteImages.isEmpty ? [:] : try await images.fetchAll(remoteImages)
        var plan = try OpenAIChatRequestTranslator.translate(chat, model: model, defaults: settings.defaults, images: fetched)
        var finalStyle = style
        finalStyle.excludeReasoning = plan.parameters.excludeReasoning ?? false
        let timeout = plan.parameters.timeout ?? settings.requestTimeout

        if !chat.stream {
            plan.request.stream = false
            let answer = try await withDeadlines(overall: timeout, idle: nil) { _ in
                try await naming(model) { try await upstream.chat(plan.request) }
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: JSONWire.encode(OpenAIChatResponseTranslator.completion(from: answer, style: finalStyle))))
        }

        // Ollama reports most failures before its first line: wait for its status before ours.
        let started = ContinuousClock.now
        let upstreamResponse = try await withDeadlines(overall: timeout, idle: nil) { _ in
            try await naming(model) { try await upstream.streamChat(plan.request) }
        }
        let remaining = timeout - (ContinuousClock.now - started)
        let includeUsage = chat.streamOptions?.includeUsage ?? false
        let relay = OpenAIChatStreamRelay(
            upstream: upstream, translator: OpenAIChatStreamTranslator(style: finalStyle), includeUsage: includeUsage,
            renderer: renderer)
        let idle = settings.streamIdleTimeout
        let inbound = request
        return Response(
            status: .ok, headers: ServerSentEvents.headers,
            body: ResponseBody { writer in
                // A client that goes away cancels the relay, which cancels the upstream request.
                try await inbound.body.consumeWithCancellationOnInboundClose { _ in
                    try await relay.run(response: upstreamResponse, writer: &writer, deadline: remaining, idle: idle)
                }
                try await writer.finish(nil)
            })
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

    // MARK: - Models

    @Sendable func listModels(_ request: Request, context: Context) async throws -> Response {
        let tags = try await upstream.tags()
        let list = ModelList(data: tags.models.map { ModelList.Model(ollama: $0) })
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(list)))
    }
}

/// Relays Ollama's NDJSON chat stream to the client as OpenAI SSE chunks.
struct OpenAIChatStreamRelay: Sendable {
    let upstream: OllamaClient
    let translator: OpenAIChatStreamTranslator
    let includeUsage: Bool
    let renderer: OpenAIErrorRenderer

    /// Writes the stream; a failure after the first byte becomes a final error event. Errors thrown
    /// from here mean the client went away.
    func run(response: HTTPClientResponse, writer: inout any ResponseBodyWriter, deadline: Duration, idle: Duration)
        async throws
    {
        var translator = translator
        do {
            try await withDeadlines(overall: deadline, idle: idle) { activity in
                try await upstream.forEachLine(of: response, activity: activity) { line in
                    try await relay(line, translator: &translator, writer: &writer)
                }
            }
            try await writer.write(ServerSentEvents.done)
        } catch let error as GatewayError {
            try await writer.write(renderer.streamEvent(for: error))
        }
    }

    /// Relays one upstream line; true when it was the last.
    private func relay(_ line: ByteBuffer, translator: inout OpenAIChatStreamTranslator, writer: inout any ResponseBodyWriter)
        async throws -> Bool
    {
        let chunk = try OllamaClient.decodeLine(line, as: OllamaChatChunk.self, error: \.error)
        var out = ByteBuffer()
        for converted in translator.translate(chunk) {
            out.writeImmutableBuffer(ServerSentEvents.data(JSONWire.encode(converted)))
        }
        if chunk.done, includeUsage {
            out.writeImmutableBuffer(ServerSentEvents.data(JSONWire.encode(translator.usageChunk(chunk.metrics))))
        }
        if out.readableBytes > 0 { try await writer.write(out) }
        return chunk.done
    }
}
