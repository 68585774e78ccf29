/// Ollama's option names (the keys of `options`, model parameters) and the request-level controls
/// beside them, with the kind of value each takes.
///
/// The one list: the OpenAI and Anthropic decoders pick these names up at the top level of a body, the
/// gateway's parameter layer checks their values, the native route lifts the controls out of a body, and
/// the simulator checks `options` as Ollama does. Each applies the kind in its own way (the gateway
/// refuses `1.5` for an integer with a 400; Ollama, reading JSON numbers as float64, accepts it).
public struct OllamaOption: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case integer
        case float
        case bool
        /// `stop`: a string or an array of strings (Ollama itself reads only the array).
        case stringArray
    }

    /// Which side reads the option today.
    public enum Support: Sendable, Hashable {
        /// Read and checked by today's Ollama; known to the gateway.
        case current
        /// Known to the gateway (older Ollama servers read it); today's Ollama ignores it unchecked.
        case retired
        /// Read by today's Ollama but not yet known to the gateway, which forwards it inside
        /// `options` unchecked like any other name it does not know.
        case ollamaOnly
    }

    public let name: String
    public let kind: Kind
    public let support: Support
    /// The integers the gateway accepts, where it limits them; with ``rangeDescription`` for its message.
    public let range: ClosedRange<Int>?
    public let rangeDescription: String?

    init(
        _ name: String, _ kind: Kind, _ support: Support = .current, range: ClosedRange<Int>? = nil,
        rangeDescription: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.support = support
        self.range = range
        self.rangeDescription = rangeDescription
    }

    /// The most tokens a context or a generation can count: llama.cpp holds both in an int32.
    public static let maxTokens = Int(Int32.max)

    /// Every option, in Ollama's order of `api.Options`.
    public static let all: [OllamaOption] = [
        // Runner options.
        OllamaOption(
            "num_ctx", .integer, range: 1...maxTokens, rangeDescription: "a number of tokens from 1 to \(maxTokens)"),
        OllamaOption("num_batch", .integer),
        OllamaOption("num_gpu", .integer),
        OllamaOption("main_gpu", .integer),
        OllamaOption("use_mmap", .bool),
        OllamaOption("num_thread", .integer),
        OllamaOption("draft_num_predict", .integer, .ollamaOnly),
        // Sampling and generation options.
        OllamaOption("num_keep", .integer),
        OllamaOption("seed", .integer),
        // Ollama: -1 generates until the model stops, -2 until the context is full. Above ``maxTokens``
        // the gateway lowers the value rather than refusing it (clients ask for far more as "no limit").
        OllamaOption(
            "num_predict", .integer, range: -2...Int.max,
            rangeDescription: "-1 (no limit), -2 (fill the context) or a number of tokens"),
        OllamaOption("top_k", .integer),
        OllamaOption("top_p", .float),
        OllamaOption("min_p", .float),
        OllamaOption("typical_p", .float),
        OllamaOption("repeat_last_n", .integer),
        OllamaOption("temperature", .float),
        OllamaOption("repeat_penalty", .float),
        OllamaOption("presence_penalty", .float),
        OllamaOption("frequency_penalty", .float),
        OllamaOption("stop", .stringArray),
        // Options older Ollama servers read.
        OllamaOption("mirostat", .integer, .retired),
        OllamaOption("mirostat_tau", .float, .retired),
        OllamaOption("mirostat_eta", .float, .retired),
        OllamaOption("tfs_z", .float, .retired),
        OllamaOption("penalize_newline", .bool, .retired),
        OllamaOption("numa", .bool, .retired),
        OllamaOption("use_mlock", .bool, .retired),
        OllamaOption("low_vram", .bool, .retired),
    ]

    /// Options by name.
    public static let byName: [String: OllamaOption] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The option the gateway knows by this name (nil for a name it forwards unchecked).
    public static func known(_ name: String) -> OllamaOption? {
        guard let option = byName[name], option.support != .ollamaOnly else { return nil }
        return option
    }

    /// The option today's Ollama reads by this name (nil for one it ignores).
    public static func readByOllama(_ name: String) -> OllamaOption? {
        guard let option = byName[name], option.support != .retired else { return nil }
        return option
    }

    /// Names the gateway knows as options: accepted at the top level of an OpenAI or Anthropic body.
    public static let gatewayNames: Set<String> = Set(all.filter { $0.support != .ollamaOnly }.map(\.name))
}

/// Request-level controls in Ollama's format that are not model options.
public enum OllamaControl {
    /// Controls the gateway's parameter layer reads and merges with per-model overrides and defaults
    /// (`request_timeout`, `timeout_ms` and `exclude_reasoning` are the gateway's own and never go upstream).
    public static let layered: [String] = [
        "options", "keep_alive", "think", "request_timeout", "timeout_ms", "exclude_reasoning", "truncate", "shift",
    ]
    /// Controls of one endpoint, read by that endpoint's translator (`raw` for generate).
    public static let endpointSpecific: [String] = ["raw"]
    /// Every control a client may send beside an OpenAI or Anthropic request body.
    public static let names: Set<String> = Set(layered + endpointSpecific)
}
