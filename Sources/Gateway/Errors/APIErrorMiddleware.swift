import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// Turns every failure of an API route into an error in that API's format with the right status.
///
/// Hummingbird would answer unknown errors with an empty 500; here a client mistake (a body too
/// large, bad JSON) gets its 4xx, and only a real fault of the gateway is a 500, logged.
public struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let renderer: any ErrorRenderer

    public init(renderer: any ErrorRenderer) {
        self.renderer = renderer
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return renderer.response(for: Self.gatewayError(from: error, logger: context.logger))
        }
    }

    static func gatewayError(from error: any Error, logger: Logger) -> GatewayError {
        switch error {
        case let error as GatewayError:
            if error.kind == .internalError { logger.error("request failed", metadata: ["error": "\(error.message)"]) }
            return error
        case let error as HTTPError:
            switch error.status {
            case .contentTooLarge:
                return GatewayError(.payloadTooLarge, "The request body is larger than this gateway accepts.")
            case .notFound:
                return GatewayError(.notFound, error.body ?? "Not found.")
            case .methodNotAllowed:
                return GatewayError(.methodNotAllowed, "Method not allowed.")
            case .badRequest:
                return .invalid(error.body ?? "Bad request.")
            case .unauthorized:
                return GatewayError(.authentication, error.body ?? "Unauthorized.")
            default:
                logger.error("request failed", metadata: ["error": "\(error)"])
                return GatewayError(.internalError, "The gateway failed to handle the request.")
            }
        case let error as DecodingError:
            return .decoding(error)
        case is NIOTooManyBytesError:
            return GatewayError(.payloadTooLarge, "The request body is larger than this gateway accepts.")
        case is HTTPParserError:
            // The body's framing broke while the route read it; the connection's guard has answered.
            return .invalid("The request's HTTP framing is malformed.")
        default:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return GatewayError(.internalError, "The gateway failed to handle the request.")
        }
    }
}
