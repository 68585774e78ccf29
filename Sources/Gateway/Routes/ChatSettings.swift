/// The gateway-wide settings a chat route needs, from `GatewayConfiguration`.
public struct ChatSettings: Sendable {
    /// Parameters applied when neither the request nor a model override sets them.
    public var defaults: ParameterLayer
    public var reasoningFormat: ReasoningFormat
    public var requestTimeout: Duration
    public var streamIdleTimeout: Duration
    public var streamPingInterval: Duration
    public var maxBodyBytes: Int

    public init(configuration: GatewayConfiguration, defaults: ParameterLayer = ParameterLayer()) {
        self.defaults = defaults
        self.reasoningFormat = configuration.reasoningFormat
        self.requestTimeout = configuration.requestTimeout
        self.streamIdleTimeout = configuration.streamIdleTimeout
        self.streamPingInterval = configuration.streamPingInterval
        self.maxBodyBytes = configuration.maxBodyBytes
    }
}
