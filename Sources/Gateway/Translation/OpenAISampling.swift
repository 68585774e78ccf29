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
            try layer.setOption("num_predict", .int(maxTokens), param: maxTokensParam)
        }
        if let temperature { try layer.setOption("temperature", .double(temperature), param: "temperature") }
        if let topP { try layer.setOption("top_p", .double(topP), param: "top_p") }
        if let seed { layer.options["seed"] = .int(seed) }
        if let frequencyPenalty {
            try layer.setOption("frequency_penalty", .double(frequencyPenalty), param: "frequency_penalty")
        }
        if let presencePenalty {
            try layer.setOption("presence_penalty", .double(presencePenalty), param: "presence_penalty")
        }
        if let stop { layer.options["stop"] = .array(stop.sequences.map(JSONValue.string)) }
    }
}
