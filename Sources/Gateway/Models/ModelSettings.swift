import GatewayAPI

/// What the admin decides about one Ollama model. Persisted; applied whichever name a client uses.
public struct ModelSettings: Sendable, Equatable, Codable {
    /// The name clients see in listings instead of Ollama's.
    public var displayName: String?
    /// More names that reach the model.
    public var aliases: [String]
    /// A disabled model is neither listed nor callable.
    public var enabled: Bool
    /// Parameter overrides in Ollama's format (`think`, `num_ctx`, `temperature`, `keep_alive`,
    /// `request_timeout`, `exclude_reasoning`, `options`…).
    public var overrides: [String: JSONValue]

    enum CodingKeys: String, CodingKey {
        case aliases, enabled, overrides
        case displayName = "display_name"
    }

    public init(displayName: String? = nil, aliases: [String] = [], enabled: Bool = true, overrides: [String: JSONValue] = [:]) {
        self.displayName = displayName
        self.aliases = aliases
        self.enabled = enabled
        self.overrides = overrides
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        displayName = try container.decodeIfPresent(String.self, forKey: .displayName)
        aliases = try container.decodeIfPresent([String].self, forKey: .aliases) ?? []
        enabled = try container.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        overrides = try container.decodeIfPresent([String: JSONValue].self, forKey: .overrides) ?? [:]
    }

    /// The names this model answers to besides its Ollama name.
    var extraNames: [String] {
        (displayName.map { [$0] } ?? []) + aliases
    }

    /// Checks the overrides as they are saved: a wrong type is refused with the reason; an unknown
    /// name is kept (Ollama may know it) and reported as a warning.
    public static func validate(overrides: [String: JSONValue]) throws(GatewayError) -> [String] {
        _ = try ParameterLayer(ollamaStyle: overrides, paramPrefix: "overrides.")
        return ParameterLayer.unknownNames(in: overrides).map {
            "'\($0)' is not an Ollama option or gateway control this version knows; it is kept and sent as is."
        }
    }
}
