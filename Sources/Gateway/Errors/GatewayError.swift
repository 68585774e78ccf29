import HTTPTypes

/// A failure the gateway reports to its caller. Each API surface renders it in its own format
/// (see `OpenAIErrorRenderer` and friends), so the kind carries meaning, not wire names.
public struct GatewayError: Error, Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case invalidRequest
        case authentication
        case permission
        case notFound
        /// The route exists, not with this method (405, with `Allow`).
        case methodNotAllowed
        /// The request names a host this gateway does not serve (421).
        case misdirected
        case payloadTooLarge
        case rateLimited
        /// Ollama could not be reached, or answered with something that is not Ollama.
        case upstreamUnavailable
        /// Ollama answered with an error of its own (runner crashed…).
        case upstreamError
        /// Ollama is overloaded (its queue is full).
        case overloaded
        /// No Ollama server answers at all: the service cannot work until one does (503).
        case serviceUnavailable
        case timeout
        case internalError
    }

    public var kind: Kind
    public var message: String
    /// The request field at fault, when there is one (`messages[1].content`).
    public var param: String?
    /// A machine-readable code (`model_not_found`).
    public var code: String?
    /// Extra response headers (`Retry-After`…).
    public var headers: HTTPFields

    public init(_ kind: Kind, _ message: String, param: String? = nil, code: String? = nil, headers: HTTPFields = [:]) {
        self.kind = kind
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers
    }

    public var status: HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .authentication: .unauthorized
        case .permission: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .misdirected: .misdirectedRequest
        case .payloadTooLarge: .contentTooLarge
        case .rateLimited: .tooManyRequests
        case .upstreamUnavailable, .upstreamError: .badGateway
        case .overloaded, .serviceUnavailable: .serviceUnavailable
        case .timeout: .gatewayTimeout
        case .internalError: .internalServerError
        }
    }

    public static func invalid(_ message: String, param: String? = nil) -> GatewayError {
        GatewayError(.invalidRequest, message, param: param)
    }

    public static func modelNotFound(_ model: String) -> GatewayError {
        GatewayError(.notFound, "The model '\(model)' does not exist.", param: "model", code: "model_not_found")
    }
}
