import Foundation

/// `POST /v1/responses` (and `/v1/responses/input_tokens`) request body.
///
/// Like `ChatCompletionRequest` it carries the Ollama controls a client may send at the top level or
/// in `extra_body` (`num_ctx`, `keep_alive`, `think`, `options`, …) in `ollamaControls`.
public struct ResponsesRequest: Sendable, Hashable {
    public var model: String?
    public var input: ResponsesInput?
    public var instructions: String?
    public var tools: [ResponseTool]?
    /// `none`, `auto`, `required`, `{"type":"function","name":…}` or a hosted tool's choice; kept raw so
    /// the translator can name what it refuses.
    public var toolChoice: JSONValue?
    public var parallelToolCalls: Bool?
    public var temperature: Double?
    public var topP: Double?
    public var maxOutputTokens: Int?
    public var reasoning: ResponseReasoningConfig?
    public var text: ResponseTextConfig?
    public var metadata: JSONValue?
    public var user: String?
    public var truncation: String?
    /// Store the response (the API's default); `false` stores nothing.
    public var store: Bool?
    public var include: [String]?
    public var stream: Bool
    public var previousResponseID: String?
    public var background: Bool?
    /// Conversations are not served; kept to refuse them by name.
    public var conversation: JSONValue?
    /// Ollama's `think`, kept raw so an invalid value gets Ollama's own message.
    public var think: JSONValue?
    public var excludeReasoning: Bool?
    public var ollamaControls: [String: JSONValue]

    public init(
        model: String?, input: ResponsesInput?, instructions: String? = nil, tools: [ResponseTool]? = nil,
        toolChoice: JSONValue? = nil, parallelToolCalls: Bool? = nil, temperature: Double? = nil, topP: Double? = nil,
        maxOutputTokens: Int? = nil, reasoning: ResponseReasoningConfig? = nil, text: ResponseTextConfig? = nil,
        metadata: JSONValue? = nil, user: String? = nil, truncation: String? = nil, store: Bool? = nil,
        include: [String]? = nil, stream: Bool = false, previousResponseID: String? = nil, background: Bool? = nil,
        conversation: JSONValue? = nil, think: JSONValue? = nil, excludeReasoning: Bool? = nil,
        ollamaControls: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.input = input
        self.instructions = instructions
        self.tools = tools
        self.toolChoice = toolChoice
        self.parallelToolCalls = parallelToolCalls
        self.temperature = temperature
        self.topP = topP
        self.maxOutputTokens = maxOutputTokens
        self.reasoning = reasoning
        self.text = text
        self.metadata = metadata
        self.user = user
        self.truncation = truncation
        self.store = store
        self.include = include
        self.stream = stream
        self.previousResponseID = previousResponseID
        self.background = background
        self.conversation = conversation
        self.think = think
        self.excludeReasoning = excludeReasoning
        self.ollamaControls = ollamaControls
    }

    /// The input as items: a string is one user message.
    public var inputItems: [ResponseItem] {
        switch input {
        case nil: []
        case .text(let text): [.message(ResponseMessage(role: "user", content: .text(text)))]
        case .items(let items): items
        }
    }
}

extension ResponsesRequest: Decodable {
    enum CodingKeys: String, CodingKey {
        case model, input, instructions, tools, temperature, reasoning, text, metadata, user, truncation, store
        case include, stream, background, conversation, think
        case toolChoice = "tool_choice"
        case parallelToolCalls = "parallel_tool_calls"
        case topP = "top_p"
        case maxOutputTokens = "max_output_tokens"
        case previousResponseID = "previous_response_id"
        case excludeReasoning = "exclude_reasoning"
        case extraBody = "extra_body"
    }

    /// Top-level keys of this surface that share a name with an Ollama control.
    static let surfaceKeys: Set<String> = ["temperature", "top_p", "think", "exclude_reasoning"]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        input = try container.decodeIfPresent(ResponsesInput.self, forKey: .input)
        instructions = try container.decodeIfPresent(String.self, forKey: .instructions)
        tools = try container.decodeIfPresent([ResponseTool].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(JSONValue.self, forKey: .toolChoice)
        parallelToolCalls = try container.decodeIfPresent(Bool.self, forKey: .parallelToolCalls)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        maxOutputTokens = try container.decodeIfPresent(Int.self, forKey: .maxOutputTokens)
        reasoning = try container.decodeIfPresent(ResponseReasoningConfig.self, forKey: .reasoning)
        text = try container.decodeIfPresent(ResponseTextConfig.self, forKey: .text)
        metadata = try container.decodeIfPresent(JSONValue.self, forKey: .metadata)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        truncation = try container.decodeIfPresent(String.self, forKey: .truncation)
        store = try container.decodeIfPresent(Bool.self, forKey: .store)
        include = try container.decodeIfPresent([String].self, forKey: .include)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        previousResponseID = try container.decodeIfPresent(String.self, forKey: .previousResponseID)
        background = try container.decodeIfPresent(Bool.self, forKey: .background)
        conversation = try container.decodeIfPresent(JSONValue.self, forKey: .conversation)
        think = try container.decodeIfPresent(JSONValue.self, forKey: .think)
        excludeReasoning = try container.decodeIfPresent(Bool.self, forKey: .excludeReasoning)
        ollamaControls = try OllamaControlKey.collect(
            from: decoder, extraBodyKey: CodingKeys.extraBody.stringValue, surfaceKeys: Self.surfaceKeys)
    }
}

/// `input`: a string, or a list of items.
public enum ResponsesInput: Sendable, Hashable, Codable {
    case text(String)
    case items([ResponseItem])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .items(try container.decode([ResponseItem].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .items(let items): try container.encode(items)
        }
    }
}

/// A tool: a function the client runs, or one of the hosted tools (kept whole, to be refused by name).
public enum ResponseTool: Sendable, Hashable, Codable {
    case function(name: String, description: String?, parameters: JSONValue?, strict: Bool?)
    case other(type: String, value: JSONValue)

    enum CodingKeys: String, CodingKey { case type, name, description, parameters, strict }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        guard type == "function" else {
            self = .other(type: type, value: try JSONValue(from: decoder))
            return
        }
        self = .function(
            name: try container.decode(String.self, forKey: .name),
            description: try container.decodeIfPresent(String.self, forKey: .description),
            parameters: try container.decodeIfPresent(JSONValue.self, forKey: .parameters),
            strict: try container.decodeIfPresent(Bool.self, forKey: .strict))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .function(let name, let description, let parameters, let strict):
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("function", forKey: .type)
            try container.encode(name, forKey: .name)
            try container.encode(description, forKey: .description)
            try container.encode(parameters, forKey: .parameters)
            try container.encode(strict ?? true, forKey: .strict)
        case .other(_, let value):
            try value.encode(to: encoder)
        }
    }

    public var type: String {
        switch self {
        case .function: "function"
        case .other(let type, _): type
        }
    }
}

/// `reasoning`: `effort` and `summary` (`auto`, `concise`, `detailed`).
public struct ResponseReasoningConfig: Sendable, Hashable, Codable {
    public var effort: String?
    public var summary: String?

    enum CodingKeys: String, CodingKey { case effort, summary }

    public init(effort: String? = nil, summary: String? = nil) {
        self.effort = effort
        self.summary = summary
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(effort, forKey: .effort)
        try container.encode(summary, forKey: .summary)
    }
}

/// `text`: the output's format.
public struct ResponseTextConfig: Sendable, Hashable, Codable {
    public var format: ResponseTextFormat?
    public var verbosity: String?

    public init(format: ResponseTextFormat? = nil, verbosity: String? = nil) {
        self.format = format
        self.verbosity = verbosity
    }
}

/// `text.format`: `text`, `json_object`, or `json_schema` with its schema (flat, unlike chat's
/// `response_format`).
public enum ResponseTextFormat: Sendable, Hashable, Codable {
    case text
    case jsonObject
    case jsonSchema(name: String?, schema: JSONValue, description: String?, strict: Bool?)
    case unknown(JSONValue)

    enum CodingKeys: String, CodingKey { case type, name, schema, description, strict }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decodeIfPresent(String.self, forKey: .type) {
        case "text": self = .text
        case "json_object": self = .jsonObject
        case "json_schema":
            self = .jsonSchema(
                name: try container.decodeIfPresent(String.self, forKey: .name),
                schema: try container.decodeIfPresent(JSONValue.self, forKey: .schema) ?? .null,
                description: try container.decodeIfPresent(String.self, forKey: .description),
                strict: try container.decodeIfPresent(Bool.self, forKey: .strict))
        default: self = .unknown(try JSONValue(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text: try container.encode("text", forKey: .type)
        case .jsonObject: try container.encode("json_object", forKey: .type)
        case .jsonSchema(let name, let schema, let description, let strict):
            try container.encode("json_schema", forKey: .type)
            try container.encodeIfPresent(name, forKey: .name)
            try container.encode(schema, forKey: .schema)
            try container.encodeIfPresent(description, forKey: .description)
            try container.encodeIfPresent(strict, forKey: .strict)
        case .unknown(let value): try value.encode(to: encoder)
        }
    }
}
