import Foundation
import NIOCore
import NIOFoundationCompat
import GatewayAPI

/// JSON bodies as the gateway writes and reads them on the wire.
enum JSONWire {
    /// Encodes a response body. Encoding the gateway's own response types cannot fail.
    static func encode(_ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        do {
            return ByteBuffer(data: try encoder.encode(value))
        } catch {
            preconditionFailure("a response type failed to encode: \(error)")
        }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        try JSONDecoder().decode(type, from: buffer)
    }

    /// A client's request body as a wire type; its free-form parts (tool schemas, arguments, options)
    /// come from one parse of the body instead of kind-by-kind guessing (see `JSONValue.parse`).
    static func decodeRequest<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer) throws -> Value {
        let data = Data(buffer.readableBytesView)
        return try JSONDecoder.withParsedTree(of: data).decode(type, from: data)
    }

    /// Any JSON document as a tree: parsed in one pass, or Foundation's error when it is not JSON.
    static func value(from buffer: ByteBuffer) throws -> JSONValue {
        if let tree = buffer.withUnsafeReadableBytes({ JSONValue.parse($0) }) { return tree }
        return try JSONDecoder().decode(JSONValue.self, from: buffer)
    }

    /// Refuses a client's body whose shape alone would make decoding costly, before decoding it.
    static func checkRequestShape(_ buffer: ByteBuffer, limits: JSONShapeLimits = .requestBody) throws(GatewayError) {
        let exceeded = buffer.withUnsafeReadableBytes { bytes -> JSONShapeLimits.Exceeded? in
            do throws(JSONShapeLimits.Exceeded) {
                try limits.check(bytes)
                return nil
            } catch {
                return error
            }
        }
        if let exceeded { throw GatewayError(.invalidRequest, exceeded.message, code: "request_too_complex") }
    }
}

extension JSONWire {
    /// Compact JSON text with sorted keys, so the same tool arguments always give the same string.
    static func text(_ object: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(object), as: UTF8.self)
        } catch {
            preconditionFailure("a JSON value failed to encode: \(error)")
        }
    }
}

// MARK: - The chat responses, written directly
//
// Every streamed token becomes one `chat.completion.chunk`: Foundation's JSONEncoder (a container
// tree, generic metadata lookups and a `Data` per value) cost more CPU than everything else on that
// path. These write the same JSON — same keys, same values, `null` where the Codable conformances
// write `null`, absent where they omit — straight into a ByteBuffer. Keys come in declaration order
// (JSONEncoder's order is unspecified; JSON objects are unordered).

extension JSONWire {
    static func encode(_ chunk: ChatCompletionChunk) -> ByteBuffer {
        var out = JSONBufferWriter(capacity: 192 + (chunk.choices.first?.delta.content?.utf8.count ?? 0))
        out.write(chunk)
        return out.buffer
    }

    static func encode(_ response: ChatCompletionResponse) -> ByteBuffer {
        var out = JSONBufferWriter(capacity: 320 + (response.choices.first?.message.content?.utf8.count ?? 0))
        out.write(response)
        return out.buffer
    }
}

extension JSONBufferWriter {
    mutating func write(_ chunk: ChatCompletionChunk) {
        open()
        field("id", chunk.id)
        field("object", chunk.object)
        field("created", chunk.created)
        field("model", chunk.model)
        key("choices")
        openArray()
        for choice in chunk.choices {
            separate()
            open()
            field("index", choice.index)
            key("delta")
            open()
            fieldIfPresent("role", choice.delta.role)
            fieldIfPresent("content", choice.delta.content)
            fieldIfPresent("reasoning_content", choice.delta.reasoningContent)
            fieldIfPresent("reasoning", choice.delta.reasoning)
            if let calls = choice.delta.toolCalls {
                key("tool_calls")
                openArray()
                for call in calls {
                    separate()
                    open()
                    field("index", call.index)
                    fieldIfPresent("id", call.id)
                    fieldIfPresent("type", call.type)
                    if let function = call.function { self.function(function) }
                    close()
                }
                closeArray()
            }
            close()
            fieldOrNull("finish_reason", choice.finishReason)
            close()
        }
        closeArray()
        if let usage = chunk.usage { self.usage(usage) }
        close()
    }

    mutating func write(_ response: ChatCompletionResponse) {
        open()
        field("id", response.id)
        field("object", response.object)
        field("created", response.created)
        field("model", response.model)
        key("choices")
        openArray()
        for choice in response.choices {
            separate()
            open()
            field("index", choice.index)
            key("message")
            open()
            field("role", choice.message.role)
            fieldOrNull("content", choice.message.content)
            fieldIfPresent("reasoning_content", choice.message.reasoningContent)
            fieldIfPresent("reasoning", choice.message.reasoning)
            if let calls = choice.message.toolCalls {
                key("tool_calls")
                openArray()
                for call in calls {
                    separate()
                    open()
                    fieldIfPresent("id", call.id)
                    fieldIfPresent("type", call.type)
                    function(call.function)
                    close()
                }
                closeArray()
            }
            close()
            fieldIfPresent("finish_reason", choice.finishReason)
            close()
        }
        closeArray()
        if let usage = response.usage { self.usage(usage) }
        close()
    }
}

/// Compact JSON written into a ByteBuffer, escaped as JSONEncoder with `.withoutEscapingSlashes` does.
struct JSONBufferWriter {
    private(set) var buffer: ByteBuffer
    /// Whether the next member or element needs a comma before it.
    private var needsComma = false

    init(capacity: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Writes JSON at the end of `buffer`, in place: the buffer moves into the writer and back, so
    /// no byte is copied and no new storage is allocated.
    static func append(to buffer: inout ByteBuffer, _ write: (inout JSONBufferWriter) -> Void) {
        var writer = JSONBufferWriter(buffer: ByteBuffer())
        swap(&writer.buffer, &buffer)
        write(&writer)
        swap(&writer.buffer, &buffer)
    }

    private init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    mutating func open() {
        buffer.writeInteger(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func close() {
        buffer.writeInteger(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func openArray() {
        buffer.writeInteger(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func closeArray() {
        buffer.writeInteger(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Before an array element.
    mutating func separate() {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
        needsComma = false
    }

    mutating func key(_ name: StaticString) {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
        buffer.writeInteger(UInt8(ascii: "\""))
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
        needsComma = false
    }

    /// A member name known only at run time (log metadata, trace attributes), escaped as strings are.
    mutating func key(_ name: String) {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
        string(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A number or `true`/`false`, already in JSON's spelling (after `key`, or `separate` in an array).
    mutating func literal(_ text: String) {
        buffer.writeString(text)
        needsComma = true
    }

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        buffer.writeString(String(value))
        needsComma = true
    }

    /// A value already encoded.
    mutating func raw(_ json: ByteBuffer) {
        buffer.writeImmutableBuffer(json)
        needsComma = true
    }

    mutating func fieldIfPresent(_ name: StaticString, _ value: String?) {
        if let value { field(name, value) }
    }

    mutating func fieldOrNull(_ name: StaticString, _ value: String?) {
        if let value {
            field(name, value)
        } else {
            key(name)
            buffer.writeStaticString("null")
            needsComma = true
        }
    }

    mutating func function(_ function: ChatToolCall.Function) {
        key("function")
        open()
        field("name", function.name)
        field("arguments", function.arguments)
        close()
    }

    mutating func usage(_ usage: CompletionUsage) {
        key("usage")
        open()
        field("prompt_tokens", usage.promptTokens)
        field("completion_tokens", usage.completionTokens)
        field("total_tokens", usage.totalTokens)
        close()
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`… or `\u00XX`; the rest,
    /// `/` and non-ASCII included, as is.
    mutating func string(_ value: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if index > start { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index])) }
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0x0F)])
                }
            }
            if bytes.count > start { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...])) }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
        needsComma = true
    }
}

// MARK: - Anthropic stream events, written directly
//
// A streamed message is mostly `content_block_delta` events, one per token: those (and the small
// stop and ping events) are written directly; the few others of a message go through JSONEncoder.

extension JSONBufferWriter {
    mutating func write(_ event: AnthropicStreamEvent) {
        switch event {
        case .contentBlockDelta(let index, let delta):
            open()
            field("type", "content_block_delta")
            field("index", index)
            key("delta")
            open()
            switch delta {
            case .text(let text):
                field("type", "text_delta")
                field("text", text)
            case .thinking(let thinking):
                field("type", "thinking_delta")
                field("thinking", thinking)
            case .signature(let signature):
                field("type", "signature_delta")
                field("signature", signature)
            case .inputJSON(let json):
                field("type", "input_json_delta")
                field("partial_json", json)
            }
            close()
            close()
        case .contentBlockStop(let index):
            open()
            field("type", "content_block_stop")
            field("index", index)
            close()
        case .messageStop, .ping:
            open()
            field("type", event.type)
            close()
        case .messageStart, .contentBlockStart, .messageDelta, .error:
            raw(JSONWire.encode(event))
        }
    }
}
