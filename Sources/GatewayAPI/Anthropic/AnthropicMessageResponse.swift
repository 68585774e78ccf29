import Foundation

/// A message as `POST /v1/messages` returns it (and as `message_start` carries it, with no content yet).
/// `stop_reason` and `stop_sequence` are always written, `null` when unset, as Anthropic does.
public struct AnthropicMessageResponse: Sendable, Hashable, Codable {
    public var id: String
    public var type: String
    public var role: String
    /// The model name as the client asked for it.
    public var model: String
    public var content: [AnthropicResponseBlock]
    public var stopReason: String?
    public var stopSequence: String?
    public var usage: AnthropicUsage

    enum CodingKeys: String, CodingKey {
        case id, type, role, model, content, usage
        case stopReason = "stop_reason"
        case stopSequence = "stop_sequence"
    }

    public init(
        id: String, model: String, content: [AnthropicResponseBlock] = [], stopReason: String? = nil,
        stopSequence: String? = nil, usage: AnthropicUsage = AnthropicUsage()
    ) {
        self.id = id
        self.type = "message"
        self.role = "assistant"
        self.model = model
        self.content = content
        self.stopReason = stopReason
        self.stopSequence = stopSequence
        self.usage = usage
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(role, forKey: .role)
        try container.encode(model, forKey: .model)
        try container.encode(content, forKey: .content)
        try container.encode(stopReason, forKey: .stopReason)
        try container.encode(stopSequence, forKey: .stopSequence)
        try container.encode(usage, forKey: .usage)
    }
}

public struct AnthropicUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int
    public var outputTokens: Int
    /// Anthropic's prompt-cache counters. Ollama does not report what its prompt cache reused, so
    /// they are 0 — said, rather than left out, for clients (Claude Code) that read them after
    /// sending `cache_control`.
    public var cacheCreationInputTokens: Int
    public var cacheReadInputTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
        case cacheCreationInputTokens = "cache_creation_input_tokens"
        case cacheReadInputTokens = "cache_read_input_tokens"
    }

    public init(inputTokens: Int = 0, outputTokens: Int = 0, cacheCreationInputTokens: Int = 0, cacheReadInputTokens: Int = 0) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        inputTokens = try container.decode(Int.self, forKey: .inputTokens)
        outputTokens = try container.decode(Int.self, forKey: .outputTokens)
        cacheCreationInputTokens = try container.decodeIfPresent(Int.self, forKey: .cacheCreationInputTokens) ?? 0
        cacheReadInputTokens = try container.decodeIfPresent(Int.self, forKey: .cacheReadInputTokens) ?? 0
    }
}

/// A content block of the assistant's answer.
public enum AnthropicResponseBlock: Sendable, Hashable, Codable {
    case thinking(thinking: String, signature: String)
    case text(String)
    case toolUse(id: String, name: String, input: [String: JSONValue])

    enum CodingKeys: String, CodingKey { case type, thinking, signature, text, id, name, input }

    public var type: String {
        switch self {
        case .thinking: "thinking"
        case .text: "text"
        case .toolUse: "tool_use"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "thinking":
            self = .thinking(
                thinking: try container.decode(String.self, forKey: .thinking),
                signature: try container.decode(String.self, forKey: .signature))
        case "text":
            self = .text(try container.decode(String.self, forKey: .text))
        case "tool_use":
            self = .toolUse(
                id: try container.decode(String.self, forKey: .id), name: try container.decode(String.self, forKey: .name),
                input: try container.decode([String: JSONValue].self, forKey: .input))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown block type '\(type)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .thinking(let thinking, let signature):
            try container.encode(thinking, forKey: .thinking)
            try container.encode(signature, forKey: .signature)
        case .text(let text):
            try container.encode(text, forKey: .text)
        case .toolUse(let id, let name, let input):
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(input, forKey: .input)
        }
    }
}

/// `POST /v1/messages/count_tokens` answer.
public struct AnthropicTokenCount: Sendable, Hashable, Codable {
    public var inputTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
    }

    public init(inputTokens: Int) {
        self.inputTokens = inputTokens
    }
}

/// Anthropic's error body: `{"type":"error","error":{"type","message"}}`.
public struct AnthropicErrorBody: Sendable, Hashable, Codable {
    public struct Detail: Sendable, Hashable, Codable {
        public var type: String
        public var message: String

        public init(type: String, message: String) {
            self.type = type
            self.message = message
        }
    }

    public var type: String
    public var error: Detail

    public init(error: Detail) {
        self.type = "error"
        self.error = error
    }
}
