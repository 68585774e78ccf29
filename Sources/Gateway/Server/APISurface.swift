import GatewayAPI
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
}

/// The API a request was meant for, told by its path (and Anthropic's version header under `/v1`),
/// for errors raised before any route has run: the server's own refusals (wrong host, unknown route,
/// wrong method) reach each client in the format its SDK reads.
enum APISurface: Equatable {
    case openAI
    case anthropic
    case ollama
    case admin

    init(path: String, headers: HTTPFields) {
        if path.hasPrefix("/admin/") || path == "/admin" {
            self = .admin
        } else if path.hasPrefix("/api/") || path == "/api" {
            self = .ollama
        } else if path.hasPrefix("/anthropic/") || headers[.anthropicVersion] != nil || path == "/v1/messages"
            || path.hasPrefix("/v1/messages/")
        {
            // `/v1/messages…` exists only in Anthropic's API, whatever headers the client sends.
            self = .anthropic
        } else {
            // `/v1/…` and anything else: OpenAI's `{"error":{…}}` is the shape most clients read.
            self = .openAI
        }
    }

    init(_ request: Request) {
        self.init(path: request.uri.path, headers: request.headers)
    }

    /// The error's status and body in this API's format.
    func payload(for error: GatewayError) -> (status: HTTPResponse.Status, body: ByteBuffer) {
        switch self {
        case .openAI:
            (error.status, JSONWire.encode(OpenAIErrorRenderer().body(for: error)))
        case .anthropic:
            (AnthropicErrorRenderer.status(of: error),
             JSONWire.encode(AnthropicErrorBody(error: AnthropicErrorRenderer().detail(for: error))))
        case .ollama:
            (error.status, JSONWire.encode(OllamaErrorBody(error: error.message)))
        case .admin:
            AdminAPIError.from(gatewayError: error).payload
        }
    }

    func response(for error: GatewayError) -> Response {
        let payload = payload(for: error)
        var headers = error.headers
        headers[.contentType] = "application/json"
        if self == .admin { headers[.cacheControl] = "no-store" }
        return Response(status: payload.status, headers: headers, body: .init(byteBuffer: payload.body))
    }
}
