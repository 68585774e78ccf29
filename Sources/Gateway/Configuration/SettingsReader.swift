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

    func string(_ name: String, default fallback: String) -> String {
        string(name) ?? fallback
    }

    func int(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = string(name)?.trimmed, !text.isEmpty else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError("\(source(name)) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// A duration given as a whole number of milliseconds.
    func milliseconds(_ name: String, default fallback: Int, in range: ClosedRange<Int> = 1...Self.maxMilliseconds) throws
        -> Duration
    {
        .milliseconds(try int(name, default: fallback, in: range))
    }

    /// A duration given as a whole number of seconds.
    func seconds(_ name: String, default fallback: Int, in range: ClosedRange<Int> = 1...Self.maxSeconds) throws -> Duration {
        .seconds(try int(name, default: fallback, in: range))
    }

    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        guard let text = string(name)?.trimmed.lowercased(), !text.isEmpty else { return fallback }
        switch text {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError("\(source(name)) must be true or false, got '\(text)'")
        }
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
