import GatewayAPI
import Logging

/// The tokens of a prompt, as the token-counting endpoints answer (Anthropic `count_tokens`, the
/// Responses API's `input_tokens`): Ollama's own count (`prompt_eval_count`) of the translated
/// prompt, from a one-token generation; the gateway's estimate when Ollama cannot count it (prompt
/// longer than the context, Ollama unreachable, failing or busy).
struct PromptTokenCount: Sendable {
    enum Method: String, Sendable {
        case exact
        case estimate
    }

    var tokens: Int
    var method: Method

    static func count(
        _ request: OllamaChatRequest, model: ResolvedModel, upstream: OllamaClient, timeout: Duration, logger: Logger
    ) async throws -> PromptTokenCount {
        var counting = request
        counting.stream = false
        var options = counting.options ?? [:]
        // `num_predict: 0` means "no limit" to Ollama's runner: 1 is the smallest generation.
        options["num_predict"] = .int(1)
        counting.options = options
        do {
            let answer = try await withDeadlines(overall: timeout, idle: nil) { _ in
                try await model.namingNotFound { try await upstream.chat(counting) }
            }
            if let count = answer.metrics.promptEvalCount { return PromptTokenCount(tokens: count, method: .exact) }
        } catch let error as GatewayError where canEstimate(after: error) {
            logger.debug("counting tokens by estimate", metadata: ["error": "\(error.message)"])
        }
        return PromptTokenCount(tokens: AnthropicTokenEstimate.inputTokens(of: counting), method: .estimate)
    }

    /// Failures of Ollama itself, or a prompt it will not take whole: a count is still useful then.
    /// The client's own mistakes (unknown model, unsupported thinking…) are reported as for generation.
    static func canEstimate(after error: GatewayError) -> Bool {
        switch error.kind {
        case .upstreamUnavailable, .upstreamError, .overloaded, .serviceUnavailable, .timeout: true
        case .invalidRequest: error.message.contains("longer than the context")
        default: false
        }
    }
}
