/// Reads a JSON string straight from its bytes: escapes resolved, surrogate pairs joined, UTF-8
/// validated, raw control bytes refused. The one string reader behind the project's hand-written
/// JSON parsers (free-form bodies, Ollama's stream lines), so that they agree on every string.
public enum JSONStringReader {
    /// The string whose opening quote is at `index`; on success `index` is past its closing quote.
    /// nil for anything JSON does not allow.
    @inlinable
    public static func read(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> String? {
        index += 1
        let start = index
        // The common case, no escape: the bytes themselves.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            index += 1
        }
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unicode = unicodeEscape(bytes, at: &index) else { return nil }
                    utf8.append(contentsOf: UTF8.encode(unicode)!)
                default:
                    return nil
                }
            default:
                if byte < 0x20 { return nil }
                utf8.append(byte)
            }
        }
        return nil
    }

    /// Moves past the string whose opening quote is at `index` when `read` would accept it, without
    /// building it: for copying a string's JSON text as it stands. false for anything JSON does not allow.
    @inlinable
    public static func skip(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> Bool {
        index += 1
        let start = index
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                // Escapes are ASCII: the bytes are valid UTF-8 exactly when the text they spell is.
                return ascii
                    || String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self) != nil
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return false }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    guard unicodeEscape(bytes, at: &index) != nil else { return false }
                default:
                    return false
                }
            default:
                if byte < 0x20 { return false }
                if byte >= 0x80 { ascii = false }
            }
        }
        return false
    }

    /// The character of a `\u` escape whose four digits start at `index`, a surrogate pair joined,
    /// moving past it; nil for a lone surrogate or bad digits.
    @inlinable
    static func unicodeEscape(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> Unicode.Scalar? {
        guard var scalar = hex4(bytes, at: &index) else { return nil }
        if (0xD800..<0xDC00).contains(scalar) {
            // A high surrogate must be followed by an escaped low one.
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { return nil }
            index += 2
            guard let low = hex4(bytes, at: &index), (0xDC00..<0xE000).contains(low) else { return nil }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        return Unicode.Scalar(scalar)
    }

    /// Four hexadecimal digits at `index` (a `\u` escape's), moving past them.
    @inlinable
    static func hex4(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
