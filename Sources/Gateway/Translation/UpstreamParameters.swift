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
        // A null is "not set", as Ollama reads it (clients such as langchain-ollama send every option,
        // most of them null): it neither sets a value nor hides the model override or default.
        for (name, value) in controls where !value.isNull {
            let param = paramPrefix + name
            switch name {
            case "options":
                guard let nested = value.objectValue else {
                    throw .invalid("'\(param)' must be an object of Ollama options.", param: param)
                }
                for (option, optionValue) in nested where !optionValue.isNull {
                    let checked = try Self.checkedOption(option, optionValue, param: "\(param).\(option)")
                    // An option given at the top level is more specific than the same one inside `options`.
                    let alsoAtTopLevel =
                        controls[option].map { !$0.isNull } == true && OllamaControlKey.optionNames.contains(option)
                    if !alsoAtTopLevel { options[option] = checked }
                }
            case "think":
                think = try Self.think(from: value, param: param)
            case "keep_alive":
                keepAlive = try Self.keepAlive(value, param: param)
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
                options[name] = try Self.checkedOption(name, value, param: param)
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

    /// Sets an option from a field of the caller's API (`max_tokens` → `num_predict`), checked as
    /// the same option in `options` is.
    mutating func setOption(_ name: String, _ value: JSONValue, param: String) throws(GatewayError) {
        options[name] = try Self.checkedOption(name, value, param: param)
    }

    /// The most tokens a context or a generation can count: llama.cpp holds both in an int32.
    public static let maxTokens = Int(Int32.max)

    /// `keep_alive` as Ollama reads it into a Go duration (int64 nanoseconds): what it would refuse, or
    /// what the duration cannot hold, is a 400 here rather than an overflow further down.
    static func keepAlive(_ value: JSONValue, param: String) throws(GatewayError) -> JSONValue {
        let forever = "a negative value keeps the model loaded forever"
        switch value {
        case .string(let text):
            guard OllamaKeepAlive.duration(text) != nil else {
                let shown = String(text.prefix(40)) + (text.count > 40 ? "…" : "")
                throw .invalid(
                    "'\(param)' is not a duration: \"\(shown)\". Use a number of seconds or a duration such as \"5m\" or \"1h30m\" (at most \(OllamaKeepAlive.maxSeconds) seconds); \(forever).",
                    param: param)
            }
        case .int, .double:
            guard let seconds = value.doubleValue, OllamaKeepAlive.seconds(seconds) != nil else {
                throw .invalid("'\(param)' must be at most \(OllamaKeepAlive.maxSeconds) seconds (about 292 years); \(forever).", param: param)
            }
        default:
            throw .invalid("'\(param)' must be a duration string like \"5m\" or a number of seconds.", param: param)
        }
        return value
    }

    /// An option's value as it goes upstream, or a 400 for one Ollama would refuse or no model could honour.
    /// A generation length beyond what any context holds is lowered to ``maxTokens`` rather than refused:
    /// clients (Claude Code among them) ask for far more than the model's context as "no limit".
    static func checkedOption(_ name: String, _ value: JSONValue, param: String) throws(GatewayError) -> JSONValue {
        if integerOptions.contains(name), value.intValue == nil {
            throw .invalid("'\(param)' must be an integer, got \(value.typeName).", param: param)
        }
        if numberOptions.contains(name) {
            guard let number = value.doubleValue else {
                throw .invalid("'\(param)' must be a number, got \(value.typeName).", param: param)
            }
            guard number.isFinite else { throw .invalid("'\(param)' must be a finite number.", param: param) }
        }
        switch name {
        case "num_ctx":
            guard let tokens = value.intValue, (1...maxTokens).contains(tokens) else {
                throw .invalid("'\(param)' must be a number of tokens from 1 to \(maxTokens).", param: param)
            }
        case "num_predict":
            // Ollama: -1 generates until the model stops, -2 until the context is full.
            guard let tokens = value.intValue, tokens >= -2 else {
                throw .invalid(
                    "'\(param)' must be -1 (no limit), -2 (fill the context) or a number of tokens.", param: param)
            }
            if tokens > maxTokens { return .int(maxTokens) }
        default:
            break
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
        return value
    }

    /// Names in Ollama-style controls that are neither Ollama options nor gateway controls.
    /// `ParameterLayer(ollamaStyle:)` passes the names it does not know on to Ollama as options,
    /// inside `options` or at the top level (newer models have new ones); an admin saving such a name
    /// — most likely a typo — deserves to be told.
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
