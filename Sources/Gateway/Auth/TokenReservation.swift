import GatewayAPI
import Hummingbird

/// How many tokens a request may use at most, reserved against its key's token limits while it
/// runs (see `KeyLimiter.reserve`); its real count replaces the reservation when it ends.
///
/// The output is bounded by `num_predict` (`max_tokens`…) when the request or the model's
/// overrides set one, else by the context (`num_ctx`, else the model's context length, else
/// Ollama's default of 4096). The prompt is estimated at one token per 4 bytes of the request
/// body, at most the context. Requests that set `max_tokens` therefore reserve little and run side
/// by side under a small limit; those that do not reserve a whole context.
enum TokenReservation {
    static let ollamaDefaultContext = 4096
    static let bytesPerToken = 4

    /// - Parameter generates: false for embeddings, which produce no tokens.
    static func tokens(promptBytes: Int, parameters: ParameterLayer, model: ResolvedModel, generates: Bool = true) -> Int {
        let context = positive(parameters.options["num_ctx"]) ?? model.contextLength.flatMap { $0 > 0 ? $0 : nil }
            ?? ollamaDefaultContext
        let output = generates ? positive(parameters.options["num_predict"]) ?? context : 0
        let prompt = min(max(0, promptBytes) / bytesPerToken, context)
        let (total, overflow) = prompt.addingReportingOverflow(output)
        return overflow ? Int.max : total
    }

    private static func positive(_ value: JSONValue?) -> Int? {
        guard let number = value?.intValue, number > 0 else { return nil }
        return number
    }
}

extension GatewayRequestContext {
    /// Reserves what the request may use against its key's token limits, before Ollama is called:
    /// a 429 when the key's tokens per minute or quota cannot cover it beside the requests in flight.
    /// - Parameter promptBytes: the size of the request's body (the prompt is estimated from it).
    func reserveTokens(promptBytes: Int, parameters: ParameterLayer, model: ResolvedModel, generates: Bool = true)
        throws(GatewayError)
    {
        try ticket?.reserveTokens(
            TokenReservation.tokens(promptBytes: promptBytes, parameters: parameters, model: model, generates: generates))
    }
}

extension Request {
    /// The body's size as the client declared it (0 for a chunked body), for estimates.
    var declaredBodyBytes: Int {
        headers[.contentLength].flatMap { Int($0) } ?? 0
    }
}
