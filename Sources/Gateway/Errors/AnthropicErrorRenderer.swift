import GatewayAPI
import HTTPTypes
import Hummingbird
import NIOCore

/// Anthropic's `{"type":"error","error":{"type","message"}}`, with the statuses Anthropic uses, so
/// that its SDKs raise their matching exception classes.
///
/// Two statuses differ from the core's: Ollama being busy is Anthropic's 529 `overloaded_error`
/// (the SDKs' `OverloadedError`) rather than 503, and a timeout is 504 `timeout_error`
/// (`GatewayTimeoutError`). Ollama unreachable or failing stays 502 `api_error` (`InternalServerError`).
public struct AnthropicErrorRenderer: ErrorRenderer {
    public init() {}

    static let overloaded = HTTPResponse.Status(code: 529, reasonPhrase: "Overloaded")

    static func type(of kind: GatewayError.Kind) -> String {
        switch kind {
        case .invalidRequest, .methodNotAllowed, .misdirected: "invalid_request_error"
        case .authentication: "authentication_error"
        case .permission: "permission_error"
        case .notFound: "not_found_error"
        case .payloadTooLarge: "request_too_large"
        case .rateLimited: "rate_limit_error"
        case .overloaded: "overloaded_error"
        case .timeout: "timeout_error"
        case .upstreamUnavailable, .upstreamError, .serviceUnavailable, .internalError: "api_error"
        }
    }

    static func status(of error: GatewayError) -> HTTPResponse.Status {
        error.kind == .overloaded ? overloaded : error.status
    }

    func detail(for error: GatewayError) -> AnthropicErrorBody.Detail {
        AnthropicErrorBody.Detail(type: Self.type(of: error.kind), message: error.message)
    }

    public func response(for error: GatewayError) -> Response {
        var headers = error.headers
        headers[.contentType] = "application/json"
        return Response(
            status: Self.status(of: error), headers: headers,
            body: .init(byteBuffer: JSONWire.encode(AnthropicErrorBody(error: detail(for: error)))))
    }

    public func streamEvent(for error: GatewayError) -> ByteBuffer {
        ServerSentEvents.event("error", JSONWire.encode(AnthropicStreamEvent.error(detail(for: error))))
    }
}
