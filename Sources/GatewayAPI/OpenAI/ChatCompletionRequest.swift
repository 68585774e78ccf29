import Foundation

/// `POST /v1/chat/completions` request body.
///
/// Besides OpenAI's fields it carries the Ollama controls a client may send at the top level
/// (`num_ctx`, `keep_alive`, `think`, `options`, …) or inside a literal `extra_body` object: those are
/// collected in `ollamaControls` so one function can merge them with model overrides and defaults.
public struct ChatCompletionRequest: Sendable, Hashable {
    public var model: String
    public var messages: [ChatMessage]
    public var stream: Bool
    public var streamOptions: StreamOptions?
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    public var stop: StopSequences?
    public var frequencyPenalty: Double?
    public var presencePenalty: Double?
    public var n: Int?
    public var responseFormat: ResponseFormat?
    public var tools: [ChatTool]?
    public var toolChoice: ToolChoice?
    public var reasoningEffort: String?
    public var reasoning: ReasoningOptions?
    /// Ollama's `think`: a bool or a level; kept raw so an invalid value gets Ollama's own message.
    public var think: JSONValue?
    public var excludeReasoning: Bool?
    /// How reasoning is returned: `reasoning_content`, `reasoning`, `both` or `think_tags`.
    public var reasoningFormat: String?
    public var logprobs: Bool?
    /// Ollama controls from the top level and from `extra_body`, in Ollama's format.
    public var ollamaControls: [String: JSONValue]

    public init(
        model: String, messages: [ChatMessage], stream: Bool = false, streamOptions: StreamOptions? = nil,
        maxTokens: Int? = nil, maxCompletionTokens: Int? = nil, temperature: Double? = nil, topP: Double? = nil,
        seed: Int? = nil, stop: StopSequences? = nil, frequencyPenalty: Double? = nil, presencePenalty: Double? = nil,
        n: Int? = nil, responseFormat: ResponseFormat? = nil, tools: [ChatTool]? = nil, toolChoice: ToolChoice? = nil,
        reasoningEffort: String? = nil, reasoning: ReasoningOptions? = nil, think: JSONValue? = nil,
        excludeReasoning: Bool? = nil, reasoningFormat: String? = nil, logprobs: Bool? = nil,
        ollamaControls: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.messages = messages
        self.stream = stream
        self.streamOptions = streamOptions
        self.maxTokens = maxTokens
        self.maxCompletionTokens = maxCompletionTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stop = stop
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.n = n
        self.responseFormat = responseFormat
        self.tools = tools
        self.toolChoice = toolChoice
        self.reasoningEffort = reasoningEffort
        self.reasoning = reasoning
        self.think = think
        self.excludeReasoning = excludeReasoning
        self.reasoningFormat = reasoningFormat
        self.logprobs = logprobs
        self.ollamaControls = ollamaControls
    }
}

extension ChatCompletionRequest: Decodable {
    enum CodingKeys: String, CodingKey {
        case model, messages, stream, temperature, seed, stop, n, tools, reasoning, think, logprobs
        case streamOptions = "stream_options"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case topP = "top_p"
        case frequencyPenalty = "frequency_penalty"
        case presencePenalty = "presence_penalty"
        case responseFormat = "response_format"
        case toolChoice = "tool_choice"
        case reasoningEffort = "reasoning_effort"
        case excludeReasoning = "exclude_reasoning"
        case reasoningFormat = "reasoning_format"
        case extraBody = "extra_body"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        messages = try container.decode([ChatMessage].self, forKey: .messages)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        maxCompletionTokens = try container.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        seed = try container.decodeIfPresent(Int.self, forKey: .seed)
        stop = try container.decodeIfPresent(StopSequences.self, forKey: .stop)
        frequencyPenalty = try container.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        presencePenalty = try container.decodeIfPresent(Double.self, forKey: .presencePenalty)
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        responseFormat = try container.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        tools = try container.decodeIfPresent([ChatTool].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(ToolChoice.self, forKey: .toolChoice)
        reasoningEffort = try container.decodeIfPresent(String.self, forKey: .reasoningEffort)
        reasoning = try container.decodeIfPresent(ReasoningOptions.self, forKey: .reasoning)
        think = try container.decodeIfPresent(JSONValue.self, forKey: .think)
        excludeReasoning = try container.decodeIfPresent(Bool.self, forKey: .excludeReasoning)
        reasoningFormat = try container.decodeIfPresent(String.self, forKey: .reasoningFormat)
        logprobs = try container.decodeIfPresent(Bool.self, forKey: .logprobs)
        ollamaControls = try OllamaControlKey.collect(from: decoder, extraBodyKey: CodingKeys.extraBody.stringValue)
    }
}

/// The Ollama controls a client may send beside an OpenAI or Anthropic request body.
public enum OllamaControlKey {
    /// Ollama's option names (model parameters) accepted at the top level of a request.
    public static let optionNames: Set<String> = OllamaOption.gatewayNames
    /// Request-level controls that are not model options.
    public static let controlNames: Set<String> = OllamaControl.names

    /// Collects Ollama controls from the top level of the body (only names Ollama knows) and from a
    /// literal `extra_body` object (every key: the client put them there on purpose). Keys the API
    /// surface defines itself (OpenAI's `temperature`, `seed`…) are read by its own decoder instead,
    /// so they are skipped here.
    public static func collect(
        from decoder: any Decoder, extraBodyKey: String, surfaceKeys: Set<String> = openAISurfaceKeys
    ) throws -> [String: JSONValue] {
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        var controls: [String: JSONValue] = [:]
        for key in container.allKeys {
            let name = key.stringValue
            if name == extraBodyKey {
                let extra = try container.decode([String: JSONValue].self, forKey: key)
                controls.merge(extra) { top, _ in top }
            } else if !surfaceKeys.contains(name), optionNames.contains(name) || controlNames.contains(name) {
                controls[name] = try container.decode(JSONValue.self, forKey: key)
            }
        }
        return controls
    }

    /// Top-level keys of the OpenAI surface that share a name with an Ollama control.
    public static let openAISurfaceKeys: Set<String> = [
        "temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty", "think", "exclude_reasoning",
    ]
}

/// A coding key for any string, to read keys not known in advance.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int?

    public init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    public init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

public struct StreamOptions: Sendable, Hashable, Codable {
    public var includeUsage: Bool?

    enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
    }

    public init(includeUsage: Bool? = nil) {
        self.includeUsage = includeUsage
    }
}

/// `stop`: a single string or an array of strings.
public enum StopSequences: Sendable, Hashable, Codable {
    case single(String)
    case many([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(String.self) {
            self = .single(value)
        } else {
            self = .many(try container.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .single(let value): try container.encode(value)
        case .many(let values): try container.encode(values)
        }
    }

    public var sequences: [String] {
        switch self {
        case .single(let value): [value]
        case .many(let values): values
        }
    }
}

/// `response_format`: `text`, `json_object`, or `json_schema` with its schema.
public enum ResponseFormat: Sendable, Hashable, Codable {
    case text
    case jsonObject
    case jsonSchema(name: String?, schema: JSONValue, strict: Bool?)
    case unknown(JSONValue)

    enum CodingKeys: String, CodingKey {
        case type
        case jsonSchema = "json_schema"
    }

    struct SchemaSpec: Codable {
        var name: String?
        var schema: JSONValue?
        var strict: Bool?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text": self = .text
        case "json_object": self = .jsonObject
        case "json_schema":
            let spec = try container.decode(SchemaSpec.self, forKey: .jsonSchema)
            self = .jsonSchema(name: spec.name, schema: spec.schema ?? .object([:]), strict: spec.strict)
        default:
            self = .unknown(try JSONValue(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text: try container.encode("text", forKey: .type)
        case .jsonObject: try container.encode("json_object", forKey: .type)
        case .jsonSchema(let name, let schema, let strict):
            try container.encode("json_schema", forKey: .type)
            try container.encode(SchemaSpec(name: name, schema: schema, strict: strict), forKey: .jsonSchema)
        case .unknown(let value): try value.encode(to: encoder)
        }
    }
}

/// OpenRouter-style `reasoning: {effort, enabled, exclude, max_tokens}`.
public struct ReasoningOptions: Sendable, Hashable, Codable {
    public var effort: String?
    public var enabled: Bool?
    public var exclude: Bool?
    public var maxTokens: Int?

    enum CodingKeys: String, CodingKey {
        case effort, enabled, exclude
        case maxTokens = "max_tokens"
    }

    public init(effort: String? = nil, enabled: Bool? = nil, exclude: Bool? = nil, maxTokens: Int? = nil) {
        self.effort = effort
        self.enabled = enabled
        self.exclude = exclude
        self.maxTokens = maxTokens
    }
}

public struct ChatTool: Sendable, Hashable, Codable {
    public struct Function: Sendable, Hashable, Codable {
        public var name: String
        public var description: String?
        public var parameters: JSONValue?
        public var strict: Bool?

        public init(name: String, description: String? = nil, parameters: JSONValue? = nil, strict: Bool? = nil) {
            self.name = name
            self.description = description
            self.parameters = parameters
            self.strict = strict
        }
    }

    public var type: String
    public var function: Function

    public init(type: String = "function", function: Function) {
        self.type = type
        self.function = function
    }
}

/// `tool_choice`: `"none"`, `"auto"`, `"required"`, or `{"type":"function","function":{"name"}}`.
public enum ToolChoice: Sendable, Hashable, Codable {
    case none
    case auto
    case required
    case function(String)
    case unknown(JSONValue)

    struct Named: Codable {
        struct Function: Codable { var name: String }
        var type: String?
        var function: Function?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let mode = try? container.decode(String.self) {
            switch mode {
            case "none": self = .none
            case "auto": self = .auto
            case "required": self = .required
            default: self = .unknown(.string(mode))
            }
            return
        }
        let value = try container.decode(JSONValue.self)
        if let name = value["function"]?["name"]?.stringValue {
            self = .function(name)
        } else {
            self = .unknown(value)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .none: try container.encode("none")
        case .auto: try container.encode("auto")
        case .required: try container.encode("required")
        case .function(let name):
            try container.encode(Named(type: "function", function: .init(name: name)))
        case .unknown(let value): try container.encode(value)
        }
    }
}
