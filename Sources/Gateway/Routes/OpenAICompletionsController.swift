import GatewayAPI
import Hummingbird
import NIOCore

/// OpenAI's legacy `POST /v1/completions`, served by Ollama's `/api/generate`: one upstream request per
/// prompt, made one after the other.
public struct OpenAICompletionsController: APIRouteController, Sendable {
    public typealias Context = GatewayRequestContext
    let services: APIRouteServices
    let renderer = OpenAIErrorRenderer()

    public init(_ services: APIRouteServices) {
        self.services = services
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("completions", use: completions)
    }

    @Sendable func completions(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let prepared = try await RoutePreparation<CompletionRequest, UpstreamCompletionPlan>(
            modelName: \.model,
            translate: { try OpenAICompletionRequestTranslator.translate($0, model: $1, defaults: settings.defaults) },
            parameters: \.parameters
        ).run(&request, context: context, models: models, maxBodyBytes: settings.maxBodyBytes)
        let (completion, model, plan) = (prepared.body, prepared.model, prepared.plan)
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
        let started = ContinuousClock.now
        let first = try await model.namingNotFound {
            try await upstream.streamGenerate(plan.requests[0], deadline: .now() + TimeAmount(timeout))
        }
        let adapter = OpenAICompletionStreamAdapter(
            translator: OpenAICompletionStreamTranslator(style: style, echo: plan.echo), prompts: plan.prompts,
            includeUsage: completion.streamOptions?.includeUsage ?? false)
        let timing = settings.streamTiming(timeout, started: started)
        let streams = OllamaPromptStreams(first: first, plan: plan, upstream: upstream, deadline: timing.deadline)
        return StreamRelay(adapter: adapter, context: context, timing: timing).response { streams }
    }
}
