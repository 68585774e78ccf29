import AsyncHTTPClient
import Foundation
import GatewayAPI
import GatewayStore
import Hummingbird
import NIOCore

/// The OpenAI Responses API: `/v1/responses` (streamed or not), stored responses, `input_tokens`.
///
/// Requests are translated onto Ollama's `/api/chat` with the same keys, aliases, overrides, limits
/// and accounting as the chat route. A stored response (`store`, on by default) belongs to the key
/// that made it: another key gets 404, as for a response that does not exist.
public struct ResponsesController: APIRouteController, Sendable {
    public typealias Context = GatewayRequestContext
    let services: APIRouteServices
    let responses: ResponseRepository
    let renderer = OpenAIErrorRenderer()

    public init(_ services: APIRouteServices, responses: ResponseRepository) {
        self.services = services
        self.responses = responses
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("responses", use: create)
        group.post("responses/input_tokens", use: inputTokens)
        group.get("responses/{id}", use: retrieve)
        group.delete("responses/{id}", use: delete)
        group.get("responses/{id}/input_items", use: inputItems)
        group.post("responses/{id}/cancel", use: cancel)
    }

    /// Whose stored responses a request may see: its key's, or the anonymous ones when keys are not required.
    static func owner(_ context: Context) -> String { context.apiKey?.id ?? "" }

    // MARK: - Preparing a request

    /// A translated request, with the bytes of the earlier turns it continues (`previous_response_id`),
    /// which count toward the prompt like the body's.
    struct ResponsesPlan: Sendable {
        var chat: UpstreamChatPlan
        var historyBytes: Int
    }

    /// A decoded request with its model resolved, its conversation read and its images fetched,
    /// translated. The conversation is read after the key is checked, and the capabilities checked
    /// with it: images of earlier turns need vision too.
    func prepare(_ request: inout Request, context: Context) async throws -> PreparedRequest<ResponsesRequest, ResponsesPlan> {
        let owner = Self.owner(context)
        return try await RoutePreparation<ResponsesRequest, ResponsesPlan>(
            validate: { body in
                guard let model = body.model, !model.isEmpty else {
                    throw GatewayError.invalid("'model' is required.", param: "model")
                }
            },
            modelName: { $0.model ?? "" },
            translate: { body, model in
                let history = try await conversation(before: body, owner: owner)
                try Self.checkCapabilities(of: model, for: body, history: history)
                let remote = ResponsesRequestTranslator.remoteImages(in: body.inputItems, history: history)
                let fetched = try await images.fetchAll(remote.urls, params: remote.params)
                let chat = try ResponsesRequestTranslator.translate(
                    body, history: history, model: model, defaults: settings.defaults, images: fetched)
                return ResponsesPlan(chat: chat, historyBytes: history.isEmpty ? 0 : JSONWire.encode(history).readableBytes)
            }
        ).run(&request, context: context, models: models, maxBodyBytes: settings.maxBodyBytes)
    }

    /// The items of the conversation a request continues, oldest first: every earlier turn's input
    /// and output.
    func conversation(before body: ResponsesRequest, owner: String) async throws -> [ResponseItem] {
        guard let previous = body.previousResponseID else { return [] }
        guard let chain = try await responses.conversation(endingAt: previous, owner: owner) else {
            throw GatewayError(
                .notFound, "Previous response with id '\(previous)' not found.", param: "previous_response_id",
                code: "previous_response_not_found")
        }
        return chain.flatMap { $0.inputItems + $0.response.output }
    }

    func timeout(of prepared: PreparedRequest<ResponsesRequest, ResponsesPlan>) -> Duration {
        prepared.plan.chat.parameters.timeout ?? settings.requestTimeout
    }

    /// What the request needs that the model may lack, refused before Ollama is called.
    static func checkCapabilities(of model: ResolvedModel, for request: ResponsesRequest, history: [ResponseItem])
        throws(GatewayError)
    {
        try model.requireGeneration()
        let items = history + request.inputItems
        if items.contains(where: Self.hasImage) {
            try model.require(.vision, for: "images", param: "input")
        }
        let choiceIsNone = request.toolChoice?.stringValue == "none"
        if request.tools?.isEmpty == false, !choiceIsNone {
            try model.require(.tools, for: "tools", param: "tools")
        }
    }

    static func hasImage(_ item: ResponseItem) -> Bool {
        let content: ResponseMessageContent
        switch item {
        case .message(let message): content = message.content
        case .functionCallOutput(let output): content = output.output
        default: return false
        }
        guard case .parts(let parts) = content else { return false }
        return parts.contains { if case .inputImage = $0 { true } else { false } }
    }

    // MARK: - Create

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let prepared = try await prepare(&request, context: context)
        let (body, model, plan) = (prepared.body, prepared.model, prepared.plan)
        try context.reserveTokens(
            promptBytes: request.declaredBodyBytes + plan.historyBytes, parameters: plan.chat.parameters, model: model)
        let template = ResponsesRequestTranslator.response(
            for: body, id: Identifiers.make("resp_"), createdAt: Int(Date().timeIntervalSince1970), model: body.model ?? "")
        let style = ResponsesStyle(response: template, excludeReasoning: plan.chat.parameters.excludeReasoning ?? false)
        let storage = ResponseStorage(
            repository: body.store == false ? nil : responses, owner: Self.owner(context),
            inputItems: body.inputItems.map { $0.identified { Identifiers.make($0) } })
        var upstreamRequest = plan.chat.request
        let timeout = timeout(of: prepared)

        if !body.stream {
            upstreamRequest.stream = false
            let answer = try await withDeadlines(overall: timeout, idle: nil) { _ in
                try await model.namingNotFound { try await upstream.chat(upstreamRequest) }
            }
            context.ticket?.setTokens(prompt: answer.metrics.promptEvalCount ?? 0, completion: answer.metrics.evalCount ?? 0)
            var translator = ResponsesStreamTranslator(style: style)
            _ = translator.start()
            _ = translator.translate(answer)
            let response = translator.response
            try await storage.save(response)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(response)))
        }

        // Ollama reports most failures before its first line: wait for its status before ours.
        let started = ContinuousClock.now
        let lines = try await model.namingNotFound {
            try await upstream.streamChat(upstreamRequest, deadline: .now() + TimeAmount(timeout))
        }
        let outcome = ResponseOutcome()
        let adapter = ResponsesStreamAdapter(translator: ResponsesStreamTranslator(style: style), outcome: outcome)
        let relay = StreamRelay(adapter: adapter, context: context, timing: settings.streamTiming(timeout, started: started))
        let logger = context.logger
        return Response.apiStream(headers: adapter.headers, ticket: context.ticket) { writer in
            try await relay.run({ lines }, writer: &writer)
            // However the stream ended (a client that left aside), its response is stored. The status
            // is sent: a storage failure can only be logged.
            guard let response = outcome.value else { return }
            do {
                try await storage.save(response)
            } catch {
                logger.error("storing a response failed", metadata: ["response.id": "\(response.id)", "error": "\(error)"])
            }
        }
    }

    // MARK: - Input tokens

    /// `input_tokens`: the tokens of the prompt the request would send, counted as `count_tokens` counts
    /// (`x-token-count` says whether Ollama counted or the gateway estimated).
    @Sendable func inputTokens(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let prepared = try await prepare(&request, context: context)
        let count = try await PromptTokenCount.count(
            prepared.plan.chat.request, model: prepared.model, upstream: upstream, timeout: timeout(of: prepared),
            logger: context.logger)
        return Response(
            status: .ok, headers: [.contentType: "application/json", AnthropicTokenCountHeader.name: count.method.rawValue],
            body: .init(byteBuffer: JSONWire.encode(ResponseInputTokens(inputTokens: count.tokens))))
    }

    // MARK: - Stored responses

    func stored(_ context: Context) async throws -> StoredResponse {
        let id = try context.parameters.require("id")
        guard let stored = try await responses.get(id: id, owner: Self.owner(context)) else {
            throw Self.notFound(id)
        }
        return stored
    }

    static func notFound(_ id: String) -> GatewayError {
        GatewayError(.notFound, "Response with id '\(id)' not found.", param: "response_id", code: "response_not_found")
    }

    @Sendable func retrieve(_ request: Request, context: Context) async throws -> Response {
        if request.uri.queryParameters.get("stream") == "true" {
            throw GatewayError.invalid(
                "Streaming a stored response again is not supported: it was stored whole; retrieve it without 'stream'.",
                param: "stream")
        }
        let stored = try await stored(context)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(stored.response)))
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await responses.delete(id: id, owner: Self.owner(context)) else { throw Self.notFound(id) }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(ResponseDeletion(id: id))))
    }

    /// One page of the items the response was given: `limit` (1–100, 20), `order` (`desc` by default),
    /// `after` (an item id).
    @Sendable func inputItems(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query.get("limit") {
            guard let value = Int(text), (1...100).contains(value) else {
                throw GatewayError.invalid("'limit' must be a number from 1 to 100, got '\(text)'.", param: "limit")
            }
            limit = value
        }
        let order = query.get("order") ?? "desc"
        guard order == "asc" || order == "desc" else {
            throw GatewayError.invalid("'order' must be 'asc' or 'desc', got '\(order)'.", param: "order")
        }
        let stored = try await stored(context)
        var items = order == "asc" ? stored.inputItems : stored.inputItems.reversed()
        if let after = query.get("after") {
            guard let position = items.firstIndex(where: { $0.id == after }) else {
                throw GatewayError.invalid("'after' names no input item of this response: '\(after)'.", param: "after")
            }
            items = Array(items[(position + 1)...])
        }
        let page = ResponseItemList(data: Array(items.prefix(limit)), hasMore: items.count > limit)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: JSONWire.encode(page)))
    }

    /// Only responses created in background mode can be cancelled, and this gateway runs none: a
    /// response it stored is already finished. (A stream is stopped by closing its connection.)
    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let stored = try await stored(context)
        throw GatewayError.invalid(
            "Cannot cancel response '\(stored.id)': only responses created with 'background: true' can be cancelled, and this gateway does not run background responses (this one is already \(stored.response.status)). To stop a stream, close its connection.",
            param: "response_id")
    }
}

/// Where a finished response goes: stored with its input items, or nowhere (`store: false`).
struct ResponseStorage: Sendable {
    let repository: ResponseRepository?
    let owner: String
    let inputItems: [ResponseItem]

    func save(_ response: ResponseObject) async throws {
        guard let repository else { return }
        try await repository.save(StoredResponse(owner: owner, response: response, inputItems: inputItems))
    }
}
