import Foundation
import GatewayAPI

/// What an Anthropic messages request becomes upstream.
public struct AnthropicUpstreamPlan: Sendable {
    public var chat: UpstreamChatPlan
    /// The request's `stop_sequences`, matched by the gateway in the answer text (so that it can
    /// report which one ended it; Ollama's own `stop` does not say).
    public var stopSequences: [String]
}

/// Anthropic `/v1/messages` request → Ollama `/api/chat` request. Pure: no I/O, no HTTP.
public enum AnthropicRequestTranslator {
    /// The `url` image sources of a request, which must be fetched before `translate`, with the
    /// request field of each (for error messages).
    public static func remoteImages(in request: AnthropicMessagesRequest) -> (urls: [String], params: [String: String]) {
        var urls: [String] = []
        var params: [String: String] = [:]
        func visit(_ blocks: [AnthropicContentBlock], path: String) {
            for (index, block) in blocks.enumerated() {
                switch block {
                case .image(.url(let url)) where ImageReference.isRemote(url) && params[url] == nil:
                    urls.append(url)
                    params[url] = "\(path)[\(index)].source.url"
                case .toolResult(_, .blocks(let nested)?, _):
                    visit(nested, path: "\(path)[\(index)].content")
                default:
                    break
                }
            }
        }
        for (index, message) in request.messages.enumerated() {
            if case .blocks(let blocks) = message.content { visit(blocks, path: "messages[\(index)].content") }
        }
        return (urls, params)
    }

    /// - Parameters:
    ///   - requireMaxTokens: `false` for `count_tokens`, whose requests have no `max_tokens`.
    ///   - stripBillingHeader: remove Claude Code's billing line from system text
    ///     (`ANTHROPIC_STRIP_BILLING_HEADER`), so that Ollama's prompt cache holds between turns.
    public static func translate(
        _ request: AnthropicMessagesRequest, model: ResolvedModel, defaults: ParameterLayer,
        images: FetchedImages = [:], requireMaxTokens: Bool = true, stripBillingHeader: Bool = false
    ) throws(GatewayError) -> AnthropicUpstreamPlan {
        if request.messages.isEmpty {
            throw .invalid("'messages' must contain at least one message.", param: "messages")
        }
        let requestLayer = try parameterLayer(of: request, model: model, requireMaxTokens: requireMaxTokens)
        let parameters = ParameterLayer.resolve(request: requestLayer, modelOverride: model.overrides, defaults: defaults)
        let chat = UpstreamChatPlan(
            model: model, messages: try messages(request, images: images, stripBillingHeader: stripBillingHeader),
            tools: try tools(try effectiveTools(of: request), choice: request.toolChoice), stream: request.stream,
            parameters: parameters)
        let stops = try stopSequences(request.stopSequences)
        return AnthropicUpstreamPlan(chat: chat, stopSequences: stops)
    }

    // MARK: - Parameters

    /// The request's own layer: Ollama controls it carries, then the Anthropic fields, which are more specific.
    static func parameterLayer(of request: AnthropicMessagesRequest, model: ResolvedModel, requireMaxTokens: Bool)
        throws(GatewayError) -> ParameterLayer
    {
        var layer = try ParameterLayer(ollamaStyle: request.ollamaControls)
        if let maxTokens = request.maxTokens {
            guard maxTokens > 0 else { throw .invalid("'max_tokens' must be at least 1.", param: "max_tokens") }
            try layer.setOption("num_predict", .int(maxTokens), param: "max_tokens")
        } else if requireMaxTokens {
            throw .invalid("'max_tokens' is required.", param: "max_tokens")
        }
        if let value = request.temperature { try layer.setOption("temperature", .double(value), param: "temperature") }
        if let value = request.topP { try layer.setOption("top_p", .double(value), param: "top_p") }
        if let value = request.topK { layer.options["top_k"] = .int(value) }
        layer.think = try think(
            request.thinking, effort: request.effort, display: request.thinkingDisplay, model: model,
            controlsThink: layer.think)
        return layer
    }

    /// `thinking` (with `output_config.effort`) and the Ollama `think` control, reconciled: they must agree.
    ///
    /// `adaptive` lets the model decide: it thinks where it can (at the effort's level, if one is given)
    /// and answers plainly where it cannot, so a model without the `thinking` capability is sent no
    /// `think` at all rather than refused. Ollama treats a level as "on" for models without levels.
    static func think(
        _ thinking: AnthropicThinkingConfig?, effort: String? = nil, display: String? = nil, model: ResolvedModel? = nil,
        controlsThink: OllamaThink?
    ) throws(GatewayError) -> OllamaThink? {
        var effortLevel: OllamaThink?
        if let effort {
            guard ["low", "medium", "high", "xhigh", "max"].contains(effort) else {
                throw .invalid(
                    "'output_config.effort' must be one of low, medium, high, xhigh, max; got '\(effort)'.",
                    param: "output_config.effort")
            }
            effortLevel = try ThinkingRequest.level(forEffort: effort, param: "output_config.effort")
        }
        if let display, display != "summarized", display != "omitted" {
            throw .invalid("'thinking.display' must be 'summarized' or 'omitted'.", param: "thinking.display")
        }
        /// nil when the capabilities are not known yet: then Ollama's default (a thinking model thinks) decides.
        let canThink = model?.capabilities.map { $0.contains(.thinking) }
        var wishes: [ThinkingRequest.Wish] = []
        if let controlsThink { wishes.append(.init(think: controlsThink, param: "think")) }
        switch thinking {
        case nil:
            // Effort alone asks for nothing the model cannot do: a level only where it thinks anyway.
            if let effortLevel, canThink == true, controlsThink == nil {
                wishes.append(.init(think: effortLevel, param: "output_config.effort"))
            }
        case .enabled(let budget?):
            guard budget > 0 else {
                throw .invalid("'thinking.budget_tokens' must be a positive number of tokens.", param: "thinking.budget_tokens")
            }
            wishes.append(.init(think: effortLevel ?? ThinkingRequest.level(forBudget: budget), param: "thinking"))
        case .enabled(nil):
            wishes.append(.init(think: effortLevel ?? .enabled(true), param: "thinking"))
        case .adaptive:
            if canThink != false, controlsThink != .enabled(false) {
                // With unknown capabilities only a level is sent: a bare "on" could be refused.
                if let effortLevel, canThink == true {
                    wishes.append(.init(think: effortLevel, param: "thinking"))
                } else if canThink == true {
                    wishes.append(.init(think: .enabled(true), param: "thinking"))
                }
            }
        case .disabled:
            wishes.append(.init(think: .enabled(false), param: "thinking"))
        case .unknown:
            throw .invalid("'thinking.type' must be 'enabled', 'disabled' or 'adaptive'.", param: "thinking.type")
        }
        return try ThinkingRequest.combine(wishes)
    }

    static func stopSequences(_ sequences: [String]?) throws(GatewayError) -> [String] {
        guard let sequences else { return [] }
        for (index, sequence) in sequences.enumerated() where sequence.isEmpty {
            throw .invalid("'stop_sequences[\(index)]' must not be empty.", param: "stop_sequences[\(index)]")
        }
        return sequences
    }

    /// The tools in force at the end of the conversation, which are the ones the model may call now:
    /// `tools`, changed in order by the `tool_addition`/`tool_removal` blocks of system messages
    /// (the mid-conversation-tool-changes beta). Ollama takes one tool list per request.
    static func effectiveTools(of request: AnthropicMessagesRequest) throws(GatewayError) -> [AnthropicTool]? {
        var tools = request.tools ?? []
        var changed = false
        for (index, message) in request.messages.enumerated() where message.role == "system" {
            guard case .blocks(let blocks) = message.content else { continue }
            for (blockIndex, block) in blocks.enumerated() {
                guard case .unknown(let type, let raw) = block, type == "tool_addition" || type == "tool_removal" else {
                    continue
                }
                let path = "messages[\(index)].content[\(blockIndex)].tool"
                let tool = raw["tool"]
                let kind = tool?["type"]?.stringValue
                changed = true
                switch (type, kind) {
                case ("tool_addition", "tool_definition"):
                    guard let definition = tool?["definition"], let name = definition["name"]?.stringValue else {
                        throw .invalid("'\(path).definition' must be a tool with a 'name'.", param: "\(path).definition")
                    }
                    tools.removeAll { $0.name == name }
                    tools.append(AnthropicTool(
                        type: definition["type"]?.stringValue, name: name,
                        description: definition["description"]?.stringValue, inputSchema: definition["input_schema"]))
                case ("tool_addition", "tool_reference"):
                    guard let name = tool?["name"]?.stringValue else {
                        throw .invalid("'\(path).name' is required.", param: "\(path).name")
                    }
                    if tools.contains(where: { $0.name == name }) { continue }
                    guard let declared = request.tools?.first(where: { $0.name == name }) else {
                        throw .invalid(
                            "'\(path)' names the tool '\(name)', which is neither among 'tools' nor defined earlier.",
                            param: "\(path).name")
                    }
                    tools.append(declared)
                case ("tool_removal", "tool_reference"):
                    guard let name = tool?["name"]?.stringValue else {
                        throw .invalid("'\(path).name' is required.", param: "\(path).name")
                    }
                    tools.removeAll { $0.name == name }
                default:
                    throw .invalid(
                        "'\(path).type' '\(kind ?? "")' is not supported here: use 'tool_reference' (or 'tool_definition' "
                            + "to add a tool); MCP tools are not available through this gateway.",
                        param: "\(path).type")
                }
            }
        }
        if !changed { return request.tools }
        return tools
    }

    static func tools(_ tools: [AnthropicTool]?, choice: AnthropicToolChoice?) throws(GatewayError) -> [OllamaTool]? {
        guard let tools, !tools.isEmpty else {
            switch choice {
            case .tool(let name):
                throw .invalid("'tool_choice' names the tool '\(name)' but no tools were given.", param: "tool_choice")
            case .any:
                throw .invalid("'tool_choice' is 'any' but no tools were given.", param: "tool_choice")
            default:
                return nil
            }
        }
        var converted: [OllamaTool] = []
        for (index, tool) in tools.enumerated() {
            if let type = tool.type, type != "custom" {
                throw .invalid(
                    "Tools of type '\(type)' run on Anthropic's servers and are not available here: define the tool "
                        + "with 'name', 'description' and 'input_schema'.",
                    param: "tools[\(index)].type")
            }
            guard !tool.name.isEmpty else { throw .invalid("'tools[\(index)].name' must not be empty.", param: "tools[\(index)].name") }
            if let schema = tool.inputSchema, schema.objectValue == nil {
                throw .invalid("'tools[\(index)].input_schema' must be a JSON Schema object.", param: "tools[\(index)].input_schema")
            }
            converted.append(OllamaTool(function: .init(
                name: tool.name, description: tool.description,
                parameters: tool.inputSchema ?? ["type": "object", "properties": [:]])))
        }
        switch choice ?? .auto {
        case .auto, .any:
            // Ollama cannot force a call: `any` is sent like `auto` (documented).
            return converted
        case .none:
            return nil
        case .tool(let name):
            guard let only = converted.first(where: { $0.function.name == name }) else {
                throw .invalid("'tool_choice' names the tool '\(name)', which is not among 'tools'.", param: "tool_choice.name")
            }
            return [only]
        case .unknown:
            throw .invalid(
                "'tool_choice.type' must be 'auto', 'any', 'tool' (with 'name') or 'none'.", param: "tool_choice")
        }
    }

    // MARK: - Messages

    static func messages(_ request: AnthropicMessagesRequest, images: FetchedImages, stripBillingHeader: Bool = false)
        throws(GatewayError) -> [OllamaMessage]
    {
        var result: [OllamaMessage] = []
        result.reserveCapacity(request.messages.count + 1)
        func appendSystem(_ text: String) {
            let text = stripBillingHeader ? ClaudeCodeBillingHeader.strip(text) : text
            if !text.isEmpty { result.append(OllamaMessage(role: "system", content: text)) }
        }
        if let system = request.system {
            appendSystem(try systemText(system))
        }
        /// Tool names by `tool_use` id, from earlier assistant turns, so tool results can name their tool.
        var toolNames: [String: String] = [:]
        for (index, message) in request.messages.enumerated() {
            let path = "messages[\(index)]"
            switch message.role {
            case "user":
                result.append(contentsOf: try userTurn(message.content, toolNames: toolNames, images: images, path: path))
            case "assistant":
                let turn = try assistantTurn(message.content, path: path)
                for call in turn.toolCalls ?? [] {
                    if let id = call.id { toolNames[id] = call.function.name }
                }
                result.append(turn)
            case "system":
                // Ollama takes system messages anywhere in the conversation: the position is kept.
                appendSystem(try systemMessageText(message.content, path: path))
            default:
                throw .invalid(
                    "Invalid role '\(message.role)': expected 'user', 'assistant' or 'system'.", param: "\(path).role")
            }
        }
        return result
    }

    /// A `role: "system"` message's text. Its tool changes are read by `effectiveTools`.
    static func systemMessageText(_ content: AnthropicContent, path: String) throws(GatewayError) -> String {
        switch content {
        case .text(let text): return text
        case .blocks(let blocks):
            var texts: [String] = []
            for (index, block) in blocks.enumerated() {
                switch block {
                case .text(let text): texts.append(text)
                case .unknown("tool_addition", _), .unknown("tool_removal", _): continue
                default:
                    throw .invalid(
                        "System messages may hold 'text', 'tool_addition' and 'tool_removal' blocks only.",
                        param: "\(path).content[\(index)].type")
                }
            }
            return texts.joined(separator: "\n")
        }
    }

    static func systemText(_ system: AnthropicSystem) throws(GatewayError) -> String {
        switch system {
        case .text(let text): return text
        case .blocks(let blocks):
            var texts: [String] = []
            for (index, block) in blocks.enumerated() {
                guard case .text(let text) = block else {
                    throw .invalid("'system' blocks must be of type 'text'.", param: "system[\(index)].type")
                }
                texts.append(text)
            }
            return texts.joined(separator: "\n")
        }
    }

    /// A user turn: its tool results first, as `tool` messages in their order (they answer the
    /// assistant turn just before), then its text and images as one `user` message.
    static func userTurn(_ content: AnthropicContent, toolNames: [String: String], images: FetchedImages, path: String)
        throws(GatewayError) -> [OllamaMessage]
    {
        let blocks: [AnthropicContentBlock]
        switch content {
        case .text(let text): return [OllamaMessage(role: "user", content: text)]
        case .blocks(let list): blocks = list
        }
        var results: [OllamaMessage] = []
        var texts: [String] = []
        var base64Images: [String] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch block {
            case .text(let text):
                texts.append(text)
            case .image(let source):
                base64Images.append(try image(source, images: images, path: blockPath))
            case .toolResult(let id, let resultContent, let isError):
                let (text, resultImages) = try toolResultContent(resultContent, images: images, path: "\(blockPath).content")
                results.append(OllamaMessage(
                    role: "tool", content: isError == true ? "Error: " + text : text,
                    images: resultImages.isEmpty ? nil : resultImages, toolName: toolNames[id], toolCallID: id))
            case .toolUse:
                throw .invalid("'tool_use' blocks belong to assistant turns.", param: "\(blockPath).type")
            case .thinking, .redactedThinking:
                throw .invalid("Thinking blocks belong to assistant turns.", param: "\(blockPath).type")
            case .unknown(let type, _):
                throw unsupported(type, param: "\(blockPath).type")
            }
        }
        if !texts.isEmpty || !base64Images.isEmpty || results.isEmpty {
            results.append(OllamaMessage(
                role: "user", content: texts.joined(separator: "\n"), images: base64Images.isEmpty ? nil : base64Images))
        }
        return results
    }

    /// An assistant turn: thinking sent back → `thinking`, text → `content`, `tool_use` → `tool_calls`
    /// with the input object as Ollama's `arguments` object.
    static func assistantTurn(_ content: AnthropicContent, path: String) throws(GatewayError) -> OllamaMessage {
        let blocks: [AnthropicContentBlock]
        switch content {
        case .text(let text): return OllamaMessage(role: "assistant", content: text)
        case .blocks(let list): blocks = list
        }
        var texts: [String] = []
        var thinking: [String] = []
        var calls: [OllamaToolCall] = []
        for (index, block) in blocks.enumerated() {
            let blockPath = "\(path).content[\(index)]"
            switch block {
            case .text(let text):
                texts.append(text)
            case .thinking(let text, _):
                thinking.append(text)
            case .redactedThinking:
                // Encrypted reasoning from Anthropic's own models: unreadable to any other model (documented).
                continue
            case .toolUse(let id, let name, let input):
                guard let arguments = input.objectValue else {
                    throw .invalid("'\(blockPath).input' must be a JSON object, got \(input.typeName).", param: "\(blockPath).input")
                }
                calls.append(OllamaToolCall(id: id, function: .init(index: calls.count, name: name, arguments: arguments)))
            case .image:
                throw .invalid("Images belong to user turns.", param: "\(blockPath).type")
            case .toolResult:
                throw .invalid("'tool_result' blocks belong to user turns.", param: "\(blockPath).type")
            case .unknown(let type, _):
                throw unsupported(type, param: "\(blockPath).type")
            }
        }
        let joinedThinking = thinking.joined(separator: "\n")
        return OllamaMessage(
            role: "assistant", content: texts.joined(separator: "\n"),
            thinking: joinedThinking.isEmpty ? nil : joinedThinking, toolCalls: calls.isEmpty ? nil : calls)
    }

    static func toolResultContent(_ content: AnthropicToolResultContent?, images: FetchedImages, path: String)
        throws(GatewayError) -> (String, [String])
    {
        switch content {
        case nil: return ("", [])
        case .text(let text): return (text, [])
        case .blocks(let blocks):
            var texts: [String] = []
            var base64Images: [String] = []
            for (index, block) in blocks.enumerated() {
                switch block {
                case .text(let text): texts.append(text)
                case .image(let source): base64Images.append(try image(source, images: images, path: "\(path)[\(index)]"))
                case .unknown(let type, _): throw unsupported(type, param: "\(path)[\(index)].type")
                default:
                    throw .invalid("'tool_result' content may hold 'text' and 'image' blocks only.", param: "\(path)[\(index)].type")
                }
            }
            return (texts.joined(separator: "\n"), base64Images)
        }
    }

    /// The plain base64 Ollama wants, from inline data or a fetched URL.
    static func image(_ source: AnthropicImageSource, images: FetchedImages, path: String) throws(GatewayError) -> String {
        switch source {
        case .base64(_, let data):
            // Some clients send a whole data URL as `data`: strip its prefix as for `image_url`.
            if data.hasPrefix("data:") {
                return try ImageReference.base64(of: data, fetched: images, param: "\(path).source.data")
            }
            guard !data.isEmpty else { throw .invalid("'\(path).source.data' is empty.", param: "\(path).source.data") }
            try ImageReference.checkSize(ofBase64: data, maxBytes: images.maxBytes, param: "\(path).source.data")
            return data
        case .url(let url):
            return try ImageReference.base64(of: url, fetched: images, param: "\(path).source.url")
        case .unknown(let type, _):
            throw .invalid(
                "Image sources of type '\(type)' are not supported: use 'base64' or 'url'.", param: "\(path).source.type")
        }
    }

    static func unsupported(_ type: String, param: String) -> GatewayError {
        .invalid(
            "Content blocks of type '\(type)' are not supported by this gateway: use 'text', 'image', 'tool_use', "
                + "'tool_result' or 'thinking'.",
            param: param)
    }
}


/// The attribution line Claude Code puts at the start of its system prompt
/// (`x-anthropic-billing-header: cc_version=2.1.337.607; cc_entrypoint=sdk-py;`, with more fields in
/// some versions). Part of it is a fingerprint that differs from one conversation (or subagent) to the
/// next, so prompts that carry it never share the long system-and-tools prefix Ollama's prompt cache
/// could reuse. It means nothing to a local model.
enum ClaudeCodeBillingHeader {
    static let prefix = "x-anthropic-billing-header:"

    /// The text without its billing lines (and the line breaks that ended them).
    static func strip(_ text: String) -> String {
        guard text.contains(prefix) else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeAll { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) }
        return lines.joined(separator: "\n")
    }
}
