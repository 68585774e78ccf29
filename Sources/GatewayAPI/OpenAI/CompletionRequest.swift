import Foundation

/// `POST /v1/completions` (legacy text completions) request body.
///
/// Ollama controls (`num_ctx`, `keep_alive`, `think`, `options`, `request_timeout`, …) may be sent at the
/// top level or inside a literal `extra_body` object, as on chat; they are collected in `ollamaControls`.
public struct CompletionRequest: Sendable, Hashable {
    public var model: String
    public var prompt: TextOrTokens
    public var suffix: String?
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var seed: Int?
    public var stop: StopSequences?
    public var frequencyPenalty: Double?
    public var presencePenalty: Double?
    public var n: Int?
    public var bestOf: Int?
    public var logprobs: Int?
    public var echo: Bool
    public var stream: Bool
    public var streamOptions: StreamOptions?
    /// Ollama's `raw`: the prompt is sent without the model's template.
    public var raw: Bool?
    /// Accepted and ignored.
    public var user: String?
    /// Ollama controls from the top level and from `extra_body`, in Ollama's format.
    public var ollamaControls: [String: JSONValue]

    public init(
        model: String, prompt: TextOrTokens, suffix: String? = nil, maxTokens: Int? = nil, temperature: Double? = nil,
        topP: Double? = nil, seed: Int? = nil, stop: StopSequences? = nil, frequencyPenalty: Double? = nil,
        presencePenalty: Double? = nil, n: Int? = nil, bestOf: Int? = nil, logprobs: Int? = nil, echo: Bool = false,
        stream: Bool = false, streamOptions: StreamOptions? = nil, raw: Bool? = nil, user: String? = nil,
        ollamaControls: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.prompt = prompt
        self.suffix = suffix
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stop = stop
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.n = n
        self.bestOf = bestOf
        self.logprobs = logprobs
        self.echo = echo
        self.stream = stream
        self.streamOptions = streamOptions
        self.raw = raw
        self.user = user
        self.ollamaControls = ollamaControls
    }
}

extension CompletionRequest: Decodable {
    enum CodingKeys: String, CodingKey {
        case model, prompt, suffix, temperature, seed, stop, n, logprobs, echo, stream, raw, user
        case maxTokens = "max_tokens"
        case topP = "top_p"
        case frequencyPenalty = "frequency_penalty"
        case presencePenalty = "presence_penalty"
        case bestOf = "best_of"
        case streamOptions = "stream_options"
        case extraBody = "extra_body"
    }

    /// Top-level keys of this surface that share a name with an Ollama control; `think` is not among
    /// them: on completions it is only Ollama's control.
    public static let surfaceKeys: Set<String> = [
        "temperature", "top_p", "seed", "stop", "frequency_penalty", "presence_penalty",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        prompt = try container.decode(TextOrTokens.self, forKey: .prompt)
        suffix = try container.decodeIfPresent(String.self, forKey: .suffix)
        maxTokens = try container.decodeIfPresent(Int.self, forKey: .maxTokens)
        temperature = try container.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try container.decodeIfPresent(Double.self, forKey: .topP)
        seed = try container.decodeIfPresent(Int.self, forKey: .seed)
        stop = try container.decodeIfPresent(StopSequences.self, forKey: .stop)
        frequencyPenalty = try container.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        presencePenalty = try container.decodeIfPresent(Double.self, forKey: .presencePenalty)
        n = try container.decodeIfPresent(Int.self, forKey: .n)
        bestOf = try container.decodeIfPresent(Int.self, forKey: .bestOf)
        logprobs = try container.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try container.decodeIfPresent(Bool.self, forKey: .echo) ?? false
        stream = try container.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        streamOptions = try container.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        raw = try container.decodeIfPresent(Bool.self, forKey: .raw)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        ollamaControls = try OllamaControlKey.collect(
            from: decoder, extraBodyKey: CodingKeys.extraBody.stringValue, surfaceKeys: Self.surfaceKeys)
    }
}
