import Foundation

/// `POST /v1/messages` (and `/v1/messages/count_tokens`) request body.
///
/// `max_tokens` is optional here because `count_tokens` has none; the messages route requires it.
/// Ollama controls sent beside the Anthropic fields (`num_ctx`, `keep_alive`, `think`, `options`, …, at the
/// top level or in a literal `extra_body`) are collected in `ollamaControls`, as for the OpenAI surface.
public struct AnthropicMessagesRequest: Sendable, Hashable {
    public var model: String
    public var maxTokens: Int?
    public var system: AnthropicSystem?
    public var messages: [AnthropicMessage]
    public var stream: Bool
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var stopSequences: [String]?
    /// `{user_id}`: accepted, not used.
    public var metadata: JSONValue?
    public var tools: [AnthropicTool]?
    public var toolChoice: AnthropicToolChoice?
    public var thinking: AnthropicThinkingConfig?
    /// `thinking.display`: `summarized` (the text, the default here) or `omitted` (empty text, a signature).
    public var thinkingDisplay: String?
    /// `output_config.effort`: low, medium, high, xhigh or max; a thinking level where the model thinks.
    public var effort: String?
    /// Ollama controls from the top level and from `extra_body`, in Ollama's format.
    public var ollamaControls: [String: JSONValue]

    public init(
        model: String, maxTokens: Int? = nil, system: AnthropicSystem? = nil, messages: [AnthropicMessage],
        stream: Bool = false, temperature: Double? = nil, topP: Double? = nil, topK: Int? = nil,
        stopSequences: [String]? = nil, metadata: JSONValue? = nil, tools: [AnthropicTool]? = nil,
        toolChoice: AnthropicToolChoice? = nil, thinking: AnthropicThinkingConfig? = nil,
        ollamaControls: [String: JSONValue] = [:], thinkingDisplay: String? = nil, effort: String? = nil
    ) {
        self.thinkingDisplay = thinkingDisplay
        self.effort = effort
        self.model = model
        self.maxTokens = maxTokens
        self.system = system
        self.messages = messages
        self.stream = stream
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.stopSequences = stopSequences
        self.metadata = metadata
        self.tools = tools
        self.toolChoice = toolChoice
        self.thinking = thinking
        self.ollamaControls = ollamaControls
    }
}

extension AnthropicMessagesRequest: Decodable {
    enum CodingKeys: String, CodingKey {
        case model, system, messages, stream, temperature, metadata, tools, thinking
        case maxTokens = "max_tokens"
        case topP = "top_p"
        case topK = "top_k"
        case stopSequences = "stop_sequences"
        case toolChoice = "tool_choice"
        case extraBody = "extra_body"
        case outputConfig = "output_config"
    }

    enum ThinkingKeys: String, CodingKey { case display }
    enum OutputConfigKeys: String, CodingKey { case effort }

    /// Top-level keys of the Anthropic surface that share a name with an Ollama control.
    public static let surfaceKeys: Set<String> = ["temperature", "top_p", "top_k"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        system = try container.decodeIfPresent(AnthropicSystem.self, forKey: .system)
        messages = try container.decode([AnthropicMessage].self, forKey: .messages)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        topK = try container.decodeIfPresent(Int.self, forKey: .topK)
        stopSequences = try container.decodeIfPresent([String].self, forKey: .stopSequences)
        metadata = try container.decodeIfPresent(JSONValue.self, forKey: .metadata)
        tools = try container.decodeIfPresent([AnthropicTool].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(AnthropicToolChoice.self, forKey: .toolChoice)
        thinking = try container.decodeIfPresent(AnthropicThinkingConfig.self, forKey: .thinking)
        if thinking != nil {
            let nested = try container.nestedContainer(keyedBy: ThinkingKeys.self, forKey: .thinking)
            thinkingDisplay = try nested.decodeIfPresent(String.self, forKey: .display)
        }
        // `output_config` also carries `format` (structured output) and may grow: only `effort` is read.
        if container.contains(.outputConfig), try !container.decodeNil(forKey: .outputConfig) {
            let nested = try container.nestedContainer(keyedBy: OutputConfigKeys.self, forKey: .outputConfig)
            effort = try nested.decodeIfPresent(String.self, forKey: .effort)
        }
        ollamaControls = try OllamaControlKey.collect(
            from: decoder, extraBodyKey: CodingKeys.extraBody.stringValue, surfaceKeys: Self.surfaceKeys)
    }
}

/// `system`: a string or an array of text blocks.
public enum AnthropicSystem: Sendable, Hashable, Decodable {
    case text(String)
    case blocks([AnthropicContentBlock])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .blocks(try container.decode([AnthropicContentBlock].self))
        }
    }
}

/// One turn of the conversation: `user`, `assistant` or `system` (instructions at that point of the
/// conversation; text, plus `tool_addition`/`tool_removal` blocks of the mid-conversation-tool-changes beta).
public struct AnthropicMessage: Sendable, Hashable, Decodable {
    public var role: String
    public var content: AnthropicContent

    enum CodingKeys: String, CodingKey { case role, content }

    public init(role: String, content: AnthropicContent) {
        self.role = role
        self.content = content
    }
}

/// Message content: a plain string or an array of blocks.
public enum AnthropicContent: Sendable, Hashable, Decodable {
    case text(String)
    case blocks([AnthropicContentBlock])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .blocks(try container.decode([AnthropicContentBlock].self))
        }
    }
}

/// A content block a client sends, by `type`. Types the gateway does not know are kept whole, so
/// the translator can refuse them by name instead of dropping them.
public enum AnthropicContentBlock: Sendable, Hashable, Decodable {
    case text(String)
    case image(AnthropicImageSource)
    case toolUse(id: String, name: String, input: JSONValue)
    case toolResult(toolUseID: String, content: AnthropicToolResultContent?, isError: Bool?)
    case thinking(thinking: String, signature: String?)
    case redactedThinking(data: String)
    case unknown(type: String, JSONValue)

    enum CodingKeys: String, CodingKey {
        case type, text, source, id, name, input, content, thinking, signature, data
        case toolUseID = "tool_use_id"
        case isError = "is_error"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text":
            self = .text(try container.decode(String.self, forKey: .text))
        case "image":
            self = .image(try container.decode(AnthropicImageSource.self, forKey: .source))
        case "tool_use":
            self = .toolUse(
                id: try container.decode(String.self, forKey: .id),
                name: try container.decode(String.self, forKey: .name),
                input: try container.decodeIfPresent(JSONValue.self, forKey: .input) ?? .object([:]))
        case "tool_result":
            self = .toolResult(
                toolUseID: try container.decode(String.self, forKey: .toolUseID),
                content: try container.decodeIfPresent(AnthropicToolResultContent.self, forKey: .content),
                isError: try container.decodeIfPresent(Bool.self, forKey: .isError))
        case "thinking":
            self = .thinking(
                thinking: try container.decode(String.self, forKey: .thinking),
                signature: try container.decodeIfPresent(String.self, forKey: .signature))
        case "redacted_thinking":
            self = .redactedThinking(data: try container.decodeIfPresent(String.self, forKey: .data) ?? "")
        default:
            self = .unknown(type: type, try JSONValue(from: decoder))
        }
    }
}

/// `tool_result.content`: a string or an array of blocks (text, image).
public enum AnthropicToolResultContent: Sendable, Hashable, Decodable {
    case text(String)
    case blocks([AnthropicContentBlock])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .blocks(try container.decode([AnthropicContentBlock].self))
        }
    }
}

/// `image.source`: inline base64 or a URL the gateway fetches.
public enum AnthropicImageSource: Sendable, Hashable, Decodable {
    case base64(mediaType: String?, data: String)
    case url(String)
    case unknown(type: String, JSONValue)

    enum CodingKeys: String, CodingKey {
        case type, data, url
        case mediaType = "media_type"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "base64":
            self = .base64(
                mediaType: try container.decodeIfPresent(String.self, forKey: .mediaType),
                data: try container.decode(String.self, forKey: .data))
        case "url":
            self = .url(try container.decode(String.self, forKey: .url))
        default:
            self = .unknown(type: type, try JSONValue(from: decoder))
        }
    }
}

/// A tool the model may call. Client tools have no `type` (or `custom`); Anthropic's server tools
/// (`web_search_…`, `bash_…`) carry their own type and are refused by the translator.
public struct AnthropicTool: Sendable, Hashable, Decodable {
    public var type: String?
    public var name: String
    public var description: String?
    public var inputSchema: JSONValue?

    enum CodingKeys: String, CodingKey {
        case type, name, description
        case inputSchema = "input_schema"
    }

    public init(type: String? = nil, name: String, description: String? = nil, inputSchema: JSONValue? = nil) {
        self.type = type
        self.name = name
        self.description = description
        self.inputSchema = inputSchema
    }
}

/// `tool_choice`: `{type: auto | any | tool (with name) | none}`, plus `disable_parallel_tool_use` (ignored).
public enum AnthropicToolChoice: Sendable, Hashable, Decodable {
    case auto
    case any
    case tool(String)
    case none
    case unknown(JSONValue)

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        // The object form is Anthropic's; a bare string is accepted as a convenience.
        switch value["type"]?.stringValue ?? value.stringValue {
        case "auto": self = .auto
        case "any": self = .any
        case "none": self = .none
        case "tool":
            if let name = value["name"]?.stringValue { self = .tool(name) } else { self = .unknown(value) }
        default: self = .unknown(value)
        }
    }
}

/// `thinking`: `{type:"enabled", budget_tokens}`, `{type:"disabled"}` or `{type:"adaptive"}`.
public enum AnthropicThinkingConfig: Sendable, Hashable, Decodable {
    case enabled(budgetTokens: Int?)
    case disabled
    case adaptive
    case unknown(JSONValue)

    enum CodingKeys: String, CodingKey {
        case type
        case budgetTokens = "budget_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .type) {
        case "enabled": self = .enabled(budgetTokens: try container.decodeIfPresent(Int.self, forKey: .budgetTokens))
        case "disabled": self = .disabled
        case "adaptive": self = .adaptive
        default: self = .unknown(try JSONValue(from: decoder))
        }
    }
}
