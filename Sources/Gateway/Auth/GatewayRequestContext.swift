import Hummingbird
import NIOCore

/// The request context of every gateway route: who is calling, from where.
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller's address, for the audit log, usage records and login throttling.
    public let remoteAddress: String?
    /// The API key the request was authenticated with, on API routes.
    public var apiKey: AuthenticatedKey?
    /// Accounts for the request when it ends, on API routes.
    public var ticket: RequestTicket?
    /// The administrator (or admin token) behind a request, on `/admin/api` routes.
    public var admin: AdminPrincipal?

    /// The client's connection: a stream watches it for the client leaving (`ClientDepartureWatcher`).
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.channel = source.channel
    }
}
