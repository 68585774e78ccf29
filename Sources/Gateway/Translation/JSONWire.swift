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
