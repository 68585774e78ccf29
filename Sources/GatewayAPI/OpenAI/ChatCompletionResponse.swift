import Foundation

public struct CompletionUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = promptTokens + completionTokens
    }
}

/// The assistant message of a non-streamed completion. `content` is encoded as `null` when absent.
public struct ChatResponseMessage: Sendable, Hashable, Codable {
    public var role: String
    public var content: String?
    public var reasoningContent: String?
    public var reasoning: String?
    public var toolCalls: [ChatToolCall]?

    enum CodingKeys: String, CodingKey {
        case role, content, reasoning
        case reasoningContent = "reasoning_content"
        case toolCalls = "tool_calls"
    }

    public init(
        role: String = "assistant", content: String?, reasoningContent: String? = nil, reasoning: String? = nil,
        toolCalls: [ChatToolCall]? = nil
    ) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.reasoning = reasoning
        self.toolCalls = toolCalls
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(reasoningContent, forKey: .reasoningContent)
        try container.encodeIfPresent(reasoning, forKey: .reasoning)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
    }
}

public struct ChatCompletionResponse: Sendable, Hashable, Codable {
    public struct Choice: Sendable, Hashable, Codable {
        public var index: Int
        public var message: ChatResponseMessage
        public var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, message
            case finishReason = "finish_reason"
        }

        public init(index: Int = 0, message: ChatResponseMessage, finishReason: String?) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }
    }

    public var id: String
    public var object: String = "chat.completion"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: CompletionUsage?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: CompletionUsage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// A tool call inside a streamed delta: it carries its `index` in the response.
public struct ChatToolCallDelta: Sendable, Hashable, Codable {
    public var index: Int
    public var id: String?
    public var type: String?
    public var function: ChatToolCall.Function?

    public init(index: Int, id: String?, type: String? = "function", function: ChatToolCall.Function?) {
        self.index = index
        self.id = id
        self.type = type
        self.function = function
    }
}

public struct ChatDelta: Sendable, Hashable, Codable {
    public var role: String?
    public var content: String?
    public var reasoningContent: String?
    public var reasoning: String?
    public var toolCalls: [ChatToolCallDelta]?

    enum CodingKeys: String, CodingKey {
        case role, content, reasoning
        case reasoningContent = "reasoning_content"
        case toolCalls = "tool_calls"
    }

    public init(
        role: String? = nil, content: String? = nil, reasoningContent: String? = nil, reasoning: String? = nil,
        toolCalls: [ChatToolCallDelta]? = nil
    ) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.reasoning = reasoning
        self.toolCalls = toolCalls
    }
}

public struct ChatCompletionChunk: Sendable, Hashable, Codable {
    public struct Choice: Sendable, Hashable, Codable {
        public var index: Int
        public var delta: ChatDelta
        public var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, delta
            case finishReason = "finish_reason"
        }

        public init(index: Int = 0, delta: ChatDelta, finishReason: String? = nil) {
            self.index = index
            self.delta = delta
            self.finishReason = finishReason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            // OpenAI sends `finish_reason: null` on every chunk but the last.
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String = "chat.completion.chunk"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: CompletionUsage?

    public init(id: String, created: Int, model: String, choices: [Choice], usage: CompletionUsage? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

/// OpenAI's error body: `{"error":{"message","type","param","code"}}`.
public struct OpenAIErrorBody: Sendable, Hashable, Codable {
    public struct Detail: Sendable, Hashable, Codable {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?

        public init(message: String, type: String, param: String?, code: String?) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }

    public var error: Detail

    public init(error: Detail) {
        self.error = error
    }
}
