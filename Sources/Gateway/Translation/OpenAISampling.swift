import GatewayAPI

/// The sampling fields OpenAI's chat and legacy completions requests share, mapped onto Ollama options
/// in one place. Only what the caller sent is set: the gateway forces no sampling defaults.
struct OpenAISampling {
    var maxTokens: Int?
    /// The field `maxTokens` came from, for the error message.
    var maxTokensParam = "max_tokens"
    var temperature: Double?
    var topP: Double?
    var seed: Int?
    var frequencyPenalty: Double?
    var presencePenalty: Double?
    var stop: StopSequences?

    /// Sets the options on `layer`: these fields are more specific than the same names in `options`.
    func apply(to layer: inout ParameterLayer) throws(GatewayError) {
        if let maxTokens {
            guard maxTokens > 0 else { throw .invalid("'\(maxTokensParam)' must be at least 1.", param: maxTokensParam) }
            layer.options["num_predict"] = .int(maxTokens)
        }
        if let temperature { layer.options["temperature"] = .double(temperature) }
        if let topP { layer.options["top_p"] = .double(topP) }
        if let seed { layer.options["seed"] = .int(seed) }
        if let frequencyPenalty { layer.options["frequency_penalty"] = .double(frequencyPenalty) }
        if let presencePenalty { layer.options["presence_penalty"] = .double(presencePenalty) }
        if let stop { layer.options["stop"] = .array(stop.sequences.map(JSONValue.string)) }
    }
}
