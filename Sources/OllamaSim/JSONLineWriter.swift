import Foundation
import GatewayAPI

/// A minimal JSON writer for the hot path (stream lines), escaping strings as Go's encoding/json does
/// (`<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026`), so lines look byte-for-byte like Ollama's.
struct JSONLineWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func int(_ value: Int) {
        raw(String(value))
    }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(92); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(92); bytes.append(byte)
            case UInt8(ascii: "\n"): bytes.append(92); bytes.append(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): bytes.append(92); bytes.append(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): bytes.append(92); bytes.append(UInt8(ascii: "t"))
            case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigit(byte >> 4))
                bytes.append(Self.hexDigit(byte & 0xF))
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .int(let number): int(number)
        case .double(let number):
            if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
                int(Int(number))
            } else {
                raw(number.isFinite ? "\(number)" : "null")
            }
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (offset, item) in items.enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            // Sorted keys, as Go marshals maps.
            bytes.append(UInt8(ascii: "{"))
            for (offset, key) in members.keys.sorted().enumerated() {
                if offset > 0 { bytes.append(UInt8(ascii: ",")) }
                string(key)
                bytes.append(UInt8(ascii: ":"))
                self.value(members[key]!)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + 48 : nibble + 87
    }
}

/// `created_at` and friends: RFC 3339 with fractional seconds in UTC, as Go's time.Time marshals
/// (`2025-06-01T10:00:00.123456789Z`, trailing zeros of the fraction trimmed).
enum Timestamp {
    static func now() -> String {
        format(Date())
    }

    static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = Int(interval.rounded(.down))
        var nanos = Int(((interval - Double(seconds)) * 1e9).rounded())
        if nanos >= 1_000_000_000 {
            seconds += 1
            nanos -= 1_000_000_000
        }
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        var text = String(parts.tm_year + 1900) + "-" + pad2(Int(parts.tm_mon) + 1) + "-" + pad2(Int(parts.tm_mday))
        text += "T" + pad2(Int(parts.tm_hour)) + ":" + pad2(Int(parts.tm_min)) + ":" + pad2(Int(parts.tm_sec))
        if nanos > 0 {
            var fraction = String(nanos)
            fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    private static func pad2(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
