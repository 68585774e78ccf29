import GatewayAPI

/// What an OpenAI embeddings request becomes upstream, with what shapes the response.
public struct UpstreamEmbedPlan: Sendable {
    public var request: OllamaEmbedRequest
    /// The parameters after merging request, model override and defaults.
    public var parameters: ParameterLayer
    public var encodingFormat: EmbeddingEncodingFormat
    public var model: ResolvedModel
}

/// OpenAI `/v1/embeddings` request → one Ollama `/api/embed` request. Pure: no I/O, no HTTP.
public enum OpenAIEmbeddingRequestTranslator {
    public static func translate(_ request: EmbeddingRequest, model: ResolvedModel, defaults: ParameterLayer)
        throws(GatewayError) -> UpstreamEmbedPlan
    {
        try model.require(.embedding, for: "embeddings", param: "model")
        let input = try input(request.input)
        if let dimensions = request.dimensions, dimensions < 1 {
            throw .invalid("'dimensions' must be at least 1.", param: "dimensions")
        }
        let format = request.encodingFormat ?? .float
        if case .unknown(let name) = format {
            throw .invalid("'encoding_format' must be 'float' or 'base64', got '\(name)'.", param: "encoding_format")
        }
        let parameters = ParameterLayer.resolve(
            request: try ParameterLayer(ollamaStyle: request.ollamaControls), modelOverride: model.overrides,
            defaults: defaults)
        let upstream = OllamaEmbedRequest(
            model: model.upstreamName, input: input, truncate: parameters.truncate, dimensions: request.dimensions,
            keepAlive: parameters.keepAlive,
            options: parameters.options.isEmpty ? nil : ParameterLayer.normalizedOptions(parameters.options))
        return UpstreamEmbedPlan(request: upstream, parameters: parameters, encodingFormat: format, model: model)
    }

    /// Every text goes in the one upstream request, in order; Ollama answers one vector per text.
    static func input(_ input: TextOrTokens) throws(GatewayError) -> OllamaEmbedInput {
        switch input {
        case .text(let text):
            guard !text.isEmpty else { throw .invalid("'input' must not be an empty string.", param: "input") }
            return .single(text)
        case .texts(let texts):
            guard !texts.isEmpty else { throw .invalid("'input' must not be an empty array.", param: "input") }
            if let empty = texts.firstIndex(where: \.isEmpty) {
                throw .invalid("'input[\(empty)]' must not be an empty string.", param: "input")
            }
            return .batch(texts)
        case .tokens, .tokenBatches:
            throw .invalid(
                "'input' as token ids is not supported: send the text itself (Ollama tokenizes it with the model's own tokenizer).",
                param: "input")
        }
    }
}
