import GatewayAPI
import NIOCore

/// Reads the common shape of Ollama's `/api/chat` lines — model, created_at, a message with role,
/// content and thinking, done, done_reason, error and the metrics — without Foundation's JSONDecoder,
/// which cost more CPU per streamed token than the rest of the relay together.
///
/// Anything else (tool calls, images, a number that is not a plain integer, an escape it does not
/// know, invalid UTF-8, malformed JSON) makes it give up and return nil: the caller then decodes the
/// line with `JSONDecoder` as before, so results and errors are exactly those of the Codable path.
enum OllamaChatChunkDecoder {
    static func decode(_ line: ByteBuffer) -> OllamaChatChunk? {
        line.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes: bytes)
            guard let chunk = scanner.chatChunk(), scanner.atEnd() else { return nil }
            return chunk
        }
    }

    /// A line that carries one piece of answer text or of thinking and nothing else a client needs —
    /// `{"model":…,"created_at":…,"message":{"role":"assistant","content":"…"},"done":false}`, or
    /// `"content":""` with `"thinking":"…"`, the members in any order — with that piece as the JSON
    /// string Ollama wrote, quotes and escapes included: a slice of `line`, not a copy. nil for any
    /// other line.
    static func plainLine(_ line: ByteBuffer) -> OllamaChatLine? {
        let piece: (range: Range<Int>, thinking: Bool)? = line.withUnsafeReadableBytes { bytes in
            var scanner = JSONScanner(bytes: bytes)
            guard let piece = scanner.plainLine(), scanner.atEnd() else { return nil }
            return piece
        }
        guard let piece, let slice = line.getSlice(at: line.readerIndex + piece.range.lowerBound, length: piece.range.count)
        else { return nil }
        return piece.thinking ? .thinking(slice) : .text(slice)
    }
}

/// A forward-only reader of one JSON text; every method returns nil (or false) when the input is not
/// what it expects.
private struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let pointer = text.utf8Start
        for offset in 0..<count where bytes[index + offset] != pointer[offset] { return false }
        index += count
        return true
    }

    /// `null`, consumed.
    mutating func null() -> Bool {
        skipSpace()
        return index < bytes.count && bytes[index] == UInt8(ascii: "n") && literal("null")
    }

    /// Walks the members of an object, calling `member` with each key's raw bytes (keys with escapes
    /// are refused); `member` reads the value and returns false to give up.
    mutating func object(_ member: (inout JSONScanner, UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return false }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") { return false }
                end += 1
            }
            guard end < bytes.count else { return false }
            index = end + 1
            guard consume(UInt8(ascii: ":")) else { return false }
            guard member(&self, UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else { return false }
            if consume(UInt8(ascii: ",")) { continue }
            return consume(UInt8(ascii: "}"))
        }
    }

    mutating func string() -> String? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        return JSONStringReader.read(bytes, at: &index)
    }

    /// A plain integer (no fraction, no exponent, no leading zeros), as JSONDecoder reads `Int`.
    mutating func integer() -> Int? {
        skipSpace()
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let start = index
        var value = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[index] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        let digits = index - start
        guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        return negative ? -value : value
    }

    mutating func bool() -> Bool? {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// Optional values: `null` is nil, as `decodeIfPresent` reads it. The outer nil means "give up".
    mutating func optionalString() -> String?? {
        if null() { return .some(nil) }
        return string().map { .some($0) }
    }

    mutating func optionalInteger() -> Int?? {
        if null() { return .some(nil) }
        return integer().map { .some($0) }
    }

    /// Skips a value of any kind.
    mutating func skipValue(depth: Int = 0) -> Bool {
        guard depth < 64 else { return false }
        skipSpace()
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "{"): return object { scanner, _ in scanner.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            index += 1
            if consume(UInt8(ascii: "]")) { return true }
            while true {
                guard skipValue(depth: depth + 1) else { return false }
                if consume(UInt8(ascii: ",")) { continue }
                return consume(UInt8(ascii: "]"))
            }
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return bool() != nil
        case UInt8(ascii: "n"): return null()
        default: return number()
        }
    }

    /// Any JSON number.
    private mutating func number() -> Bool {
        let start = index
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        var digits = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
            default: return digits > 0
            }
            index += 1
        }
        return digits > 0 && index > start
    }

    /// A string's JSON text, quotes included, when it is one `string()` would read.
    mutating func rawString() -> Range<Int>? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index
        guard JSONStringReader.skip(bytes, at: &index) else { return nil }
        return start..<index
    }

    // MARK: - Ollama's chat line

    /// See `OllamaChatChunkDecoder.plainLine(_:)`: the range of the piece's JSON string, and whether
    /// it is thinking.
    mutating func plainLine() -> (range: Range<Int>, thinking: Bool)? {
        var content: Range<Int>?
        var thinking: Range<Int>?
        var notDone = false
        let ok = object { scanner, key in
            if equals(key, "model") || equals(key, "created_at") { return scanner.rawString() != nil }
            if equals(key, "done") {
                notDone = scanner.bool() == false
                return notDone
            }
            guard equals(key, "message") else { return false }
            var assistant = false
            let message = scanner.object { scanner, key in
                if equals(key, "role") {
                    guard let role = scanner.rawString() else { return false }
                    assistant = equals(UnsafeRawBufferPointer(rebasing: scanner.bytes[role]), #""assistant""#)
                    return assistant
                }
                if equals(key, "content") {
                    content = scanner.rawString()
                    return content != nil
                }
                if equals(key, "thinking") {
                    thinking = scanner.rawString()
                    return thinking != nil
                }
                return false
            }
            return message && assistant
        }
        guard ok, notDone, let content else { return nil }
        // An empty string is its two quotes. Ollama leaves an empty `thinking` out.
        guard let thinking, thinking.count > 2 else { return (content, false) }
        return content.count == 2 ? (thinking, true) : nil
    }

    mutating func chatChunk() -> OllamaChatChunk? {
        var chunk = OllamaChatChunk()
        let ok = object { scanner, key in
            switch Key(key) {
            case .model:
                guard let value = scanner.optionalString() else { return false }
                chunk.model = value
            case .createdAt:
                guard let value = scanner.optionalString() else { return false }
                chunk.createdAt = value
            case .message:
                if scanner.null() {
                    chunk.message = nil
                } else {
                    guard let message = scanner.message() else { return false }
                    chunk.message = message
                }
            case .done:
                if scanner.null() {
                    chunk.done = false
                } else {
                    guard let value = scanner.bool() else { return false }
                    chunk.done = value
                }
            case .doneReason:
                guard let value = scanner.optionalString() else { return false }
                chunk.doneReason = value
            case .error:
                guard let value = scanner.optionalString() else { return false }
                chunk.error = value
            case .totalDuration:
                guard let value = scanner.optionalInteger() else { return false }
                chunk.metrics.totalDuration = value.map(Int64.init)
            case .loadDuration:
                guard let value = scanner.optionalInteger() else { return false }
                chunk.metrics.loadDuration = value.map(Int64.init)
            case .promptEvalCount:
                guard let value = scanner.optionalInteger() else { return false }
                chunk.metrics.promptEvalCount = value
            case .promptEvalDuration:
                guard let value = scanner.optionalInteger() else { return false }
                chunk.metrics.promptEvalDuration = value.map(Int64.init)
            case .evalCount:
                guard let value = scanner.optionalInteger() else { return false }
                chunk.metrics.evalCount = value
            case .evalDuration:
                guard let value = scanner.optionalInteger() else { return false }
                chunk.metrics.evalDuration = value.map(Int64.init)
            case .other:
                return scanner.skipValue()
            }
            return true
        }
        return ok ? chunk : nil
    }

    /// A message with role, content and thinking only; tool calls, images and tool fields are left to
    /// the Codable path.
    private mutating func message() -> OllamaMessage? {
        var role: String?
        var content = ""
        var thinking: String?
        let ok = object { scanner, key in
            if equals(key, "role") {
                guard let value = scanner.string() else { return false }
                role = value
            } else if equals(key, "content") {
                guard let value = scanner.optionalString() else { return false }
                content = value ?? ""
            } else if equals(key, "thinking") {
                guard let value = scanner.optionalString() else { return false }
                thinking = value
            } else if equals(key, "images") || equals(key, "tool_calls") || equals(key, "tool_name")
                || equals(key, "tool_call_id")
            {
                return false
            } else {
                return scanner.skipValue()
            }
            return true
        }
        guard ok, let role else { return nil }
        return OllamaMessage(role: role, content: content, thinking: thinking)
    }

    private enum Key {
        case model, createdAt, message, done, doneReason, error
        case totalDuration, loadDuration, promptEvalCount, promptEvalDuration, evalCount, evalDuration
        case other

        init(_ key: UnsafeRawBufferPointer) {
            self =
                if equals(key, "model") { .model }
                else if equals(key, "created_at") { .createdAt }
                else if equals(key, "message") { .message }
                else if equals(key, "done") { .done }
                else if equals(key, "done_reason") { .doneReason }
                else if equals(key, "error") { .error }
                else if equals(key, "total_duration") { .totalDuration }
                else if equals(key, "load_duration") { .loadDuration }
                else if equals(key, "prompt_eval_count") { .promptEvalCount }
                else if equals(key, "prompt_eval_duration") { .promptEvalDuration }
                else if equals(key, "eval_count") { .evalCount }
                else if equals(key, "eval_duration") { .evalDuration }
                else { .other }
        }
    }
}

private func equals(_ key: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
    guard key.count == name.utf8CodeUnitCount else { return false }
    return key.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
}
