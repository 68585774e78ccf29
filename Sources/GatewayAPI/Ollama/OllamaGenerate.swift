import Foundation

/// `POST /api/generate` request body.
public struct OllamaGenerateRequest: Sendable, Hashable, Codable {
    public var model: String
    public var prompt: String?
    public var suffix: String?
    public var system: String?
    public var template: String?
    public var context: [Int]?
    public var raw: Bool?
    public var format: JSONValue?
    public var images: [String]?
    public var keepAlive: JSONValue?
    public var options: [String: JSONValue]?
    public var think: OllamaThink?
    public var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case model, prompt, suffix, system, template, context, raw, format, images, options, think, stream
        case keepAlive = "keep_alive"
    }

    public init(
        model: String, prompt: String? = nil, suffix: String? = nil, system: String? = nil,
        raw: Bool? = nil, format: JSONValue? = nil, images: [String]? = nil, keepAlive: JSONValue? = nil,
        options: [String: JSONValue]? = nil, think: OllamaThink? = nil, stream: Bool? = nil
    ) {
        self.model = model
        self.prompt = prompt
        self.suffix = suffix
        self.system = system
        self.raw = raw
        self.format = format
        self.images = images
        self.keepAlive = keepAlive
        self.options = options
        self.think = think
        self.stream = stream
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model) ?? ""
        prompt = try container.decodeIfPresent(String.self, forKey: .prompt)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
        system = try container.decodeIfPresent(String.self, forKey: .system)
        template = try container.decodeIfPresent(String.self, forKey: .template)
        context = try container.decodeIfPresent([Int].self, forKey: .context)
        raw = try container.decodeIfPresent(Bool.self, forKey: .raw)
        format = try container.decodeIfPresent(JSONValue.self, forKey: .format)
        images = try container.decodeIfPresent([String].self, forKey: .images)
        keepAlive = try container.decodeIfPresent(JSONValue.self, forKey: .keepAlive)
        options = try container.decodeIfPresent([String: JSONValue].self, forKey: .options)
        think = try container.decodeIfPresent(OllamaThink.self, forKey: .think)
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream)
    }
}

/// One NDJSON line of `/api/generate`: `response` instead of `message`, `context` on the last line.
public struct OllamaGenerateChunk: Sendable, Hashable, Codable {
    public var model: String?
    public var createdAt: String?
    public var response: String?
    public var thinking: String?
    public var done: Bool
    public var doneReason: String?
    public var context: [Int]?
    public var error: String?
    public var metrics: OllamaMetrics

    enum CodingKeys: String, CodingKey {
        case model, response, thinking, done, context, error
        case createdAt = "created_at"
        case doneReason = "done_reason"
    }

    public init(
        model: String? = nil, createdAt: String? = nil, response: String? = nil, thinking: String? = nil,
        done: Bool = false, doneReason: String? = nil, context: [Int]? = nil, error: String? = nil,
        metrics: OllamaMetrics = OllamaMetrics()
    ) {
        self.model = model
        self.createdAt = createdAt
        self.response = response
        self.thinking = thinking
        self.done = done
        self.doneReason = doneReason
        self.context = context
        self.error = error
        self.metrics = metrics
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
        response = try container.decodeIfPresent(String.self, forKey: .response)
        thinking = try container.decodeIfPresent(String.self, forKey: .thinking)
        done = try container.decodeIfPresent(Bool.self, forKey: .done) ?? false
        doneReason = try container.decodeIfPresent(String.self, forKey: .doneReason)
        context = try container.decodeIfPresent([Int].self, forKey: .context)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        metrics = try OllamaMetrics(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(response, forKey: .response)
        try container.encodeIfPresent(thinking, forKey: .thinking)
        try container.encodeIfPresent(error, forKey: .error)
        if error == nil { try container.encode(done, forKey: .done) }
        try container.encodeIfPresent(doneReason, forKey: .doneReason)
        try container.encodeIfPresent(context, forKey: .context)
        try metrics.encode(to: encoder)
    }
}
