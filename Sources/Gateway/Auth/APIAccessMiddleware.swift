import Foundation
import HTTPTypes
import Hummingbird
import Tracing

/// Guards an API surface: checks the API key, admits the request under the key's limits, and opens
/// the request's ticket, which accounts for it when it ends. Failures are thrown, to be rendered in
/// the surface's own format by its `APIErrorMiddleware` (added before this one).
public struct APIAccessMiddleware: RouterMiddleware {
    public typealias Context = GatewayRequestContext

    let access: APIAccess

    public init(access: APIAccess) {
        self.access = access
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        let endpoint = context.endpointPath ?? request.uri.path
        let span = access.tracer.map {
            RequestTracing.startRequestSpan(tracer: $0, method: request.method.rawValue, endpoint: endpoint, headers: request.headers)
        }
        // Every request is accounted, refused ones included.
        let ticket = RequestTicket(
            event: UsageEvent(
                requestID: context.id, time: Date(), endpoint: endpoint, streamed: false, status: 0,
                promptTokens: 0, completionTokens: 0, cancelled: false, latency: .zero,
                clientAddress: context.remoteAddress, userAgent: request.headers[.userAgent]),
            sink: access.sink, access: access, span: span)
        context.ticket = ticket
        guard let span else { return try await admit(request, context: context, ticket: ticket, next: next) }
        // The request's span is the current one while it is handled: the calls to Ollama become its children.
        var traced = span.context
        traced.requestSpan = span
        return try await ServiceContext.withValue(traced) {
            try await admit(request, context: context, ticket: ticket, next: next)
        }
    }

    private func admit(
        _ request: Request, context: Context, ticket: RequestTicket, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        do {
            let key = try await access.authenticate(request.headers)
            var admission: KeyLimiter.Admission?
            if let key {
                ticket.setKeyID(key.id)
                admission = try await access.limiter.admit(key)
                // From here on the ticket's end frees what the admission took.
                ticket.setAdmitted(key, windowTokens: admission?.windowTokens ?? 0)
            }
            context.apiKey = key
            // Upstream calls find the session and the ticket here, to route and to account the backend.
            var response = try await RequestRouting.$current.withValue(RequestRouting(headers: request.headers, ticket: ticket)) {
                try await next(request, context)
            }
            if !ticket.isFinishedByBody { ticket.finish(status: Int(response.status.code)) }
            if let admission { response.headers.append(contentsOf: admission.headers) }
            return response
        } catch {
            let failure = APIErrorMiddleware<Context>.gatewayError(from: error, logger: context.logger)
            ticket.finish(status: Int(failure.status.code), error: failure)
            throw failure
        }
    }
}

/// What guarding the API routes needs, shared by every surface.
public struct APIAccess: Sendable {
    public let authenticator: APIKeyAuthenticator
    public let limiter: KeyLimiter
    public let sink: any UsageSink
    /// When false, requests without a valid key are served anonymously (a valid key is still
    /// accounted and limited as usual).
    public let requireKey: Bool
    /// Traces requests when OpenTelemetry export is configured; nil (no cost) otherwise.
    public let tracer: OTLPTracer?

    public init(
        authenticator: APIKeyAuthenticator, limiter: KeyLimiter, sink: any UsageSink, requireKey: Bool,
        tracer: OTLPTracer? = nil
    ) {
        self.authenticator = authenticator
        self.limiter = limiter
        self.sink = sink
        self.requireKey = requireKey
        self.tracer = tracer
    }

    func authenticate(_ headers: HTTPFields) async throws(GatewayError) -> AuthenticatedKey? {
        guard let presented = APIKeyAuthenticator.presentedKey(in: headers), !presented.isEmpty else {
            guard requireKey else { return nil }
            throw GatewayError(
                .authentication,
                "Missing API key: send it as 'Authorization: Bearer sk-…' or in an 'x-api-key' header.",
                code: "missing_api_key")
        }
        do {
            return try await authenticator.authenticate(presented)
        } catch where !requireKey && error.kind == .authentication {
            // Without required keys anyone may call; SDKs always send some key, often a placeholder.
            return nil
        }
    }
}

extension RouterGroup where Context == GatewayRequestContext {
    /// The middleware every API surface runs in this order: errors rendered in the surface's format
    /// (so the access checks' refusals are too), then the key, limits and accounting.
    func addAPIMiddleware(renderer: any ErrorRenderer, access: APIAccess) {
        add(middleware: APIErrorMiddleware<Context>(renderer: renderer))
        add(middleware: APIAccessMiddleware(access: access))
    }
}
