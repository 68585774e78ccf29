/// `keep_alive` as Ollama reads it into a Go `time.Duration` (int64 nanoseconds): a number of
/// seconds, or a Go duration string (`"5m"`, `"1h30m"`, `"-1s"`). Negative means forever.
///
/// Shared by the gateway, which checks what it forwards, and the simulator, which reads it as Ollama.
/// A value a `time.Duration` cannot hold is nil here rather than converted: a Swift conversion out of
/// range traps (Go's silently wraps), and each caller refuses it in its own API's words.
public enum OllamaKeepAlive: Sendable, Equatable {
    case nanoseconds(Int64)
    case forever

    /// 2^63 nanoseconds, as a Double: the first value a Go `time.Duration` cannot hold (about 292 years).
    static let limitNanoseconds = 9_223_372_036_854_775_808.0
    /// The largest whole number of seconds a duration holds.
    public static let maxSeconds: Int64 = 9_223_372_036

    /// A number of seconds: negative is forever; nil beyond ``maxSeconds`` (or not finite).
    public static func seconds(_ seconds: Double) -> OllamaKeepAlive? {
        guard seconds.isFinite else { return nil }
        if seconds < 0 { return .forever }
        let nanoseconds = (seconds * 1e9).rounded(.towardZero)
        guard nanoseconds < limitNanoseconds else { return nil }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// A Go duration string: negative is forever; nil where Go's `time.ParseDuration` fails (overflow included).
    public static func duration(_ text: String) -> OllamaKeepAlive? {
        guard let nanoseconds = parseGoDuration(text) else { return nil }
        return nanoseconds < 0 ? .forever : .nanoseconds(nanoseconds)
    }

    /// Go's `time.ParseDuration`, in nanoseconds; nil where Go reports an error, overflow included.
    public static func parseGoDuration(_ text: String) -> Int64? {
        var chars = Array(text.unicodeScalars)
        var negative = false
        if let first = chars.first, first == "-" || first == "+" {
            negative = first == "-"
            chars.removeFirst()
        }
        if chars.count == 1, chars[0] == "0" { return 0 }
        if chars.isEmpty { return nil }
        let units: [String: Double] = [
            "ns": 1, "us": 1e3, "µs": 1e3, "μs": 1e3, "ms": 1e6, "s": 1e9, "m": 60e9, "h": 3600e9,
        ]
        var total = 0.0
        var index = 0
        while index < chars.count {
            var number = ""
            while index < chars.count, chars[index].properties.numericType != nil || chars[index] == "." {
                guard chars[index].isASCII else { return nil }
                number.unicodeScalars.append(chars[index])
                index += 1
            }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            var unit = ""
            while index < chars.count, chars[index] != ".", !(chars[index].isASCII && chars[index].properties.numericType != nil) {
                unit.unicodeScalars.append(chars[index])
                index += 1
            }
            guard let scale = units[unit] else { return nil }
            total += value * scale
        }
        // Strictly below 2^63: `Int64(2^63 as Double)` would trap, and Go refuses it as an overflow.
        guard total.isFinite, total < limitNanoseconds else { return nil }
        return negative ? -Int64(total) : Int64(total)
    }
}
