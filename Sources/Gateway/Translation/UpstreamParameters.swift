import GatewayAPI

/// Upstream parameters from one source — the request, a per-model override, or the gateway
/// defaults — in Ollama's vocabulary. `merged(over:)` is the one place where sources are combined.
public struct ParameterLayer: Sendable, Equatable {
    /// Ollama `options`, merged key by key.
    public var options: [String: JSONValue] = [:]
    public var think: OllamaThink?
    public var keepAlive: JSONValue?
    /// Overall deadline of the request (`request_timeout` / `timeout_ms`, in milliseconds on the wire).
    public var timeout: Duration?
    /// Hide the reasoning from the client while the model still thinks.
    public var excludeReasoning: Bool?
    public var truncate: Bool?
    public var shift: Bool?

    public init(
        options: [String: JSONValue] = [:], think: OllamaThink? = nil, keepAlive: JSONValue? = nil,
        timeout: Duration? = nil, excludeReasoning: Bool? = nil, truncate: Bool? = nil, shift: Bool? = nil
    ) {
        self.options = options
        self.think = think
        self.keepAlive = keepAlive
        self.timeout = timeout
        self.excludeReasoning = excludeReasoning
        self.truncate = truncate
        self.shift = shift
    }

    /// This layer with every field it leaves unset taken from `lower`. Options merge per key.
    public func merged(over lower: ParameterLayer) -> ParameterLayer {
        ParameterLayer(
            options: options.merging(lower.options) { mine, _ in mine },
            think: think ?? lower.think,
            keepAlive: keepAlive ?? lower.keepAlive,
            timeout: timeout ?? lower.timeout,
            excludeReasoning: excludeReasoning ?? lower.excludeReasoning,
            truncate: truncate ?? lower.truncate,
            shift: shift ?? lower.shift
        )
    }

    /// The final parameters of an upstream request: *request → per-model override → gateway default*.
    public static func resolve(request: ParameterLayer, modelOverride: ParameterLayer, defaults: ParameterLayer)
        -> ParameterLayer
    {
        request.merged(over: modelOverride).merged(over: defaults)
    }
}

extension ParameterLayer {
    /// Option names whose values must be integers, and those that must be numbers, as Ollama checks them.
    static let integerOptions: Set<String> = [
        "num_ctx", "num_batch", "num_gpu", "num_thread", "num_keep", "num_predict", "seed", "top_k", "repeat_last_n",
        "mirostat", "main_gpu",
    ]
    static let numberOptions: Set<String> = [
        "temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty", "frequency_penalty",
        "mirostat_tau", "mirostat_eta", "tfs_z",
    ]
    static let boolOptions: Set<String> = ["penalize_newline", "numa", "use_mmap", "use_mlock", "low_vram"]

    /// Reads controls written in Ollama's format, as a client sends them beside its request or an
    /// admin writes them as a model override: option names at the top level or inside `options`,
    /// plus `think`, `keep_alive`, `request_timeout`/`timeout_ms`, `exclude_reasoning`, `truncate`, `shift`.
    /// Names that are not controls are options, known or not (Ollama ignores options it does not
    /// know); the callers only pass names meant for Ollama. Wrong types are refused.
    /// - Parameter paramPrefix: prefixed to field names in errors (`extra_body.`).
    public init(ollamaStyle controls: [String: JSONValue], paramPrefix: String = "") throws(GatewayError) {
        self.init()
        for (name, value) in controls {
            let param = paramPrefix + name
            switch name {
            case "options":
                guard let nested = value.objectValue else {
                    throw .invalid("'\(param)' must be an object of Ollama options.", param: param)
                }
                for (option, optionValue) in nested {
                    try Self.checkOption(option, optionValue, param: "\(param).\(option)")
                    // An option given at the top level is more specific than the same one inside `options`.
                    let alsoAtTopLevel = controls[option] != nil && OllamaControlKey.optionNames.contains(option)
                    if !alsoAtTopLevel { options[option] = optionValue }
                }
            case "think":
                think = try Self.think(from: value, param: param)
            case "keep_alive":
                switch value {
                case .string, .int, .double: keepAlive = value
                default: throw .invalid("'\(param)' must be a duration string like \"5m\" or a number of seconds.", param: param)
                }
            case "request_timeout", "timeout_ms":
                guard let milliseconds = value.intValue, milliseconds > 0 else {
                    throw .invalid("'\(param)' must be a positive number of milliseconds.", param: param)
                }
                timeout = .milliseconds(milliseconds)
            case "exclude_reasoning":
                excludeReasoning = try Self.bool(value, param: param)
            case "truncate":
                truncate = try Self.bool(value, param: param)
            case "shift":
                shift = try Self.bool(value, param: param)
            default:
                // Controls of one endpoint (`raw` for generate) are read by that endpoint's translator.
                if OllamaControlKey.controlNames.contains(name) { continue }
                // An option this version does not know still goes to Ollama: newer models have new ones.
                try Self.checkOption(name, value, param: param)
                options[name] = value
            }
        }
    }

    /// `think` as Ollama accepts it, refused with Ollama's own message otherwise.
    static func think(from value: JSONValue, param: String) throws(GatewayError) -> OllamaThink {
        switch value {
        case .bool(let flag): return .enabled(flag)
        case .string(let level) where OllamaThink.levels.contains(level): return .level(level)
        case .string("true"): return .enabled(true)
        case .string("false"): return .enabled(false)
        default:
            let shown: String = if case .string(let text) = value { "\"\(text)\"" } else { value.typeName }
            throw .invalid(
                "invalid think value: \(shown) (must be \"high\", \"medium\", \"low\", \"max\", true, or false)",
                param: param
            )
        }
    }

    private static func bool(_ value: JSONValue, param: String) throws(GatewayError) -> Bool {
        guard let flag = value.boolValue else { throw .invalid("'\(param)' must be a boolean.", param: param) }
        return flag
    }

    private static func checkOption(_ name: String, _ value: JSONValue, param: String) throws(GatewayError) {
        if integerOptions.contains(name), value.intValue == nil {
            throw .invalid("'\(param)' must be an integer, got \(value.typeName).", param: param)
        }
        if numberOptions.contains(name), value.doubleValue == nil {
            throw .invalid("'\(param)' must be a number, got \(value.typeName).", param: param)
        }
        if boolOptions.contains(name), value.boolValue == nil {
            throw .invalid("'\(param)' must be a boolean, got \(value.typeName).", param: param)
        }
        if name == "stop" {
            switch value {
            case .string: break
            case .array(let items) where items.allSatisfy({ $0.stringValue != nil }): break
            default: throw .invalid("'\(param)' must be a string or an array of strings.", param: param)
            }
        }
    }

    /// Names in Ollama-style controls that are neither Ollama options nor gateway controls.
    /// `ParameterLayer(ollamaStyle:)` passes options it does not know inside `options` and ignores
    /// unknown top-level names; an admin saving such a name deserves to be told.
    public static func unknownNames(in controls: [String: JSONValue]) -> [String] {
        var unknown: [String] = []
        for (name, value) in controls {
            if name == "options", let nested = value.objectValue {
                unknown += nested.keys.filter { !OllamaControlKey.optionNames.contains($0) }.map { "options.\($0)" }
            } else if !OllamaControlKey.optionNames.contains(name), !OllamaControlKey.controlNames.contains(name) {
                unknown.append(name)
            }
        }
        return unknown.sorted()
    }

    /// `stop` normalised to the array Ollama expects.
    static func normalizedOptions(_ options: [String: JSONValue]) -> [String: JSONValue] {
        guard case .string(let single) = options["stop"] else { return options }
        var result = options
        result["stop"] = .array([.string(single)])
        return result
    }
}
