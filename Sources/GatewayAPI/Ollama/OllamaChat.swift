import Foundation

/// `think` as Ollama takes it: `true`/`false` or a level (`"low"`, `"medium"`, `"high"`, `"max"`).
public enum OllamaThink: Sendable, Hashable, Codable {
    case enabled(Bool)
    case level(String)

    public static let levels: Set<String> = ["low", "medium", "high", "max"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .enabled(flag)
        } else {
            self = .level(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .enabled(let flag): try container.encode(flag)
        case .level(let level): try container.encode(level)
        }
    }

    /// As it appears in a request body.
    public var jsonValue: JSONValue {
        switch self {
        case .enabled(let flag): .bool(flag)
        case .level(let level): .string(level)
        }
    }

    /// Whether the model is asked to think at all.
    public var isOn: Bool {
        switch self {
        case .enabled(let flag): flag
        case .level: true
        }
    }
}

/// A tool call as Ollama sends and receives it: `arguments` is an object, never a string.
public struct OllamaToolCall: Sendable, Hashable, Codable {
    public struct Function: Sendable, Hashable, Codable {
        public var index: Int?
        public var name: String
        public var arguments: [String: JSONValue]

        public init(index: Int? = nil, name: String, arguments: [String: JSONValue]) {
            self.index = index
            self.name = name
            self.arguments = arguments
        }
    }

    public var id: String?
    public var function: Function

    public init(id: String? = nil, function: Function) {
        self.id = id
        self.function = function
    }
}

public struct OllamaTool: Sendable, Hashable, Codable {
    public struct Function: Sendable, Hashable, Codable {
        public var name: String
        public var description: String?
        public var parameters: JSONValue?

        public init(name: String, description: String? = nil, parameters: JSONValue? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
        }
    }

    public var type: String
    public var function: Function

    public init(type: String = "function", function: Function) {
        self.type = type
        self.function = function
    }
}

public struct OllamaMessage: Sendable, Hashable, Codable {
    public var role: String
    public var content: String
    public var thinking: String?
    /// Plain base64 strings, without a `data:` prefix.
    public var images: [String]?
    public var toolCalls: [OllamaToolCall]?
    public var toolName: String?
    public var toolCallID: String?

    enum CodingKeys: String, CodingKey {
        case role, content, thinking, images
        case toolCalls = "tool_calls"
        case toolName = "tool_name"
        case toolCallID = "tool_call_id"
    }

    public init(
        role: String, content: String = "", thinking: String? = nil, images: [String]? = nil,
        toolCalls: [OllamaToolCall]? = nil, toolName: String? = nil, toolCallID: String? = nil
    ) {
        self.role = role
        self.content = content
        self.thinking = thinking
        self.images = images
        self.toolCalls = toolCalls
        self.toolName = toolName
        self.toolCallID = toolCallID
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        // Ollama always sends `content`; clients of the native API may leave it out.
        content = try container.decodeIfPresent(String.self, forKey: .content) ?? ""
        thinking = try container.decodeIfPresent(String.self, forKey: .thinking)
        images = try container.decodeIfPresent([String].self, forKey: .images)
        toolCalls = try container.decodeIfPresent([OllamaToolCall].self, forKey: .toolCalls)
        toolName = try container.decodeIfPresent(String.self, forKey: .toolName)
        toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
    }
}

/// `POST /api/chat` request body.
public struct OllamaChatRequest: Sendable, Hashable, Codable {
    public var model: String
    public var messages: [OllamaMessage]
    public var tools: [OllamaTool]?
    /// `"json"` or a JSON Schema object.
    public var format: JSONValue?
    public var options: [String: JSONValue]?
    public var stream: Bool?
    /// A duration string (`"5m"`) or a number of seconds.
    public var keepAlive: JSONValue?
    public var think: OllamaThink?
    public var truncate: Bool?
    public var shift: Bool?
    public var logprobs: Bool?
    public var topLogprobs: Int?

    enum CodingKeys: String, CodingKey {
        case model, messages, tools, format, options, stream, think, truncate, shift, logprobs
        case keepAlive = "keep_alive"
        case topLogprobs = "top_logprobs"
    }

    public init(
        model: String, messages: [OllamaMessage], tools: [OllamaTool]? = nil, format: JSONValue? = nil,
        options: [String: JSONValue]? = nil, stream: Bool? = nil, keepAlive: JSONValue? = nil,
        think: OllamaThink? = nil
    ) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.format = format
        self.options = options
        self.stream = stream
        self.keepAlive = keepAlive
        self.think = think
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? ""
        messages = try container.decodeIfPresent([OllamaMessage].self, forKey: .messages) ?? []
        tools = try container.decodeIfPresent([OllamaTool].self, forKey: .tools)
        format = try container.decodeIfPresent(JSONValue.self, forKey: .format)
        options = try container.decodeIfPresent([String: JSONValue].self, forKey: .options)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
        keepAlive = try container.decodeIfPresent(JSONValue.self, forKey: .keepAlive)
        think = try container.decodeIfPresent(OllamaThink.self, forKey: .think)
        truncate = try container.decodeIfPresent(Bool.self, forKey: .truncate)
        shift = try container.decodeIfPresent(Bool.self, forKey: .shift)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try container.decodeIfPresent(Int.self, forKey: .topLogprobs)
    }
}

/// Timing and token counts Ollama adds to the last line of a generation.
public struct OllamaMetrics: Sendable, Hashable, Codable {
    public var totalDuration: Int64?
    public var loadDuration: Int64?
    public var promptEvalCount: Int?
    public var promptEvalDuration: Int64?
    public var evalCount: Int?
    public var evalDuration: Int64?

    enum CodingKeys: String, CodingKey {
        case totalDuration = "total_duration"
        case loadDuration = "load_duration"
        case promptEvalCount = "prompt_eval_count"
        case promptEvalDuration = "prompt_eval_duration"
        case evalCount = "eval_count"
        case evalDuration = "eval_duration"
    }

    public init(
        totalDuration: Int64? = nil, loadDuration: Int64? = nil, promptEvalCount: Int? = nil,
        promptEvalDuration: Int64? = nil, evalCount: Int? = nil, evalDuration: Int64? = nil
    ) {
        self.totalDuration = totalDuration
        self.loadDuration = loadDuration
        self.promptEvalCount = promptEvalCount
        self.promptEvalDuration = promptEvalDuration
        self.evalCount = evalCount
        self.evalDuration = evalDuration
    }
}

/// One NDJSON line of `/api/chat` (or the single non-streaming body).
/// A line carrying `error` is a failure, whatever else it holds.
public struct OllamaChatChunk: Sendable, Hashable, Codable {
    public var model: String?
    public var createdAt: String?
    public var message: OllamaMessage?
    public var done: Bool
    public var doneReason: String?
    public var error: String?
    public var metrics: OllamaMetrics

    enum CodingKeys: String, CodingKey {
        case model, message, done, error
        case createdAt = "created_at"
        case doneReason = "done_reason"
    }

    public init(
        model: String? = nil, createdAt: String? = nil, message: OllamaMessage? = nil, done: Bool = false,
        doneReason: String? = nil, error: String? = nil, metrics: OllamaMetrics = OllamaMetrics()
    ) {
        self.model = model
        self.createdAt = createdAt
        self.message = message
        self.done = done
        self.doneReason = doneReason
        self.error = error
        self.metrics = metrics
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
        message = try container.decodeIfPresent(OllamaMessage.self, forKey: .message)
        done = try container.decodeIfPresent(Bool.self, forKey: .done) ?? false
        doneReason = try container.decodeIfPresent(String.self, forKey: .doneReason)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        metrics = try OllamaMetrics(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(message, forKey: .message)
        try container.encodeIfPresent(error, forKey: .error)
        if error == nil { try container.encode(done, forKey: .done) }
        try container.encodeIfPresent(doneReason, forKey: .doneReason)
        try metrics.encode(to: encoder)
    }
}
