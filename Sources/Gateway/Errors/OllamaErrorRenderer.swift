import GatewayAPI
import Hummingbird
import NIOCore

/// Ollama's own error format, `{"error":"…"}`, for the native API: its clients expect nothing else.
public struct OllamaErrorRenderer: ErrorRenderer {
    public init() {}

    public func response(for error: GatewayError) -> Response {
        var headers = error.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: error.status, headers: headers, body: .init(byteBuffer: JSONWire.encode(OllamaErrorBody(error: error.message))))
    }

    /// A last NDJSON line, as Ollama ends a stream that fails.
    public func streamEvent(for error: GatewayError) -> ByteBuffer {
        var line = JSONWire.encode(OllamaErrorBody(error: error.message))
        line.writeStaticString("\n")
        return line
    }
}
