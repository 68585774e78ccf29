import GatewayAPI
import Hummingbird
import NIOCore

/// OpenAI's `POST /v1/embeddings`, served by Ollama's `/api/embed`: every input in one upstream call.
public struct OpenAIEmbeddingsController<Context: RequestContext>: Sendable {
    let upstream: OllamaClient
    let models: any ModelDirectory
    let settings: ChatSettings
    let renderer = OpenAIErrorRenderer()

    public init(upstream: OllamaClient, models: any ModelDirectory, settings: ChatSettings) {
        self.upstream = upstream
        self.models = models
        self.settings = settings
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.add(middleware: APIErrorMiddleware<Context>(renderer: renderer))
        group.post("embeddings", use: embeddings)
    }

    @Sendable func embeddings(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        let embedding: EmbeddingRequest
        do {
            embedding = try JSONWire.decode(EmbeddingRequest.self, from: body)
        } catch {
            throw GatewayError.decoding(error)
        }
        let model = try await models.resolve(embedding.model)
        let plan = try OpenAIEmbeddingRequestTranslator.translate(embedding, model: model, defaults: settings.defaults)
        let answer = try await withDeadlines(overall: plan.parameters.timeout ?? settings.requestTimeout, idle: nil) { _ in
            try await naming(model) { try await upstream.embed(plan.request) }
        }
        let response = OpenAIEmbeddingResponseTranslator.response(
            from: answer, model: embedding.model, format: plan.encodingFormat)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(response)))
    }
}
