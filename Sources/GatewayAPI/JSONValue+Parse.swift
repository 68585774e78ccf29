import Foundation

extension JSONValue {
    /// Parses JSON text into a tree in one pass, without a `Decoder`: nil for anything that is not
    /// strict JSON (or is nested deeper than `maxDepth`), so a caller can fall back to Foundation's
    /// decoder and report its error.
    ///
    /// Through a `Decoder`, a free-form value has to be read by guessing its kind, and each wrong
    /// guess throws a `DecodingError` that Foundation builds with the whole coding path: tens of
    /// microseconds per number, so a body of many numbers cost seconds. Here each byte is read once.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 512) -> JSONValue? {
        var parser = JSONTreeParser(bytes: bytes, maxDepth: maxDepth)
        guard let value = parser.value(depth: 0) else { return nil }
        parser.skipSpace()
        guard parser.index == bytes.count else { return nil }
        return value
    }

    public static func parse(_ data: Data, maxDepth: Int = 512) -> JSONValue? {
        data.withUnsafeBytes { parse($0, maxDepth: maxDepth) }
    }
}

extension CodingUserInfoKey {
    /// A `JSONValue` tree of the whole document being decoded (from `JSONValue.parse`): free-form
    /// values are then taken from it by their coding path instead of being decoded kind by kind.
    public static let parsedJSONTree = CodingUserInfoKey(rawValue: "gateway.parsedJSONTree")!
}

extension JSONDecoder {
    /// A decoder for `data` whose `JSONValue` fields come from one parse of it (see
    /// ``CodingUserInfoKey/parsedJSONTree``); a plain decoder when the parse fails, so that
    /// Foundation reports the error.
    public static func withParsedTree(of data: Data) -> JSONDecoder {
        let decoder = JSONDecoder()
        if let tree = JSONValue.parse(data) { decoder.userInfo[.parsedJSONTree] = tree }
        return decoder
    }
}

extension JSONValue {
    /// The value at a coding path: object members by name, array elements by index.
    func value(at path: [any CodingKey]) -> JSONValue? {
        var current = self
        for key in path {
            switch current {
            case .object(let members):
                guard let member = members[key.stringValue] else { return nil }
                current = member
            case .array(let items):
                guard let index = key.intValue, items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }
}

private struct JSONTreeParser {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) -> JSONValue? {
        skipSpace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        default: return number()
        }
    }

    mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = text.utf8CodeUnitCount
        guard bytes.count - index >= count else { return nil }
        for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return nil }
        index += count
        return value
    }

    mutating func object(depth: Int) -> JSONValue? {
        guard depth <= maxDepth else { return nil }
        index += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            guard let member = value(depth: depth) else { return nil }
            // The first of duplicate names wins, as in Foundation's decoder, so typed fields and
            // free-form ones read the same body the same way.
            if members[key] == nil { members[key] = member }
            skipSpace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            } else {
                return nil
            }
        }
    }

    mutating func array(depth: Int) -> JSONValue? {
        guard depth <= maxDepth else { return nil }
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            guard let item = value(depth: depth) else { return nil }
            items.append(item)
            skipSpace()
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            } else {
                return nil
            }
        }
    }

    /// A string at `index` (its opening quote): escapes resolved, UTF-8 validated.
    mutating func string() -> String? {
        JSONStringReader.read(bytes, at: &index)
    }

    /// JSON's number grammar; an integer Int can hold is `.int` (as Foundation's decoder reads it),
    /// any other finite number `.double`, one beyond Double's range nil.
    mutating func number() -> JSONValue? {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - first
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            return nil
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            integral = false
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            integral = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else { return nil }
        if integral {
            // Digits only: an Int when they fit, as Foundation's decoder reads them, else a Double.
            return Int(text).map(JSONValue.int) ?? .double(number)
        }
        // `1.0` and `1e2` are whole numbers, which Foundation's decoder reads as Int. Within 2^53 the
        // Double is exact; beyond, the kind may differ from Foundation's, never the value.
        if number.rounded() == number, abs(number) < 9_007_199_254_740_992.0 {
            return .int(Int(number))
        }
        return .double(number)
    }
}
