import Foundation

/// How a simulated model answers. Each built-in model has its own; custom models pick one.
public enum SimulatedBehavior: String, Sendable, Hashable, Codable {
    /// `You said: <last user text>`.
    case echo
    /// Thinks first (`thinking` lines), then answers like ``echo``.
    case thinker
    /// Calls the offered tools, answers from tool results.
    case toolCaller
    /// Thinks like ``thinker`` (unless `think:false`), then acts like ``toolCaller``: an agent model.
    case agent
    /// Describes the images it received (byte count and FNV-1a digest), then echoes.
    case vision
    /// Embeddings only.
    case embedder
    /// Writes `<think>...</think>` inside `content`, then the answer (older reasoning models).
    case thinkTags
    /// Fill-in-the-middle: `/api/generate` with `suffix`.
    case infill
}

/// One model the simulator serves.
public struct SimulatedModel: Sendable, Hashable {
    /// Full name with tag, e.g. `sim-chat:latest`.
    public var name: String
    public var behavior: SimulatedBehavior
    /// ⊆ `completion tools insert vision embedding thinking`.
    public var capabilities: [String]
    public var family: String
    public var parameterSize: String
    public var quantizationLevel: String
    public var size: Int64
    public var digest: String
    /// RFC 3339; `/api/tags` lists the newest first.
    public var modifiedAt: String
    public var contextLength: Int
    public var embeddingLength: Int
    public var template: String
    public var parameters: String

    public init(
        name: String, behavior: SimulatedBehavior, capabilities: [String], family: String,
        parameterSize: String, quantizationLevel: String, size: Int64, digest: String, modifiedAt: String,
        contextLength: Int = 8192, embeddingLength: Int = 768,
        template: String = "{{ .Prompt }}", parameters: String = ""
    ) {
        self.name = name
        self.behavior = behavior
        self.capabilities = capabilities
        self.family = family
        self.parameterSize = parameterSize
        self.quantizationLevel = quantizationLevel
        self.size = size
        self.digest = digest
        self.modifiedAt = modifiedAt
        self.contextLength = contextLength
        self.embeddingLength = embeddingLength
        self.template = template
        self.parameters = parameters
    }

    public func has(_ capability: String) -> Bool { capabilities.contains(capability) }

    static let chatTemplate =
        "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n"

    /// The models every simulator serves unless configured otherwise.
    public static let builtIn: [SimulatedModel] = [
        SimulatedModel(
            name: "sim-chat:latest", behavior: .echo, capabilities: ["completion"], family: "simchat",
            parameterSize: "1.2B", quantizationLevel: "Q4_K_M", size: 807_694_464,
            digest: "0f2a4c6e8b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c5e7b9d0f2a",
            modifiedAt: "2025-06-01T10:00:00.000000000Z", template: chatTemplate,
            parameters: "stop                           \"<|end|>\"\ntemperature                    0.8"
        ),
        SimulatedModel(
            name: "sim-think:latest", behavior: .thinker, capabilities: ["completion", "thinking"],
            family: "simthink", parameterSize: "4.0B", quantizationLevel: "Q4_K_M", size: 2_497_293_931,
            digest: "1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c2e4b6d8f1a3c",
            modifiedAt: "2025-06-02T10:00:00.000000000Z", template: chatTemplate,
            parameters: "stop                           \"<|end|>\"\ntemperature                    0.6"
        ),
        SimulatedModel(
            name: "sim-tools:latest", behavior: .toolCaller, capabilities: ["completion", "tools"],
            family: "simtools", parameterSize: "3.2B", quantizationLevel: "Q4_K_M", size: 2_019_393_189,
            digest: "2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d",
            modifiedAt: "2025-06-03T10:00:00.000000000Z",
            template: chatTemplate + "{{ if .Tools }}<|tools|>{{ .Tools }}{{ end }}",
            parameters: "stop                           \"<|end|>\""
        ),
        SimulatedModel(
            name: "sim-agent:latest", behavior: .agent, capabilities: ["completion", "tools", "thinking"],
            family: "simagent", parameterSize: "8.0B", quantizationLevel: "Q4_K_M", size: 4_920_734_208,
            digest: "7a9c1e3b5d7f0a2c4e6b8d0f2a4c6e8b1d3f5a7c9e0b2d4f6a8c1e3b5d7f9a0c",
            modifiedAt: "2025-06-08T10:00:00.000000000Z",
            template: chatTemplate + "{{ if .Tools }}<|tools|>{{ .Tools }}{{ end }}",
            parameters: "stop                           \"<|end|>\""
        ),
        SimulatedModel(
            name: "sim-vision:latest", behavior: .vision, capabilities: ["completion", "vision"],
            family: "simvision", parameterSize: "4.3B", quantizationLevel: "Q4_K_M", size: 3_338_801_804,
            digest: "3c5e7b9d1f2a4c6e8b0d2f4a6c8e1b3d5f7a9c0e2b4d6f8a1c3e5b7d9f0a2c4e",
            modifiedAt: "2025-06-04T10:00:00.000000000Z", template: chatTemplate,
            parameters: "stop                           \"<|end|>\""
        ),
        SimulatedModel(
            name: "sim-embed:latest", behavior: .embedder, capabilities: ["embedding"], family: "simbert",
            parameterSize: "22.6M", quantizationLevel: "F16", size: 45_960_996,
            digest: "4d6f8a0c2e3b5d7f9a1c3e5b7d9f2a4c6e8b0d1f3a5c7e9b2d4f6a8c0e1b3d5f",
            modifiedAt: "2025-06-05T10:00:00.000000000Z", contextLength: 512, embeddingLength: 384,
            template: "{{ .Prompt }}", parameters: ""
        ),
        SimulatedModel(
            name: "sim-r1:latest", behavior: .thinkTags, capabilities: ["completion"], family: "simr1",
            parameterSize: "1.5B", quantizationLevel: "Q4_K_M", size: 1_117_322_599,
            digest: "5e7b9d1f3a4c6e8b0d2f4a6c8e0b3d5f7a9c1e3b5d7f0a2c4e6b8d1f3a5c7e9b",
            modifiedAt: "2025-06-06T10:00:00.000000000Z", template: chatTemplate,
            parameters: "stop                           \"<|end|>\""
        ),
        SimulatedModel(
            name: "sim-code:latest", behavior: .infill, capabilities: ["completion", "insert"],
            family: "simcoder", parameterSize: "1.5B", quantizationLevel: "Q4_K_M", size: 986_048_768,
            digest: "6f8a0c2e4b5d7f9a1c3e5b7d9f0a2c4e6b8d0f2a4c6e8b1d3f5a7c9e0b2d4f6a",
            modifiedAt: "2025-06-07T10:00:00.000000000Z",
            template: "{{- if .Suffix }}<|fim_prefix|>{{ .Prompt }}<|fim_suffix|>{{ .Suffix }}<|fim_middle|>"
                + "{{- else }}{{ .Prompt }}{{- end }}",
            parameters: ""
        ),
    ]
}

/// Model names as Ollama compares them: `x` is `registry.ollama.ai/library/x:latest`, case-insensitively.
enum ModelName {
    static let defaultHost = "registry.ollama.ai"
    static let defaultNamespace = "library"

    /// `host/namespace/model:tag`, lowercased: the key models are found by.
    static func key(_ raw: String) -> String {
        let parts = components(raw)
        return "\(parts.host)/\(parts.namespace)/\(parts.model):\(parts.tag)".lowercased()
    }

    /// `registry.ollama.ai/library/x:latest`, as Ollama spells it in capability errors.
    static func full(_ raw: String) -> String {
        let parts = components(raw)
        return "\(parts.host)/\(parts.namespace)/\(parts.model):\(parts.tag)"
    }

    static func components(_ raw: String) -> (host: String, namespace: String, model: String, tag: String) {
        var name = raw.trimmingCharacters(in: .whitespaces)
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        var tag = "latest"
        let lastSlash = name.lastIndex(of: "/")
        if let colon = name.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            tag = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        let pieces = name.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch pieces.count {
        case 1: return (defaultHost, defaultNamespace, pieces[0], tag)
        case 2: return (defaultHost, pieces[0], pieces[1], tag)
        default: return (pieces[pieces.count - 3], pieces[pieces.count - 2], pieces[pieces.count - 1], tag)
        }
    }
}
