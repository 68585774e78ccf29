import Foundation

/// One API request as accounted: what the usage log, the key counters and the limits are fed with.
public struct UsageEvent: Sendable, Equatable {
    public var requestID: String
    public var time: Date
    public var keyID: String?
    /// The model as the client named it, and the Ollama model that served it.
    public var modelRequested: String?
    public var modelResolved: String?
    /// `/v1/chat/completions`, `/v1/messages`, `/api/chat`…
    public var endpoint: String
    public var streamed: Bool
    public var status: Int
    /// The error's kind when the request failed (`invalid_request`, `upstream_error`…).
    public var errorType: String?
    public var promptTokens: Int
    public var completionTokens: Int
    /// A stream the client abandoned: the tokens are what was produced until then.
    public var cancelled: Bool
    public var latency: Duration
    public var timeToFirstToken: Duration?
    public var clientAddress: String?
    public var userAgent: String?
    /// The backend (Ollama server) that served the request, by name.
    public var backend: String? = nil

    public var totalTokens: Int { promptTokens + completionTokens }

    /// Output tokens per second over the generation (from the first token on), when measurable.
    public var tokensPerSecond: Double? {
        guard completionTokens > 0 else { return nil }
        let span = latency - (timeToFirstToken ?? .zero)
        let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        return seconds > 0 ? Double(completionTokens) / seconds : nil
    }
}
