import HTTPTypes
import NIOCore

/// Server-sent event framing.
enum ServerSentEvents {
    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    /// Response headers of an event stream; `X-Accel-Buffering` keeps nginx from holding events back.
    static let headers: HTTPFields = [
        .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
    ]

    /// `data: <payload>\n\n`
    static func data(_ payload: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.readableBytes + 8)
        buffer.writeStaticString("data: ")
        buffer.writeImmutableBuffer(payload)
        buffer.writeStaticString("\n\n")
        return buffer
    }

    /// Appends `data: <json>\n\n`, the JSON written in place: no buffer per event.
    static func appendData(to output: inout ByteBuffer, _ json: (inout JSONBufferWriter) -> Void) {
        output.writeStaticString("data: ")
        JSONBufferWriter.append(to: &output, json)
        output.writeStaticString("\n\n")
    }

    /// Appends `event: <name>\ndata: <json>\n\n`, the JSON written in place.
    static func appendEvent(_ name: String, to output: inout ByteBuffer, _ json: (inout JSONBufferWriter) -> Void) {
        output.writeStaticString("event: ")
        output.writeString(name)
        output.writeStaticString("\ndata: ")
        JSONBufferWriter.append(to: &output, json)
        output.writeStaticString("\n\n")
    }

    /// `event: <name>\ndata: <payload>\n\n`, as Anthropic streams.
    static func event(_ name: String, _ payload: ByteBuffer) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.readableBytes + name.utf8.count + 16)
        buffer.writeStaticString("event: ")
        buffer.writeString(name)
        buffer.writeStaticString("\ndata: ")
        buffer.writeImmutableBuffer(payload)
        buffer.writeStaticString("\n\n")
        return buffer
    }
}
