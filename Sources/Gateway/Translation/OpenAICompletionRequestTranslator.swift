import GatewayAPI

/// What an OpenAI legacy completion request becomes upstream: one `/api/generate` request per prompt.
public struct UpstreamCompletionPlan: Sendable {
    /// One request per prompt, in the order of the choices they answer.
    public var requests: [OllamaGenerateRequest]
    /// The prompts, for `echo`.
    public var prompts: [String]
    public var echo: Bool
    /// The parameters after merging request, model override and defaults.
    public var parameters: ParameterLayer
    public var model: ResolvedModel
}

/// OpenAI `/v1/completions` request → Ollama `/api/generate` requests. Pure: no I/O, no HTTP.
public enum OpenAICompletionRequestTranslator {
    public static func translate(_ request: CompletionRequest, model: ResolvedModel, defaults: ParameterLayer)
        throws(GatewayError) -> UpstreamCompletionPlan
    {
        try checkUnsupported(request)
        try model.requireGeneration()
        let suffix = request.suffix.flatMap { $0.isEmpty ? nil : $0 }
        if suffix != nil {
            try model.require(.insert, for: "'suffix' (fill-in-the-middle)", param: "suffix")
        }
        let prompts = try prompts(request.prompt)
        let raw = try raw(of: request)
        let parameters = ParameterLayer.resolve(
            request: try parameterLayer(of: request), modelOverride: model.overrides, defaults: defaults)
        let options = parameters.options.isEmpty ? nil : ParameterLayer.normalizedOptions(parameters.options)
        let requests = prompts.map { prompt in
            OllamaGenerateRequest(
                model: model.upstreamName, prompt: prompt, suffix: suffix, raw: raw, keepAlive: parameters.keepAlive,
                options: options, think: parameters.think, stream: request.stream)
        }
        return UpstreamCompletionPlan(
            requests: requests, prompts: prompts, echo: request.echo, parameters: parameters, model: model)
    }

    // MARK: - Fields the gateway cannot honour

    static func checkUnsupported(_ request: CompletionRequest) throws(GatewayError) {
        if let n = request.n, n != 1 {
            throw .invalid("'n' must be 1: Ollama generates one choice per prompt.", param: "n")
        }
        if let bestOf = request.bestOf, bestOf > 1 {
            throw .invalid("'best_of' must be 1: Ollama generates one choice per prompt.", param: "best_of")
        }
        if request.logprobs != nil {
            throw .invalid("'logprobs' is not supported by this gateway.", param: "logprobs")
        }
    }

    /// The texts to complete, one choice each. Ollama treats an empty prompt as "load the model" and
    /// answers nothing, so an empty prompt is refused rather than answered with an empty text.
    static func prompts(_ prompt: TextOrTokens) throws(GatewayError) -> [String] {
        switch prompt {
        case .text(let text):
            guard !text.isEmpty else { throw .invalid("'prompt' must not be an empty string.", param: "prompt") }
            return [text]
        case .texts(let texts):
            guard !texts.isEmpty else { throw .invalid("'prompt' must not be an empty array.", param: "prompt") }
            if let empty = texts.firstIndex(where: \.isEmpty) {
                throw .invalid("'prompt[\(empty)]' must not be an empty string.", param: "prompt")
            }
            return texts
        case .tokens, .tokenBatches:
            throw .invalid(
                "'prompt' as token ids is not supported: send the text itself (Ollama tokenizes it with the model's own tokenizer).",
                param: "prompt")
        }
    }

    // MARK: - Parameters

    /// The request's own layer: Ollama controls it carries, then the OpenAI fields, which are more specific.
    static func parameterLayer(of request: CompletionRequest) throws(GatewayError) -> ParameterLayer {
        var layer = try ParameterLayer(ollamaStyle: request.ollamaControls)
        try OpenAISampling(
            maxTokens: request.maxTokens, temperature: request.temperature, topP: request.topP, seed: request.seed,
            frequencyPenalty: request.frequencyPenalty, presencePenalty: request.presencePenalty, stop: request.stop
        ).apply(to: &layer)
        return layer
    }

    /// Ollama's `raw`, at the top level or in a literal `extra_body`.
    static func raw(of request: CompletionRequest) throws(GatewayError) -> Bool? {
        if let raw = request.raw { return raw }
        guard let value = request.ollamaControls["raw"] else { return nil }
        guard let raw = value.boolValue else { throw .invalid("'extra_body.raw' must be a boolean.", param: "extra_body.raw") }
        return raw
    }
}
