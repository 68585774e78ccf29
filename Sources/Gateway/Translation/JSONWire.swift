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
        out.open()
        out.field("id", chunk.id)
        out.field("object", chunk.object)
        out.field("created", chunk.created)
        out.field("model", chunk.model)
        out.key("choices")
        out.openArray()
        for choice in chunk.choices {
            out.separate()
            out.open()
            out.field("index", choice.index)
            out.key("delta")
            out.open()
            out.fieldIfPresent("role", choice.delta.role)
            out.fieldIfPresent("content", choice.delta.content)
            out.fieldIfPresent("reasoning_content", choice.delta.reasoningContent)
            out.fieldIfPresent("reasoning", choice.delta.reasoning)
            if let calls = choice.delta.toolCalls {
                out.key("tool_calls")
                out.openArray()
                for call in calls {
                    out.separate()
                    out.open()
                    out.field("index", call.index)
                    out.fieldIfPresent("id", call.id)
                    out.fieldIfPresent("type", call.type)
                    if let function = call.function { out.function(function) }
                    out.close()
                }
                out.closeArray()
            }
            out.close()
            out.fieldOrNull("finish_reason", choice.finishReason)
            out.close()
        }
        out.closeArray()
        if let usage = chunk.usage { out.usage(usage) }
        out.close()
        return out.buffer
    }

    static func encode(_ response: ChatCompletionResponse) -> ByteBuffer {
        var out = JSONBufferWriter(capacity: 320 + (response.choices.first?.message.content?.utf8.count ?? 0))
        out.open()
        out.field("id", response.id)
        out.field("object", response.object)
        out.field("created", response.created)
        out.field("model", response.model)
        out.key("choices")
        out.openArray()
        for choice in response.choices {
            out.separate()
            out.open()
            out.field("index", choice.index)
            out.key("message")
            out.open()
            out.field("role", choice.message.role)
            out.fieldOrNull("content", choice.message.content)
            out.fieldIfPresent("reasoning_content", choice.message.reasoningContent)
            out.fieldIfPresent("reasoning", choice.message.reasoning)
            if let calls = choice.message.toolCalls {
                out.key("tool_calls")
                out.openArray()
                for call in calls {
                    out.separate()
                    out.open()
                    out.fieldIfPresent("id", call.id)
                    out.fieldIfPresent("type", call.type)
                    out.function(call.function)
                    out.close()
                }
                out.closeArray()
            }
            out.close()
            out.fieldIfPresent("finish_reason", choice.finishReason)
            out.close()
        }
        out.closeArray()
        if let usage = response.usage { out.usage(usage) }
        out.close()
        return out.buffer
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

    mutating func field(_ name: StaticString, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        buffer.writeString(String(value))
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
