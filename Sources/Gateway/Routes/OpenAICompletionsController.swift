import AsyncHTTPClient
import GatewayAPI
import Hummingbird
import NIOCore

/// OpenAI's legacy `POST /v1/completions`, served by Ollama's `/api/generate`: one upstream request per
/// prompt, made one after the other.
public struct OpenAICompletionsController: Sendable {
    public typealias Context = GatewayRequestContext
    let upstream: OllamaClient
    let models: any ModelDirectory
    let settings: ChatSettings
    let access: APIAccess
    let renderer = OpenAIErrorRenderer()

    public init(upstream: OllamaClient, models: any ModelDirectory, settings: ChatSettings, access: APIAccess) {
        self.upstream = upstream
        self.models = models
        self.settings = settings
        self.access = access
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("completions", use: completions)
    }

    @Sendable func completions(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let completion = try await request.decodeAPIBody(CompletionRequest.self, limit: settings.maxBodyBytes)
        let model = try await models.resolve(completion.model)
        context.ticket?.setModel(model)
        try context.authorize(model)
        let plan = try OpenAICompletionRequestTranslator.translate(completion, model: model, defaults: settings.defaults)
        try context.reserveTokens(promptBytes: request.declaredBodyBytes, parameters: plan.parameters, model: model)
        let style = CompletionResponseStyle(model: completion.model)
        let timeout = plan.parameters.timeout ?? settings.requestTimeout

        if !completion.stream {
            let answers = try await withDeadlines(overall: timeout, idle: nil) { _ in
                var answers: [OllamaGenerateChunk] = []
                for upstreamRequest in plan.requests {
                    let answer = try await model.namingNotFound { try await upstream.generate(upstreamRequest) }
                    if let message = answer.error { throw GatewayError(.upstreamError, message, code: "upstream_error") }
                    answers.append(answer)
                }
                return answers
            }
            let response = OpenAICompletionResponseTranslator.completion(
                from: answers, prompts: plan.prompts, echo: plan.echo, style: style)
            context.ticket?.setTokens(
                prompt: response.usage?.promptTokens ?? 0, completion: response.usage?.completionTokens ?? 0)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(response)))
        }

        // Ollama reports most failures before its first line: wait for its status before ours. Later
        // prompts of an array can only fail inside the stream.
        let deadline = ContinuousClock.now + timeout
        let first = try await model.namingNotFound {
            try await upstream.streamGenerate(plan.requests[0], deadline: .now() + TimeAmount(timeout))
        }
        let relay = OpenAICompletionStreamRelay(
            upstream: upstream, plan: plan,
            translator: OpenAICompletionStreamTranslator(style: style, echo: plan.echo),
            includeUsage: completion.streamOptions?.includeUsage ?? false, renderer: renderer, ticket: context.ticket)
        let idle = settings.streamIdleTimeout
        return Response.apiStream(headers: ServerSentEvents.headers, request: request, ticket: context.ticket) { writer in
            try await relay.run(first: first, writer: &writer, deadline: deadline, idle: idle)
        }
    }
}

/// Relays Ollama's NDJSON generate streams, one per prompt, to the client as `text_completion` SSE chunks.
struct OpenAICompletionStreamRelay: Sendable {
    let upstream: OllamaClient
    let plan: UpstreamCompletionPlan
    let translator: OpenAICompletionStreamTranslator
    let includeUsage: Bool
    let renderer: OpenAIErrorRenderer
    let ticket: RequestTicket?

    /// Writes the stream; a failure after the first byte becomes a final error event. Errors thrown
    /// from here mean the client went away.
    /// - Parameter first: the answer to the first prompt, already started.
    func run(
        first: HTTPClientResponse, writer: inout any ResponseBodyWriter, deadline: ContinuousClock.Instant,
        idle: Duration
    ) async throws {
        var translator = translator
        do {
            for (index, request) in plan.requests.enumerated() {
                let response: HTTPClientResponse
                if index == 0 {
                    response = first
                } else {
                    // As for the first prompt, the idle timeout starts once Ollama has answered.
                    response = try await plan.model.namingNotFound {
                        try await upstream.streamGenerate(request, deadline: .now() + TimeAmount(deadline - .now))
                    }
                }
                try await write(translator.begin(index: index, prompt: plan.prompts[index]), to: &writer)
                try await withDeadlines(overall: deadline - .now, idle: idle) { activity in
                    try await upstream.relayLines(of: response, activity: activity, to: &writer) { line, output in
                        let chunk = try OllamaClient.decodeLine(line, as: OllamaGenerateChunk.self, error: \.error)
                        Self.append(translator.translate(chunk), to: &output)
                        ticket?.markFirstToken()
                        if !chunk.done { ticket?.noteProduced() }
                        return chunk.done
                    }
                }
            }
            let usage = translator.usageChunk()
            if includeUsage { try await write([usage], to: &writer) }
            try await writer.write(ServerSentEvents.done)
            ticket?.setTokens(prompt: usage.usage?.promptTokens ?? 0, completion: usage.usage?.completionTokens ?? 0)
            ticket?.finish(status: 200)
        } catch let error as GatewayError {
            ticket?.finish(status: 200, error: error)
            try await writer.write(renderer.streamEvent(for: error))
        }
    }

    private func write(_ chunks: [CompletionResponse], to writer: inout any ResponseBodyWriter) async throws {
        guard !chunks.isEmpty else { return }
        var out = ByteBuffer()
        Self.append(chunks, to: &out)
        try await writer.write(out)
    }

    private static func append(_ chunks: [CompletionResponse], to output: inout ByteBuffer) {
        for chunk in chunks {
            output.writeImmutableBuffer(ServerSentEvents.data(JSONWire.encode(chunk)))
        }
    }
}
