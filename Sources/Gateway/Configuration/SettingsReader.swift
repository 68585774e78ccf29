import Configuration

/// Reads settings by their environment names and refuses a value that does not parse or is out of
/// range, naming where it came from: the flag when it was given as one, else the environment
/// variable (set in the environment or in `.env`). The configuration library's own readers fall
/// back to the default for a value they cannot convert, so `PORT=abc` would start on 3000 unnoticed.
struct SettingsReader {
    let reader: ConfigReader
    /// Environment name → the flag that set it, for the settings given on the command line.
    let flags: [String: String]

    init(_ reader: ConfigReader, flags: [String: String] = [:]) {
        self.reader = reader
        self.flags = flags
    }

    /// `PORT` → `port`, `OLLAMA_URL` → `ollama.url`: the key that finds the environment variable.
    static func key(_ name: String) -> ConfigKey {
        ConfigKey(name.lowercased().split(separator: "_").map(String.init))
    }

    /// How an error names the setting: `--port` when given as a flag, else `PORT`.
    func source(_ name: String) -> String {
        flags[name].map { "\($0) (\(name))" } ?? name
    }

    func string(_ name: String, isSecret: Bool = false) -> String? {
        reader.string(forKey: Self.key(name), isSecret: isSecret)
    }

    /// A whole number in `range`, nil when the setting is not given.
    private func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name)?.trimmed, !text.isEmpty else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("\(source(name)) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    func read(_ setting: Setting<String>) -> String {
        string(setting.name, isSecret: setting.isSecret) ?? setting.defaultValue
    }

    func read(_ setting: Setting<String?>) -> String? {
        string(setting.name, isSecret: setting.isSecret) ?? setting.defaultValue
    }

    func read(_ setting: Setting<Int>) throws -> Int {
        try int(setting.name, in: setting.range ?? Int.min...Int.max) ?? setting.defaultValue
    }

    func read(_ setting: Setting<Duration>) throws -> Duration {
        try int(setting.name, in: setting.range ?? 0...Int.max).map { setting.unit * $0 } ?? setting.defaultValue
    }

    func read(_ setting: Setting<Bool>) throws -> Bool {
        guard let text = string(setting.name)?.trimmed.lowercased(), !text.isEmpty else { return setting.defaultValue }
        switch text {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError("\(source(setting.name)) must be true or false, got '\(text)'")
        }
    }

    func read<Value: RawRepresentable & CaseIterable & Sendable>(_ setting: Setting<Value>) throws -> Value
    where Value.RawValue == String {
        let text = string(setting.name) ?? setting.defaultValue.rawValue
        guard let value = Value(rawValue: text) else {
            throw ConfigurationError(
                "\(source(setting.name)) must be one of \(Value.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return value
    }

    /// A year, in milliseconds and in seconds: longer durations are mistakes, and far longer ones
    /// would overflow where they are added to a clock.
    static let maxMilliseconds = 365 * 24 * 3600 * 1000
    static let maxSeconds = 365 * 24 * 3600
}

extension String {
    fileprivate var trimmed: String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
