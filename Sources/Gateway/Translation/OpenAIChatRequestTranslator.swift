import Foundation
import GatewayAPI

/// What an OpenAI chat request becomes upstream, with the settings that shape the response.
public struct UpstreamChatPlan: Sendable {
    public var request: OllamaChatRequest
    /// The parameters after merging request, model override and defaults.
    public var parameters: ParameterLayer
    public var model: ResolvedModel

    /// The upstream request of a translated conversation: the resolved parameters supply the options
    /// and Ollama's request-level controls, the same way for every API surface.
    init(
        model: ResolvedModel, messages: [OllamaMessage], tools: [OllamaTool]?, format: JSONValue? = nil, stream: Bool,
        parameters: ParameterLayer
    ) {
        var request = OllamaChatRequest(
            model: model.upstreamName,
            messages: messages,
            tools: tools,
            format: format,
            options: parameters.options.isEmpty ? nil : ParameterLayer.normalizedOptions(parameters.options),
            stream: stream,
            keepAlive: parameters.keepAlive,
            think: parameters.think
        )
        request.truncate = parameters.truncate
        request.shift = parameters.shift
        self.request = request
        self.parameters = parameters
        self.model = model
    }
}

/// Images given as `http(s)` URLs, fetched before translation (translation itself does no I/O), and
/// the size limit inline images (`data:` URLs, base64 sources) are held to, the same as fetched ones.
public struct FetchedImages: Sendable, ExpressibleByDictionaryLiteral {
    /// Plain base64 of each fetched URL.
    public var byURL: [String: String]
    /// The largest image accepted, in decoded bytes (`IMAGE_FETCH_MAX_BYTES`).
    public var maxBytes: Int

    public init(byURL: [String: String] = [:], maxBytes: Int) {
        self.byURL = byURL
        self.maxBytes = maxBytes
    }

    /// Fetched images under the default limit (tests and callers without a policy).
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(byURL: Dictionary(elements, uniquingKeysWith: { _, last in last }), maxBytes: ImageFetchPolicy().maxBytes)
    }

    public subscript(url: String) -> String? { byURL[url] }
}

/// OpenAI `/v1/chat/completions` request → Ollama `/api/chat` request. Pure: no I/O, no HTTP.
public enum OpenAIChatRequestTranslator {
    /// The `http(s)` image URLs of a request, which must be fetched before `translate`, each with the
    /// field it first appears in (for error messages).
    public static func remoteImages(in request: ChatCompletionRequest) -> (urls: [String], params: [String: String]) {
        var urls: [String] = []
        var params: [String: String] = [:]
        for (messageIndex, message) in request.messages.enumerated() {
            guard case .parts(let parts) = message.content else { continue }
            for (partIndex, part) in parts.enumerated() {
                guard case .imageURL(let url, _) = part, ImageReference.isRemote(url), params[url] == nil else { continue }
                urls.append(url)
                params[url] = "messages[\(messageIndex)].content[\(partIndex)].image_url.url"
            }
        }
        return (urls, params)
    }

    public static func translate(
        _ request: ChatCompletionRequest, model: ResolvedModel, defaults: ParameterLayer,
        images: FetchedImages = [:]
    ) throws(GatewayError) -> UpstreamChatPlan {
        try checkUnsupported(request)
        let requestLayer = try parameterLayer(of: request)
        let parameters = ParameterLayer.resolve(request: requestLayer, modelOverride: model.overrides, defaults: defaults)
        return UpstreamChatPlan(
            model: model, messages: try messages(request.messages, images: images),
            tools: try tools(request.tools, choice: request.toolChoice), format: try format(request.responseFormat),
            stream: request.stream, parameters: parameters)
    }

    // MARK: - Fields the gateway cannot honour

    static func checkUnsupported(_ request: ChatCompletionRequest) throws(GatewayError) {
        if let n = request.n, n != 1 {
            throw .invalid("'n' must be 1: Ollama generates one choice per request.", param: "n")
        }
        if request.logprobs == true {
            throw .invalid("'logprobs' is not supported by this gateway.", param: "logprobs")
        }
        if request.messages.isEmpty {
            throw .invalid("'messages' must contain at least one message.", param: "messages")
        }
    }

    // MARK: - Parameters

    /// The request's own layer: Ollama controls it carries, then the OpenAI fields, which are more specific.
    static func parameterLayer(of request: ChatCompletionRequest) throws(GatewayError) -> ParameterLayer {
        var layer = try ParameterLayer(ollamaStyle: request.ollamaControls)
        try OpenAISampling(
            maxTokens: request.maxCompletionTokens ?? request.maxTokens,
            maxTokensParam: request.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens",
            temperature: request.temperature, topP: request.topP, seed: request.seed,
            frequencyPenalty: request.frequencyPenalty, presencePenalty: request.presencePenalty, stop: request.stop
        ).apply(to: &layer)
        let thinking = try ThinkingRequest.openAI(request, controlsThink: layer.think)
        layer.think = thinking.think
        if let exclude = thinking.exclude { layer.excludeReasoning = exclude }
        return layer
    }

    /// Ollama's `format` for an output format; the params name the fields in errors (the Responses
    /// API spells them `text.format.…`).
    static func format(
        _ responseFormat: ResponseFormat?, schemaParam: String = "response_format.json_schema.schema",
        typeParam: String = "response_format.type"
    ) throws(GatewayError) -> JSONValue? {
        switch responseFormat {
        case nil, .text: return nil
        case .jsonObject: return .string("json")
        case .jsonSchema(_, let schema, _):
            guard case .object = schema else {
                throw .invalid("'\(schemaParam)' must be a JSON Schema object.", param: schemaParam)
            }
            return schema
        case .unknown(let value):
            throw .invalid(
                "'\(typeParam)' must be 'text', 'json_object' or 'json_schema', got \(value["type"]?.stringValue.map { "'\($0)'" } ?? "nothing").",
                param: typeParam)
        }
    }

    static func tools(_ tools: [ChatTool]?, choice: ToolChoice?) throws(GatewayError) -> [OllamaTool]? {
        guard let tools, !tools.isEmpty else {
            if case .function(let name) = choice {
                throw .invalid("'tool_choice' names the function '\(name)' but no tools were given.", param: "tool_choice")
            }
            return nil
        }
        var converted: [OllamaTool] = []
        for (index, tool) in tools.enumerated() {
            guard tool.type == "function" else {
                throw .invalid("Only tools of type 'function' are supported, got '\(tool.type)'.", param: "tools[\(index)].type")
            }
            converted.append(OllamaTool(function: .init(
                name: tool.function.name, description: tool.function.description, parameters: tool.function.parameters)))
        }
        switch choice ?? .auto {
        case .auto, .required:
            // Ollama has no way to force a call: `required` is sent like `auto` (documented).
            return converted
        case .none:
            return nil
        case .function(let name):
            guard let only = converted.first(where: { $0.function.name == name }) else {
                throw .invalid("'tool_choice' names the function '\(name)', which is not among 'tools'.", param: "tool_choice")
            }
            return [only]
        case .unknown:
            throw .invalid("'tool_choice' must be 'none', 'auto', 'required' or {\"type\":\"function\",\"function\":{\"name\":…}}.",
                param: "tool_choice")
        }
    }

    // MARK: - Messages

    static func messages(_ messages: [ChatMessage], images: FetchedImages) throws(GatewayError) -> [OllamaMessage] {
        var result: [OllamaMessage] = []
        result.reserveCapacity(messages.count)
        /// Tool names by call id, from earlier assistant turns, so `tool` results can name their tool.
        var toolNames: [String: String] = [:]
        for (index, message) in messages.enumerated() {
            let path = "messages[\(index)]"
            let (text, messageImages) = try content(message.content, images: images, path: "\(path).content")
            switch message.role {
            case "system", "developer", "user":
                result.append(OllamaMessage(
                    role: message.role == "developer" ? "system" : message.role, content: text,
                    images: messageImages.isEmpty ? nil : messageImages))
            case "assistant":
                var calls: [OllamaToolCall] = []
                for (callIndex, call) in (message.toolCalls ?? []).enumerated() {
                    let arguments = try toolArguments(
                        call.function.arguments, param: "\(path).tool_calls[\(callIndex)].function.arguments")
                    if let id = call.id { toolNames[id] = call.function.name }
                    calls.append(OllamaToolCall(
                        id: call.id, function: .init(index: callIndex, name: call.function.name, arguments: arguments)))
                }
                result.append(OllamaMessage(
                    role: "assistant", content: text, thinking: message.reasoningContent,
                    images: messageImages.isEmpty ? nil : messageImages, toolCalls: calls.isEmpty ? nil : calls))
            case "tool", "function":
                let name = message.toolCallID.flatMap { toolNames[$0] } ?? message.name
                result.append(OllamaMessage(
                    role: "tool", content: text, images: messageImages.isEmpty ? nil : messageImages,
                    toolName: name, toolCallID: message.toolCallID))
            default:
                throw .invalid(
                    "Invalid role '\(message.role)': expected system, developer, user, assistant or tool.",
                    param: "\(path).role")
            }
        }
        return result
    }

    /// Text parts joined by newlines, and image parts as plain base64.
    static func content(_ content: ChatContent?, images: FetchedImages, path: String) throws(GatewayError)
        -> (String, [String])
    {
        switch content {
        case nil: return ("", [])
        case .text(let text): return (text, [])
        case .parts(let parts):
            var texts: [String] = []
            var base64Images: [String] = []
            for (index, part) in parts.enumerated() {
                switch part {
                case .text(let text):
                    texts.append(text)
                case .imageURL(let url, _):
                    base64Images.append(try ImageReference.base64(of: url, fetched: images, param: "\(path)[\(index)].image_url.url"))
                case .unknown(let type, _):
                    throw .invalid(
                        "Content parts of type '\(type)' are not supported: use 'text' or 'image_url'.",
                        param: "\(path)[\(index)].type")
                }
            }
            return (texts.joined(separator: "\n"), base64Images)
        }
    }

    /// OpenAI sends arguments as a JSON string; Ollama wants the object itself.
    static func toolArguments(_ arguments: String, param: String) throws(GatewayError) -> [String: JSONValue] {
        let trimmed = arguments.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [:] }
        // JSON inside a string escapes the body's shape check: the same limits, then one parse.
        let bytes = Array(trimmed.utf8)
        do {
            try JSONShapeLimits.requestBody.check(bytes)
        } catch {
            throw .invalid("'\(param)': \(error.message.replacingOccurrences(of: "The request body", with: "the JSON"))", param: param)
        }
        guard let value = bytes.withUnsafeBytes({ JSONValue.parse($0) }) else {
            throw .invalid("'\(param)' is not valid JSON: \(trimmed.prefix(80))", param: param)
        }
        guard case .object(let object) = value else {
            throw .invalid("'\(param)' must encode a JSON object, got \(value.typeName).", param: param)
        }
        return object
    }
}

/// An `image_url` as a client gave it: a data URL, or an http(s) URL the gateway fetches.
enum ImageReference {
    static func isRemote(_ url: String) -> Bool {
        let lower = url.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// The plain base64 Ollama wants: a data URL stripped of its prefix, or a fetched image.
    static func base64(of url: String, fetched: FetchedImages, param: String) throws(GatewayError) -> String {
        if url.hasPrefix("data:") {
            guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
                throw .invalid("The data URL in '\(param)' must be base64-encoded (data:image/…;base64,…).", param: param)
            }
            let payload = url[url.index(after: comma)...]
            guard !payload.isEmpty else { throw .invalid("The data URL in '\(param)' is empty.", param: param) }
            try checkSize(ofBase64: payload, maxBytes: fetched.maxBytes, param: param)
            return String(payload)
        }
        if isRemote(url) {
            guard let image = fetched[url] else {
                throw GatewayError(.internalError, "The image at '\(param)' was not fetched.", param: param)
            }
            return image
        }
        throw .invalid("'\(param)' must be a data URL or an http(s) URL.", param: param)
    }

    /// An inline image is held to the limit a fetched one is: its decoded size, from the base64 length
    /// (3 bytes per 4 characters), without decoding it.
    static func checkSize(ofBase64 payload: some StringProtocol, maxBytes: Int, param: String) throws(GatewayError) {
        let decodedBytes = payload.utf8.count / 4 * 3
        if decodedBytes > maxBytes {
            throw .invalid(
                "The image in '\(param)' is larger than \(maxBytes) bytes, the gateway's limit (IMAGE_FETCH_MAX_BYTES).",
                param: param)
        }
    }
}
