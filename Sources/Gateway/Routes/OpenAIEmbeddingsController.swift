import GatewayAPI
import Hummingbird
import NIOCore

/// OpenAI's `POST /v1/embeddings`, served by Ollama's `/api/embed`: every input in one upstream call.
public struct OpenAIEmbeddingsController: APIRouteController, Sendable {
    public typealias Context = GatewayRequestContext
    let services: APIRouteServices
    let renderer = OpenAIErrorRenderer()

    public init(_ services: APIRouteServices) {
        self.services = services
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("embeddings", use: embeddings)
    }

    @Sendable func embeddings(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let embedding = try await request.decodeAPIBody(EmbeddingRequest.self, limit: settings.maxBodyBytes)
        let model = try await models.resolve(embedding.model)
        context.ticket?.setModel(model)
        try context.authorize(model)
        let plan = try OpenAIEmbeddingRequestTranslator.translate(embedding, model: model, defaults: settings.defaults)
        try context.reserveTokens(
            promptBytes: request.declaredBodyBytes, parameters: plan.parameters, model: model, generates: false)
        let answer = try await withDeadlines(overall: plan.parameters.timeout ?? settings.requestTimeout, idle: nil) { _ in
            try await model.namingNotFound { try await upstream.embed(plan.request) }
        }
        context.ticket?.setTokens(prompt: answer.promptEvalCount ?? 0, completion: 0)
        let response = OpenAIEmbeddingResponseTranslator.response(
            from: answer, model: embedding.model, format: plan.encodingFormat)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(response)))
    }
}
