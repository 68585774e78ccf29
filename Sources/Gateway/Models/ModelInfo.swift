import GatewayAPI

/// One Ollama model as discovered: what `/api/tags` and `/api/show` say about it.
public struct ModelInfo: Sendable, Equatable {
    /// Ollama's full name (`llama3.2:latest`).
    public var name: String
    public var family: String?
    public var parameterSize: String?
    public var quantization: String?
    public var size: Int64?
    public var digest: String?
    /// Ollama's `modified_at`, in epoch seconds.
    public var modifiedAt: Int?
    public var contextLength: Int?
    public var capabilities: Set<ModelCapability>
    /// False when Ollama no longer has a model the admin configured.
    public var available: Bool

    public init(
        name: String, family: String? = nil, parameterSize: String? = nil, quantization: String? = nil,
        size: Int64? = nil, digest: String? = nil, modifiedAt: Int? = nil, contextLength: Int? = nil,
        capabilities: Set<ModelCapability> = [], available: Bool = true
    ) {
        self.name = name
        self.family = family
        self.parameterSize = parameterSize
        self.quantization = quantization
        self.size = size
        self.digest = digest
        self.modifiedAt = modifiedAt
        self.contextLength = contextLength
        self.capabilities = capabilities
        self.available = available
    }

    init(summary: OllamaModelSummary, show: OllamaShowResponse?) {
        let capabilityNames = summary.capabilities ?? show?.capabilities ?? []
        self.init(
            name: summary.name, family: summary.details?.family, parameterSize: summary.details?.parameterSize,
            quantization: summary.details?.quantizationLevel, size: summary.size, digest: summary.digest,
            modifiedAt: RFC3339.epochSeconds(summary.modifiedAt), contextLength: show?.contextLength,
            capabilities: Set(capabilityNames.compactMap(ModelCapability.init(rawValue:))))
    }

    /// Ollama's names: `x` means `x:latest`.
    static func normalized(_ name: String) -> String {
        // A byte search: `contains(":")` would be Foundation's string search, on every routed request.
        name.utf8.contains(UInt8(ascii: ":")) ? name : name + ":latest"
    }

    /// The short form of a name: `x:latest` is `x`.
    static func shorthand(_ name: String) -> String {
        name.hasSuffix(":latest") ? String(name.dropLast(":latest".count)) : name
    }
}

/// A model with the admin's settings, as listings show it.
public struct ModelEntry: Sendable, Equatable {
    public var info: ModelInfo
    public var settings: ModelSettings

    /// The names clients see: the display name (or Ollama's name), then the aliases.
    public var publicNames: [String] {
        [settings.displayName ?? info.name] + settings.aliases
    }

    public var isCallable: Bool { info.available && settings.enabled }
}
