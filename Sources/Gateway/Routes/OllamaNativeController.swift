import AsyncHTTPClient
import Foundation
import GatewayAPI
import Hummingbird
import NIOCore
import NIOHTTP1

/// The native Ollama API behind gateway keys, so Ollama-native clients (Open WebUI, the `ollama`
/// libraries) share the keys, model permissions, aliases, overrides and accounting of the other APIs.
/// Model-management calls are refused unless the admin enables them.
public struct OllamaNativeController: APIRouteController, Sendable {
    public typealias Context = GatewayRequestContext
    let services: APIRouteServices
    let allowModelManagement: Bool
    let renderer = OllamaErrorRenderer()

    public init(_ services: APIRouteServices, allowModelManagement: Bool) {
        self.services = services
        self.allowModelManagement = allowModelManagement
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.addAPIMiddleware(renderer: renderer, access: access)
        group.post("chat", use: chat)
        group.post("generate", use: generate)
        group.post("embed", use: embed)
        group.post("embeddings", use: embeddings)
        group.get("tags", use: tags)
        group.post("show", use: show)
        group.get("ps", use: running)
        group.get("version", use: version)
        for route in Self.managementRoutes {
            group.on(RouterPath(route.path), method: route.method, use: management)
        }
    }

    static let managementRoutes: [(method: HTTPRequest.Method, path: String)] = [
        (.post, "pull"), (.post, "push"), (.post, "create"), (.post, "copy"), (.delete, "delete"),
        (.post, "blobs/{digest}"), (.head, "blobs/{digest}"),
    ]

    @Sendable func chat(_ request: Request, _ context: Context) async throws -> Response {
        try await generation(request, context, path: "/api/chat")
    }

    @Sendable func generate(_ request: Request, _ context: Context) async throws -> Response {
        try await generation(request, context, path: "/api/generate")
    }

    @Sendable func embed(_ request: Request, _ context: Context) async throws -> Response {
        try await embedding(request, context, path: "/api/embed")
    }

    @Sendable func embeddings(_ request: Request, _ context: Context) async throws -> Response {
        try await embedding(request, context, path: "/api/embeddings")
    }

    @Sendable func version(_ request: Request, _ context: Context) async throws -> Response {
        try await passthrough(.GET, "/api/version", body: nil)
    }

    // MARK: - Generation: /api/chat and /api/generate

    func generation(_ request: Request, _ context: Context, path: String) async throws -> Response {
        var request = request
        let received = try await request.collectBody(upTo: settings.maxBodyBytes)
        var body = try await Request.read(received) { try Self.requestObject(from: $0) }
        let model = try await resolve(&body, context: context)
        try Self.checkImageSizes(in: body, maxBytes: settings.maxImageBytes)
        if path == "/api/chat" {
            try model.requireGeneration()
            if body["tools"]?.arrayValue?.isEmpty == false { try model.require(.tools, for: "tools", param: "tools") }
        }
        let parameters = try Self.applyParameters(to: &body, model: model, defaults: settings.defaults)
        try context.reserveTokens(promptBytes: received.readableBytes, parameters: parameters, model: model)
        let timeout = parameters.timeout ?? settings.requestTimeout
        let stream = body["stream"]?.boolValue ?? true
        let rewrite = LineRewrite(model: model, excludeReasoning: parameters.excludeReasoning ?? false)
        let encoded = JSONWire.encode(JSONValue.object(body))

        let conversation = RequestRouting.conversationStart(of: body)
        if !stream {
            let answer = try await withDeadlines(overall: timeout, idle: nil) { _ in
                let response = try await upstream.send(
                    .POST, path, body: encoded, model: model.upstreamName, conversation: { conversation })
                return try await response.body.collect(upTo: OllamaClient.maxAnswerBody)
            }
            let line = try Self.object(from: answer)
            context.ticket?.setTokens(prompt: line["prompt_eval_count"]?.intValue ?? 0, completion: line["eval_count"]?.intValue ?? 0)
            context.ticket?.setFinishReason(line["done_reason"]?.stringValue)
            return Self.json(rewrite.apply(to: line, raw: answer))
        }

        let started = ContinuousClock.now
        let lines = try await upstream.streamLines(
            path, body: encoded, as: OllamaRawLine.self, deadline: .now() + TimeAmount(timeout), model: model.upstreamName,
            conversation: { conversation })
        return StreamRelay(
            adapter: OllamaNativeStreamAdapter(rewrite: rewrite), context: context,
            timing: settings.streamTiming(timeout, started: started)
        ).response { lines }
    }

    /// How lines change on their way to the client: the model's name as the client used it, and no
    /// reasoning when the admin excluded it. Lines that need neither go out byte for byte.
    struct LineRewrite: Sendable {
        var model: ResolvedModel
        var excludeReasoning: Bool

        var isNeeded: Bool { excludeReasoning || model.requestedName != model.upstreamName }

        func apply(to line: [String: JSONValue], raw: ByteBuffer) -> ByteBuffer {
            guard isNeeded else { return raw }
            var line = line
            if line["model"] != nil { line["model"] = .string(model.requestedName) }
            if excludeReasoning {
                line["thinking"] = nil
                if case .object(var message)? = line["message"] {
                    message["thinking"] = nil
                    line["message"] = .object(message)
                }
            }
            return JSONWire.encode(JSONValue.object(line))
        }
    }

    // MARK: - Embeddings: /api/embed and /api/embeddings

    func embedding(_ request: Request, _ context: Context, path: String) async throws -> Response {
        var request = request
        let received = try await request.collectBody(upTo: settings.maxBodyBytes)
        var body = try await Request.read(received) { try Self.requestObject(from: $0) }
        let model = try await resolve(&body, context: context)
        let parameters = try Self.applyParameters(to: &body, model: model, defaults: settings.defaults)
        try context.reserveTokens(
            promptBytes: received.readableBytes, parameters: parameters, model: model, generates: false)
        body["think"] = nil
        let timeout = parameters.timeout ?? settings.requestTimeout
        let encoded = JSONWire.encode(JSONValue.object(body))
        let answer = try await withDeadlines(overall: timeout, idle: nil) { _ in
            let response = try await upstream.send(.POST, path, body: encoded, model: model.upstreamName)
            return try await response.body.collect(upTo: OllamaClient.maxAnswerBody)
        }
        let object = try Self.object(from: answer)
        context.ticket?.setTokens(prompt: object["prompt_eval_count"]?.intValue ?? 0, completion: 0)
        return Self.json(LineRewrite(model: model, excludeReasoning: false).apply(to: object, raw: answer))
    }

    // MARK: - Models: /api/tags, /api/show, /api/ps

    @Sendable func tags(_ request: Request, _ context: Context) async throws -> Response {
        var listed: [OllamaModelSummary] = []
        for entry in try await models.listing() where entry.isCallable && (context.apiKey?.mayList(entry) ?? true) {
            for name in entry.publicNames {
                listed.append(OllamaModelSummary(
                    name: name, model: name, modifiedAt: entry.info.modifiedAt.map(RFC3339.string),
                    size: entry.info.size, digest: entry.info.digest,
                    details: OllamaModelDetails(
                        family: entry.info.family, families: entry.info.family.map { [$0] },
                        parameterSize: entry.info.parameterSize, quantizationLevel: entry.info.quantization),
                    capabilities: entry.info.capabilities.map(\.rawValue).sorted()))
            }
        }
        return Self.json(JSONWire.encode(OllamaTagsResponse(models: listed)))
    }

    @Sendable func show(_ request: Request, _ context: Context) async throws -> Response {
        var request = request
        var body = try await Request.read(request.collectBody(upTo: settings.maxBodyBytes)) { try Self.requestObject(from: $0) }
        if body["model"] == nil, let name = body["name"] { body["model"] = name }
        body["name"] = nil
        let model = try await resolve(&body, context: context)
        return try await passthrough(.POST, "/api/show", body: JSONWire.encode(JSONValue.object(body)), model: model.upstreamName)
    }

    @Sendable func running(_ request: Request, _ context: Context) async throws -> Response {
        // Every backend's loaded models.
        var ps = try await upstream.running()
        guard let key = context.apiKey else { return Self.json(JSONWire.encode(ps)) }
        let visible = Set(await models.entries().filter(key.mayList).map(\.info.name))
        ps.models.removeAll { !visible.contains($0.name) }
        return Self.json(JSONWire.encode(ps))
    }

    // MARK: - Model management

    @Sendable func management(_ request: Request, _ context: Context) async throws -> Response {
        guard allowModelManagement else {
            throw GatewayError(
                .permission,
                "Model management through the gateway is disabled: the admin can enable it with ALLOW_MODEL_MANAGEMENT=true.")
        }
        var request = request
        let body = try await request.collectBody(upTo: settings.maxBodyBytes)
        let method = HTTPMethod(rawValue: request.method.rawValue)
        // The same path upstream: /api/pull, /api/blobs/sha256:…
        let upstreamPath = request.uri.path
        let sent = body.readableBytes > 0 ? body : nil
        // One backend when the client names it, else every enabled one, in turn (docs/backends.md).
        let targets = try upstream.managementTargets(named: request.uri.queryParameters.get(RequestRouting.backendParameter))
        return try await Self.relayManagement(to: targets, method, upstreamPath, body: sent)
    }

    /// Sends a model management request to each backend in turn. A streamed answer (pull, push,
    /// create) relays every backend's progress lines one after the other, and a backend that fails
    /// after the first ends the stream with Ollama's error line; a whole answer (delete, copy, a pull
    /// with `stream:false`) is the last backend's, and the first failure is the caller's. `afterwards`
    /// runs once every backend is done (the console reads the model list again).
    static func relayManagement(
        to targets: [OllamaClient], _ method: HTTPMethod, _ path: String, body: ByteBuffer?,
        afterwards: @escaping @Sendable () async -> Void = {}
    ) async throws -> Response {
        let first = try await targets[0].sendDirect(method, path, body: body)
        var headers: HTTPFields = [:]
        if let type = first.headers.first(name: "Content-Type") { headers[.contentType] = type }
        let streamed = first.headers.first(name: "Content-Type")?.hasPrefix("application/x-ndjson") == true
        guard streamed || targets.count == 1 else {
            var answer = try await first.body.collect(upTo: OllamaClient.maxAnswerBody)
            for target in targets.dropFirst() {
                answer = try await target.sendDirect(method, path, body: body).body.collect(upTo: OllamaClient.maxAnswerBody)
            }
            await afterwards()
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: answer))
        }
        // A client that leaves is noticed when a write to it fails, which ends the upstream request
        // (watching the connection's input instead would read its next request and close it).
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                for try await chunk in first.body { try await writer.write(chunk) }
                for target in targets.dropFirst() {
                    do {
                        let response = try await target.sendDirect(method, path, body: body)
                        for try await chunk in response.body { try await writer.write(chunk) }
                    } catch let error as GatewayError {
                        try await writer.write(OllamaErrorRenderer().streamEvent(for: error))
                        break
                    }
                }
                await afterwards()
                try await writer.finish(nil)
            })
    }

    // MARK: - Helpers

    /// Resolves the body's `model` (an alias, a display name…), authorizes it, and puts Ollama's name in.
    func resolve(_ body: inout [String: JSONValue], context: Context) async throws -> ResolvedModel {
        guard let name = body["model"]?.stringValue, !name.isEmpty else {
            throw GatewayError.invalid("model is required", param: "model")
        }
        let model = try await Self.resolveModel(named: name, in: models)
        context.ticket?.setModel(model)
        try context.authorize(model)
        body["model"] = .string(model.upstreamName)
        return model
    }

    /// Ollama's own wording for a model it does not have.
    static func resolveModel(named name: String, in models: any ModelDirectory) async throws(GatewayError) -> ResolvedModel {
        do {
            return try await models.resolve(name)
        } catch {
            if error.kind == .notFound {
                throw GatewayError(.notFound, "model '\(name)' not found", param: "model", code: "model_not_found")
            }
            throw error
        }
    }

    /// Base64 images (`images` of /api/generate, `messages[].images` of /api/chat) are held to the
    /// limit the other routes hold inline and fetched images to.
    static func checkImageSizes(in body: [String: JSONValue], maxBytes: Int) throws(GatewayError) {
        func check(_ images: JSONValue?, path: String) throws(GatewayError) {
            for (index, image) in (images?.arrayValue ?? []).enumerated() {
                guard let base64 = image.stringValue else { continue }
                try ImageReference.checkSize(ofBase64: base64, maxBytes: maxBytes, param: "\(path)[\(index)]")
            }
        }
        try check(body["images"], path: "images")
        for (index, message) in (body["messages"]?.arrayValue ?? []).enumerated() {
            try check(message["images"], path: "messages[\(index)].images")
        }
    }

    /// Merges the request's own controls with the model's overrides and the defaults, in Ollama's
    /// format, and writes the result back into the body. Gateway-only controls never go upstream.
    static func applyParameters(to body: inout [String: JSONValue], model: ResolvedModel, defaults: ParameterLayer)
        throws(GatewayError) -> ParameterLayer
    {
        var controls: [String: JSONValue] = [:]
        for name in OllamaControl.layered {
            // A null is "not set": `ParameterLayer(ollamaStyle:)` skips it, as it does for every route.
            controls[name] = body.removeValue(forKey: name)
        }
        let parameters = ParameterLayer.resolve(
            request: try ParameterLayer(ollamaStyle: controls), modelOverride: model.overrides, defaults: defaults)
        if !parameters.options.isEmpty { body["options"] = .object(ParameterLayer.normalizedOptions(parameters.options)) }
        if let think = parameters.think { body["think"] = think.jsonValue }
        body["keep_alive"] = parameters.keepAlive
        body["truncate"] = parameters.truncate.map(JSONValue.bool)
        body["shift"] = parameters.shift.map(JSONValue.bool)
        return parameters
    }

    /// A client's body: its shape checked (`JSONShapeLimits`), then read as a JSON object.
    static func requestObject(from buffer: ByteBuffer) throws -> [String: JSONValue] {
        try JSONWire.checkRequestShape(buffer)
        return try object(from: buffer)
    }

    static func object(from buffer: ByteBuffer) throws -> [String: JSONValue] {
        guard buffer.readableBytes > 0 else { throw GatewayError.invalid("missing request body") }
        let value: JSONValue
        do {
            value = try JSONWire.value(from: buffer)
        } catch {
            throw GatewayError.invalid("invalid JSON: the request body is not a JSON object")
        }
        guard case .object(let object) = value else {
            throw GatewayError.invalid("invalid JSON: the request body is not a JSON object")
        }
        return object
    }

    func passthrough(_ method: HTTPMethod, _ path: String, body: ByteBuffer?, model: String? = nil) async throws -> Response {
        let response = try await upstream.send(method, path, body: body, model: model)
        return Self.json(try await response.body.collect(upTo: OllamaClient.maxAnswerBody))
    }

    static func json(_ buffer: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: buffer))
    }
}
