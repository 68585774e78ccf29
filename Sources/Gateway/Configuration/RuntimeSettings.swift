import Synchronization

/// The settings an admin can change while the gateway runs. Configuration gives their first
/// values; a value saved at runtime is persisted and wins from then on (see docs/admin-api.md).
public final class RuntimeSettings: Sendable {
    public struct Values: Sendable, Equatable {
        /// Where Ollama is: requests and model discovery follow a change at once.
        public var ollamaURL: String
        /// Parameters applied to every model unless a request or a model override sets them.
        public var defaults: ParameterLayer
        public var reasoningFormat: ReasoningFormat

        public init(ollamaURL: String, defaults: ParameterLayer = ParameterLayer(), reasoningFormat: ReasoningFormat) {
            self.ollamaURL = ollamaURL
            self.defaults = defaults
            self.reasoningFormat = reasoningFormat
        }
    }

    private let state: Mutex<Values>

    public init(_ values: Values) {
        self.state = Mutex(values)
    }

    public convenience init(configuration: GatewayConfiguration) {
        self.init(Values(ollamaURL: configuration.ollamaURL, reasoningFormat: configuration.reasoningFormat))
    }

    public var values: Values { state.withLock { $0 } }
    public var ollamaURL: String { state.withLock { $0.ollamaURL } }
    public var defaults: ParameterLayer { state.withLock { $0.defaults } }
    public var reasoningFormat: ReasoningFormat { state.withLock { $0.reasoningFormat } }

    public func update(_ change: (inout Values) -> Void) {
        state.withLock { change(&$0) }
    }
}
