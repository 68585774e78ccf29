/// The settings a chat route needs: fixed ones from `GatewayConfiguration`, and the runtime ones.
public struct ChatSettings: Sendable {
    public let runtime: RuntimeSettings
    public var requestTimeout: Duration
    public var streamIdleTimeout: Duration
    public var streamPingInterval: Duration
    public var maxBodyBytes: Int
    /// The largest image, decoded, a request may carry inline (`IMAGE_FETCH_MAX_BYTES`).
    public var maxImageBytes: Int
    /// Remove Claude Code's billing line from Anthropic system prompts (`ANTHROPIC_STRIP_BILLING_HEADER`).
    public var stripClaudeCodeBillingHeader: Bool

    public init(configuration: GatewayConfiguration, runtime: RuntimeSettings) {
        self.runtime = runtime
        self.requestTimeout = configuration.requestTimeout
        self.streamIdleTimeout = configuration.streamIdleTimeout
        self.streamPingInterval = configuration.streamPingInterval
        self.maxBodyBytes = configuration.maxBodyBytes
        self.maxImageBytes = configuration.imageFetch.maxBytes
        self.stripClaudeCodeBillingHeader = configuration.anthropicStripBillingHeader
    }

    /// The timing of a stream whose route began at `started` and may take `timeout` in all.
    func streamTiming(_ timeout: Duration, started: ContinuousClock.Instant) -> StreamTiming {
        StreamTiming(timeout: timeout, started: started, idle: streamIdleTimeout, heartbeat: streamPingInterval)
    }

    /// Parameters applied when neither the request nor a model override sets them.
    public var defaults: ParameterLayer { runtime.defaults }
    public var reasoningFormat: ReasoningFormat { runtime.reasoningFormat }
}
