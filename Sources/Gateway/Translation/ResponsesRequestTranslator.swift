import Foundation
import GatewayAPI

/// OpenAI `/v1/responses` request → Ollama `/api/chat` request. Pure: no I/O, no HTTP.
///
/// What the chat route already decides is decided by the same code: tools and the `tool_choice`
/// emulation, `format`, sampling options, thinking levels, images and tool arguments
/// (`OpenAIChatRequestTranslator`, `OpenAISampling`, `ThinkingRequest`, `ParameterLayer`).
public enum ResponsesRequestTranslator {
    /// Hosted tools run on OpenAI's servers: Ollama cannot run them, so they are refused by name.
    static let functionToolOnly = "Only tools of type 'function' are supported: Ollama cannot run hosted tools such as"

    /// The `http(s)` image URLs of the input, to fetch before `translate`, with the field each first
    /// appears in. Images of earlier turns (`previous_response_id`) were checked when they were sent
    /// and are fetched again only if they are remote.
    public static func remoteImages(in items: [ResponseItem], history: [ResponseItem] = [])
        -> (urls: [String], params: [String: String])
    {
        var urls: [String] = []
        var params: [String: String] = [:]
        func visit(_ items: [ResponseItem], prefix: String) {
            for (itemIndex, item) in items.enumerated() {
                let parts: [ResponseContentPart]
                let path: String
                switch item {
                case .message(let message):
                    guard case .parts(let messageParts) = message.content else { continue }
                    parts = messageParts
                    path = "\(prefix)[\(itemIndex)].content"
                case .functionCallOutput(let output):
                    guard case .parts(let outputParts) = output.output else { continue }
                    parts = outputParts
                    path = "\(prefix)[\(itemIndex)].output"
                default:
                    continue
                }
                for (partIndex, part) in parts.enumerated() {
                    guard case .inputImage(let url?, _, _) = part, ImageReference.isRemote(url), params[url] == nil else {
                        continue
                    }
                    urls.append(url)
                    params[url] = "\(path)[\(partIndex)].image_url"
                }
            }
        }
        visit(history, prefix: "previous_response_id")
        visit(items, prefix: "input")
        return (urls, params)
    }

    /// - Parameter history: the items of the conversation so far (`previous_response_id`), oldest first.
    public static func translate(
        _ request: ResponsesRequest, history: [ResponseItem] = [], model: ResolvedModel, defaults: ParameterLayer,
        images: FetchedImages = [:]
    ) throws(GatewayError) -> UpstreamChatPlan {
        try checkUnsupported(request)
        let requestLayer = try parameterLayer(of: request)
        let parameters = ParameterLayer.resolve(request: requestLayer, modelOverride: model.overrides, defaults: defaults)
        var messages: [OllamaMessage] = []
        if let instructions = request.instructions, !instructions.isEmpty {
            messages.append(OllamaMessage(role: "system", content: instructions))
        }
        var conversation = Conversation()
        try conversation.add(history, prefix: "previous_response_id", images: images)
        try conversation.add(request.inputItems, prefix: "input", images: images)
        messages += conversation.messages
        guard messages.contains(where: { $0.role != "system" }) else {
            throw .invalid("'input' must contain at least one item.", param: "input")
        }
        return UpstreamChatPlan(
            model: model, messages: messages, tools: try tools(of: request), format: try format(request.text?.format),
            stream: request.stream, parameters: parameters)
    }

    // MARK: - Fields the gateway cannot honour

    static func checkUnsupported(_ request: ResponsesRequest) throws(GatewayError) {
        if request.background == true {
            throw .invalid(
                "'background' is not supported by this gateway: stream the response, or wait for it.", param: "background")
        }
        if let conversation = request.conversation, !conversation.isNull {
            throw .invalid(
                "'conversation' is not supported by this gateway: continue a conversation with 'previous_response_id'.",
                param: "conversation")
        }
        if let metadata = request.metadata, !metadata.isNull, metadata.objectValue == nil {
            throw .invalid("'metadata' must be an object of strings.", param: "metadata")
        }
        if let truncation = request.truncation, !["auto", "disabled"].contains(truncation) {
            throw .invalid("'truncation' must be 'auto' or 'disabled', got '\(truncation)'.", param: "truncation")
        }
        if let summary = request.reasoning?.summary, !["auto", "concise", "detailed"].contains(summary) {
            throw .invalid(
                "'reasoning.summary' must be 'auto', 'concise' or 'detailed', got '\(summary)'.", param: "reasoning.summary")
        }
    }

    // MARK: - Parameters

    /// The request's own layer: Ollama controls it carries, then the Responses fields, which are more specific.
    static func parameterLayer(of request: ResponsesRequest) throws(GatewayError) -> ParameterLayer {
        var layer = try ParameterLayer(ollamaStyle: request.ollamaControls)
        try OpenAISampling(
            maxTokens: request.maxOutputTokens, maxTokensParam: "max_output_tokens",
            temperature: request.temperature, topP: request.topP
        ).apply(to: &layer)
        layer.think = try ThinkingRequest.responses(request, controlsThink: layer.think)
        if let exclude = request.excludeReasoning { layer.excludeReasoning = exclude }
        // `auto` lets Ollama drop the start of a prompt longer than the context; `disabled` is a 400 then.
        switch request.truncation {
        case "auto": layer.truncate = true
        case "disabled": layer.truncate = false
        default: break
        }
        return layer
    }

    static func format(_ format: ResponseTextFormat?) throws(GatewayError) -> JSONValue? {
        let chatFormat: ResponseFormat? =
            switch format {
            case nil: nil
            case .text: .text
            case .jsonObject: .jsonObject
            case .jsonSchema(let name, let schema, _, let strict): .jsonSchema(name: name, schema: schema, strict: strict)
            case .unknown(let value): .unknown(value)
            }
        return try OpenAIChatRequestTranslator.format(
            chatFormat, schemaParam: "text.format.schema", typeParam: "text.format.type")
    }

    /// Function tools in the chat route's form, so that its `tool_choice` emulation applies; hosted
    /// tools are refused by their type.
    static func tools(of request: ResponsesRequest) throws(GatewayError) -> [OllamaTool]? {
        var functions: [ChatTool] = []
        for (index, tool) in (request.tools ?? []).enumerated() {
            guard case .function(let name, let description, let parameters, let strict) = tool else {
                throw .invalid(
                    "\(functionToolOnly) '\(tool.type)'. Give the model function tools instead.",
                    param: "tools[\(index)].type")
            }
            functions.append(ChatTool(function: .init(name: name, description: description, parameters: parameters, strict: strict)))
        }
        return try OpenAIChatRequestTranslator.tools(functions, choice: toolChoice(request.toolChoice))
    }

    /// `tool_choice` in the chat route's terms: a mode, or `{"type":"function","name":…}`.
    static func toolChoice(_ value: JSONValue?) throws(GatewayError) -> ToolChoice? {
        switch value {
        case nil, .null?: return nil
        case .string("none")?: return ToolChoice.none
        case .string("auto")?: return .auto
        case .string("required")?: return .required
        case .object(let object)? where object["type"]?.stringValue == "function":
            guard let name = object["name"]?.stringValue else {
                throw .invalid("'tool_choice.name' is required for a function tool choice.", param: "tool_choice.name")
            }
            return .function(name)
        case .object(let object)?:
            let type = object["type"]?.stringValue ?? "nothing"
            throw .invalid(
                "'tool_choice' of type '\(type)' is not supported: use 'none', 'auto', 'required' or {\"type\":\"function\",\"name\":…}.",
                param: "tool_choice")
        default:
            throw .invalid(
                "'tool_choice' must be 'none', 'auto', 'required' or {\"type\":\"function\",\"name\":…}.", param: "tool_choice")
        }
    }

    // MARK: - Items

    /// Builds Ollama's messages from items. An assistant turn in the Responses API is several items
    /// (reasoning, a message, function calls) that Ollama wants as one message: they are gathered
    /// into the open assistant message until a user, system or tool message closes it.
    struct Conversation {
        var messages: [OllamaMessage] = []
        /// Tool names by call id, so that tool results can name their tool.
        var toolNames: [String: String] = [:]
        /// Whether the last message is an assistant message still open to more items.
        var assistantOpen = false

        mutating func add(_ items: [ResponseItem], prefix: String, images: FetchedImages) throws(GatewayError) {
            for (index, item) in items.enumerated() {
                let path = "\(prefix)[\(index)]"
                switch item {
                case .message(let message):
                    try add(message, path: path, images: images)
                case .functionCall(let call):
                    let arguments = try OpenAIChatRequestTranslator.toolArguments(call.arguments, param: "\(path).arguments")
                    toolNames[call.callID] = call.name
                    let calls = openAssistant().toolCalls ?? []
                    messages[messages.count - 1].toolCalls = calls + [OllamaToolCall(
                        id: call.callID, function: .init(index: calls.count, name: call.name, arguments: arguments))]
                case .functionCallOutput(let output):
                    let (text, outputImages) = try Self.content(output.output, images: images, path: "\(path).output")
                    messages.append(OllamaMessage(
                        role: "tool", content: text, images: outputImages.isEmpty ? nil : outputImages,
                        toolName: toolNames[output.callID], toolCallID: output.callID))
                    assistantOpen = false
                case .reasoning(let reasoning):
                    let text = reasoning.text
                    guard !text.isEmpty else { continue }
                    var message = openAssistant()
                    // Reasoning after the answer has begun starts the next assistant turn.
                    if !message.content.isEmpty || message.toolCalls != nil {
                        assistantOpen = false
                        message = openAssistant()
                    }
                    let thinking = message.thinking.map { $0 + "\n\n" + text } ?? text
                    messages[messages.count - 1].thinking = thinking
                case .unknown(let type, _):
                    throw .invalid(
                        "Input items of type '\(type.isEmpty ? "(none)" : type)' are not supported: use 'message', 'function_call', 'function_call_output' or 'reasoning'.",
                        param: "\(path).type")
                }
            }
        }

        mutating func add(_ message: ResponseMessage, path: String, images: FetchedImages) throws(GatewayError) {
            let (text, messageImages) = try Self.content(message.content, images: images, path: "\(path).content")
            switch message.role {
            case "user", "system", "developer":
                messages.append(OllamaMessage(
                    role: message.role == "developer" ? "system" : message.role, content: text,
                    images: messageImages.isEmpty ? nil : messageImages))
                assistantOpen = false
            case "assistant":
                var open = openAssistant()
                // A second answer after tool calls is a turn of its own.
                if open.toolCalls != nil {
                    assistantOpen = false
                    open = openAssistant()
                }
                messages[messages.count - 1].content = open.content.isEmpty ? text : open.content + "\n" + text
                if !messageImages.isEmpty { messages[messages.count - 1].images = (open.images ?? []) + messageImages }
            default:
                throw .invalid(
                    "Invalid role '\(message.role)': expected user, assistant, system or developer.", param: "\(path).role")
            }
        }

        /// The open assistant message, opened when there is none.
        mutating func openAssistant() -> OllamaMessage {
            if !assistantOpen {
                messages.append(OllamaMessage(role: "assistant", content: ""))
                assistantOpen = true
            }
            return messages[messages.count - 1]
        }

        /// Text parts joined by newlines, image parts as plain base64.
        static func content(_ content: ResponseMessageContent, images: FetchedImages, path: String) throws(GatewayError)
            -> (String, [String])
        {
            let parts: [ResponseContentPart]
            switch content {
            case .text(let text): return (text, [])
            case .parts(let given): parts = given
            }
            var texts: [String] = []
            var base64Images: [String] = []
            for (index, part) in parts.enumerated() {
                switch part {
                case .inputText(let text), .outputText(let text), .refusal(let text):
                    texts.append(text)
                case .inputImage(let url?, _, _):
                    base64Images.append(try ImageReference.base64(of: url, fetched: images, param: "\(path)[\(index)].image_url"))
                case .inputImage(nil, _, _):
                    throw .invalid(
                        "Images by 'file_id' are not supported: send 'image_url' as a data URL or an http(s) URL.",
                        param: "\(path)[\(index)].file_id")
                case .unknown(let type, _):
                    throw .invalid(
                        "Content parts of type '\(type)' are not supported: use 'input_text' or 'input_image'.",
                        param: "\(path)[\(index)].type")
                }
            }
            return (texts.joined(separator: "\n"), base64Images)
        }
    }

    // MARK: - The response's echo of the request

    /// The response object before any output: what the request asked for, echoed as the API does.
    static func response(for request: ResponsesRequest, id: String, createdAt: Int, model: String) -> ResponseObject {
        // `tool_choice: none` sends no tools upstream, but the response still lists them, as the API does.
        ResponseObject(
            id: id, createdAt: createdAt, status: "in_progress", model: model, instructions: request.instructions,
            maxOutputTokens: request.maxOutputTokens, parallelToolCalls: request.parallelToolCalls ?? true,
            previousResponseID: request.previousResponseID,
            reasoning: ResponseReasoningConfig(effort: request.reasoning?.effort, summary: request.reasoning?.summary),
            store: request.store ?? true, temperature: request.temperature,
            text: ResponseTextConfig(format: request.text?.format ?? .text, verbosity: request.text?.verbosity),
            toolChoice: request.toolChoice ?? "auto", tools: request.tools ?? [], topP: request.topP,
            truncation: request.truncation ?? "disabled", user: request.user,
            metadata: request.metadata.flatMap { $0.isNull ? nil : $0 } ?? [:])
    }
}
