import GatewayStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// A failure of the admin API, rendered as `{"error":{"message","type"}}` with its status.
public struct AdminAPIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// A stable machine-readable name (`invalid_request`, `csrf_failed`, `password_change_required`…).
    public var type: String
    public var message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, type: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.type = type
        self.message = message
        self.headers = headers
    }

    public static func invalid(_ message: String) -> AdminAPIError {
        AdminAPIError(.badRequest, type: "invalid_request", message)
    }

    public static func notFound(_ message: String) -> AdminAPIError {
        AdminAPIError(.notFound, type: "not_found", message)
    }

    static let authenticationRequired = AdminAPIError(
        .unauthorized, type: "authentication_required",
        "Sign in first (POST /admin/api/login) or present the admin token as 'Authorization: Bearer …'.")

    static let sessionEnded = AdminAPIError(
        .unauthorized, type: "authentication_required", "The session has ended or does not exist; sign in again.")

    static let invalidToken = AdminAPIError(.unauthorized, type: "authentication_required", "The admin token is not valid.")

    static let invalidCredentials = AdminAPIError(.unauthorized, type: "invalid_credentials", "Wrong user name or password.")

    static let csrfTokenMissing = AdminAPIError(
        .forbidden, type: "csrf_failed",
        "The X-CSRF-Token header is missing or wrong; it is returned at login and by GET /admin/api/session.")

    static let passwordChangeRequired = AdminAPIError(
        .forbidden, type: "password_change_required",
        "The admin password must be changed before any other admin action: POST /admin/api/password with "
            + "current_password and new_password.")

    static func crossOrigin(_ origin: String) -> AdminAPIError {
        AdminAPIError(
            .forbidden, type: "csrf_failed",
            "Cross-origin admin requests are refused (Origin '\(origin.prefix(200))' does not match this host).")
    }

    static func throttled(retryAfterSeconds seconds: Int) -> AdminAPIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(seconds)
        return AdminAPIError(
            .tooManyRequests, type: "rate_limited",
            "Too many failed logins; try again in \(seconds) seconds.", headers: headers)
    }
}

struct AdminErrorBody: Encodable {
    struct Detail: Encodable {
        var message: String
        var type: String

        enum CodingKeys: String, CodingKey {
            case message, type
        }
    }

    var error: Detail

    enum CodingKeys: String, CodingKey {
        case error
    }
}

extension AdminAPIError {
    var payload: (status: HTTPResponse.Status, body: ByteBuffer) {
        (status, AdminJSON.encode(AdminErrorBody(error: .init(message: message, type: type))))
    }

    var response: Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: payload.body))
    }

    /// A gateway error in the admin format; an internal error says no more than that it happened.
    static func from(gatewayError error: GatewayError) -> AdminAPIError {
        switch error.kind {
        case .invalidRequest: return .invalid(error.message)
        case .notFound: return .notFound(error.message)
        case .methodNotAllowed:
            return AdminAPIError(.methodNotAllowed, type: "method_not_allowed", error.message, headers: error.headers)
        case .misdirected: return AdminAPIError(.misdirectedRequest, type: "misdirected_request", error.message)
        case .payloadTooLarge: return AdminAPIError(.contentTooLarge, type: "invalid_request", error.message)
        case .upstreamUnavailable, .upstreamError, .overloaded, .timeout:
            return AdminAPIError(.badGateway, type: "upstream_unavailable", error.message)
        case .serviceUnavailable:
            return AdminAPIError(.serviceUnavailable, type: "upstream_unavailable", error.message)
        case .authentication, .permission, .rateLimited:
            return AdminAPIError(error.status, type: "forbidden", error.message, headers: error.headers)
        case .internalError:
            return AdminAPIError(.internalServerError, type: "internal_error", "The gateway failed to handle the request.")
        }
    }

    /// Any error an admin route can meet, as the admin API reports it. Only a fault of the gateway
    /// is a 500, and it is logged; its message never reaches the client.
    static func from(_ error: any Error, logger: Logger) -> AdminAPIError {
        switch error {
        case let error as AdminAPIError:
            return error
        case let error as StoreError:
            switch error {
            case .notFound(let what): return .notFound("Not found: \(what).")
            case .conflict(let message): return AdminAPIError(.conflict, type: "conflict", message)
            case .invalidArgument(let message): return .invalid(message)
            case .invalidCredentials: return .invalidCredentials
            case .invalidConfiguration, .corruptRow, .shutDown: break
            }
        case let error as GatewayError:
            if error.kind != .internalError { return from(gatewayError: error) }
        case let error as DecodingError:
            return .invalid(error.clientMessage)
        case is NIOTooManyBytesError:
            return AdminAPIError(.contentTooLarge, type: "invalid_request", "The request body is too large.")
        case is HTTPParserError:
            return .invalid("The request's HTTP framing is malformed.")
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge:
                return AdminAPIError(.contentTooLarge, type: "invalid_request", "The request body is too large.")
            case .badRequest: return .invalid(error.body ?? "Bad request.")
            case .notFound: return .notFound(error.body ?? "Not found.")
            default: break
            }
        default:
            break
        }
        logger.error("admin request failed", metadata: ["error": "\(String(reflecting: Swift.type(of: error)))", "error.description": "\(error)"])
        return AdminAPIError(.internalServerError, type: "internal_error", "The gateway failed to handle the request.")
    }
}

/// Renders every failure of an admin route in the admin format, and marks every admin response as
/// not cacheable (they carry CSRF tokens and, once, new API keys).
struct AdminErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = AdminAPIError.from(error, logger: context.logger).response
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}
