import HTTPTypes
import Hummingbird

/// First for every request: refuses requests addressed to a host name this gateway does not serve
/// (`HostPolicy`) with 421, in the format of the API the request was meant for, and makes the
/// shutdown's drain deadline known to the request (`ShutdownDrain.current`).
///
/// `/health/*` is served whatever the host: container runtimes and load balancers probe it under
/// whatever name or address they know the gateway by, and it reveals nothing a rebinding page could use.
struct ServerGuard<Context: RequestContext>: RouterMiddleware {
    let policy: HostPolicy
    let drain: ShutdownDrain

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let host = request.head.authority
        guard policy.allows(host: host) || Self.isHealthProbe(request.uri.path) else {
            context.logger.notice("request for another host refused", metadata: ["http.host": "\(host?.prefix(200) ?? "")"])
            return APISurface(request).response(for: GatewayError(
                .misdirected,
                "This gateway does not serve the host '\(host?.prefix(200) ?? "")'. If it should, add the name to ALLOWED_HOSTS.",
                code: "misdirected_request"))
        }
        return try await ShutdownDrain.$current.withValue(drain) { try await next(request, context) }
    }

    static func isHealthProbe(_ path: String) -> Bool {
        path == "/health" || path.hasPrefix("/health/")
    }
}

/// Answers requests no route takes: 404 naming the route, or 405 with `Allow` when the path exists
/// for other methods, in the format of the API the path belongs to (an SDK shows the message, where
/// an empty 404 left it with only "Error code: 404"). Added last to the router, so it wraps only the
/// router's not-found responder.
struct UnknownRouteResponder<Context: RequestContext>: RouterMiddleware {
    struct Route: Sendable {
        let path: RouterPath
        let methods: [HTTPRequest.Method]
    }

    let routes: [Route]

    init(routes: [Router<Context>.RouteDescription]) {
        var byPath: [String: Route] = [:]
        var order: [String] = []
        for route in routes {
            let key = route.path.description
            if let existing = byPath[key] {
                byPath[key] = Route(path: existing.path, methods: existing.methods + [route.method])
            } else {
                byPath[key] = Route(path: route.path, methods: [route.method])
                order.append(key)
            }
        }
        self.routes = order.compactMap { byPath[$0] }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return APISurface(request).response(for: refusal(for: request))
        }
    }

    func refusal(for request: Request) -> GatewayError {
        // The path as sent (still percent-encoded), shortened: it is the client's own text, echoed.
        let path = String(request.uri.path.prefix(200))
        let allowed = methods(forPath: request.uri.path)
        guard allowed.isEmpty else {
            var headers = HTTPFields()
            headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return GatewayError(
                .methodNotAllowed,
                "\(request.method.rawValue) is not allowed on \(path); use \(allowed.map(\.rawValue).joined(separator: " or ")).",
                code: "method_not_allowed", headers: headers)
        }
        return GatewayError(
            .notFound, "There is no route \(request.method.rawValue) \(path) on this gateway.", code: "unknown_route")
    }

    /// The methods of the routes whose pattern matches the path, as the router matches them.
    func methods(forPath path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: [HTTPRequest.Method] = []
        for route in routes where Self.matches(route.path, segments) {
            for method in route.methods where !methods.contains(method) { methods.append(method) }
        }
        return methods
    }

    static func matches(_ pattern: RouterPath, _ segments: [Substring]) -> Bool {
        var index = 0
        for element in pattern.components {
            if element.description == "**" { return index < segments.count }
            guard index < segments.count, element ~= segments[index] else { return false }
            index += 1
        }
        return index == segments.count
    }
}
