import Foundation
import GatewayAPI

/// Decoding exactly as Go's `base64.StdEncoding` does, so a bad image fails with the same message and
/// byte offset as Ollama (`illegal base64 data at input byte 4` for a `data:` URL).
enum GoBase64 {
    struct CorruptInput: Error, Equatable {
        let offset: Int
        var message: String { "illegal base64 data at input byte \(offset)" }
    }

    private static let decodeMap: [UInt8] = {
        var map = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            map[Int(byte)] = UInt8(index)
        }
        return map
    }()

    static func decode(_ text: String) throws(CorruptInput) -> [UInt8] {
        let source = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(source.count / 4 * 3)
        var index = 0
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        let pad = UInt8(ascii: "=")
        while index < source.count {
            var quantum = [UInt8](repeating: 0, count: 4)
            var length = 4
            var j = 0
            var trailingError: CorruptInput?
            while j < 4 {
                if index == source.count {
                    if j == 0 { return output }
                    throw CorruptInput(offset: index - j)  // padding is required
                }
                let byte = source[index]
                index += 1
                let value = decodeMap[Int(byte)]
                if value != 0xFF {
                    quantum[j] = value
                    j += 1
                    continue
                }
                if byte == newline || byte == carriageReturn { continue }
                if byte != pad { throw CorruptInput(offset: index - 1) }
                // Padding: the quantum ends here.
                switch j {
                case 0, 1:
                    throw CorruptInput(offset: index - 1)
                case 2:
                    while index < source.count, source[index] == newline || source[index] == carriageReturn { index += 1 }
                    if index == source.count { throw CorruptInput(offset: source.count) }
                    if source[index] != pad { throw CorruptInput(offset: index - 1) }
                    index += 1
                default:
                    break
                }
                while index < source.count, source[index] == newline || source[index] == carriageReturn { index += 1 }
                if index < source.count { trailingError = CorruptInput(offset: index) }
                length = j
                j = 4
            }
            let value = UInt32(quantum[0]) << 18 | UInt32(quantum[1]) << 12 | UInt32(quantum[2]) << 6 | UInt32(quantum[3])
            let decoded = [UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
            output.append(contentsOf: decoded.prefix(length - 1))
            if let trailingError { throw trailingError }
        }
        return output
    }
}

/// `keep_alive` as Ollama reads it: seconds as a number, or a Go duration string (`"5m"`, `"1h30m"`, `"-1s"`).
/// Negative means forever.
enum KeepAlive: Equatable {
    case duration(Duration)
    case forever

    static let `default` = KeepAlive.duration(.seconds(300))

    struct Invalid: Error {
        let message: String
    }

    static func parse(_ value: JSONValueLike) throws(Invalid) -> KeepAlive {
        switch value {
        case .number(let seconds):
            // Go would wrap the int64 conversion of an out-of-range number; refusing it is what a client can act on.
            guard let parsed = OllamaKeepAlive.seconds(seconds) else {
                throw Invalid(message: "keep_alive \(seconds) seconds is out of range for a duration")
            }
            return KeepAlive(parsed)
        case .string(let text):
            guard let parsed = OllamaKeepAlive.duration(text) else {
                throw Invalid(message: "time: invalid duration \(goQuote(text))")
            }
            return KeepAlive(parsed)
        case .other(let goType):
            throw Invalid(message: "Unsupported type: '\(goType)'")
        }
    }

    init(_ parsed: OllamaKeepAlive) {
        switch parsed {
        case .nanoseconds(let nanoseconds): self = .duration(.nanoseconds(nanoseconds))
        case .forever: self = .forever
        }
    }

    /// The subset of JSON shapes keep_alive can take, with Go's type name for the rest.
    enum JSONValueLike {
        case number(Double)
        case string(String)
        case other(String)
    }

    var isZero: Bool { self == .duration(.zero) }
}

/// Go's `%q` for the strings Ollama quotes in its messages.
func goQuote(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                result += String(format: "\\x%02x", scalar.value)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
