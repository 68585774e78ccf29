import GatewayAPI
import Hummingbird
import NIOCore

/// Renders gateway errors in one API surface's format, as a response or as a stream event.
public protocol ErrorRenderer: Sendable {
    func response(for error: GatewayError) -> Response
    /// The event that ends a stream that fails after its first byte.
    func streamEvent(for error: GatewayError) -> ByteBuffer
}

/// OpenAI's `{"error":{"message","type","param","code"}}`.
public struct OpenAIErrorRenderer: ErrorRenderer {
    public init() {}

    static func type(of kind: GatewayError.Kind) -> String {
        switch kind {
        case .invalidRequest, .notFound, .methodNotAllowed, .misdirected, .payloadTooLarge: "invalid_request_error"
        case .authentication: "authentication_error"
        case .permission: "permission_error"
        case .rateLimited: "rate_limit_error"
        case .timeout: "timeout_error"
        case .overloaded: "overloaded_error"
        case .upstreamUnavailable, .upstreamError, .serviceUnavailable, .internalError: "api_error"
        }
    }

    func body(for error: GatewayError) -> OpenAIErrorBody {
        OpenAIErrorBody(error: .init(
            message: error.message, type: Self.type(of: error.kind), param: error.param, code: error.code))
    }

    public func response(for error: GatewayError) -> Response {
        var headers = error.headers
        headers[.contentType] = "application/json"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: JSONWire.encode(body(for: error))))
    }

    public func streamEvent(for error: GatewayError) -> ByteBuffer {
        ServerSentEvents.data(JSONWire.encode(body(for: error)))
    }
}
