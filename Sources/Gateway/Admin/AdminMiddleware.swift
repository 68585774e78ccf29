import Foundation
import GatewayStore
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    /// Where state-changing admin requests carry their session's CSRF token.
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}

extension HTTPRequest.Method {
    /// Methods that change state and therefore need CSRF protection.
    var changesState: Bool { ![.get, .head, .options].contains(self) }
}

/// Refuses state-changing admin requests sent by another site: an `Origin` that is not this host, or a
/// browser saying `Sec-Fetch-Site: cross-site`. Scripts send neither header and pass. This runs before
/// authentication, so it also protects the login (no login CSRF).
struct AdminOriginGuard: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if request.method.changesState {
            if let origin = request.headers[.origin],
                !Self.origin(origin, matchesHost: request.head.authority)
            {
                throw AdminAPIError.crossOrigin(origin)
            }
            if request.headers[.secFetchSite]?.lowercased() == "cross-site" {
                throw AdminAPIError.crossOrigin(request.headers[.origin] ?? "another site")
            }
        }
        return try await next(request, context)
    }

    /// Whether a browser's `Origin` (`scheme://host[:port]`) names the host the request was sent to.
    static func origin(_ origin: String, matchesHost hostHeader: String?) -> Bool {
        guard let hostHeader, origin != "null", let components = URLComponents(string: origin),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let originHost = components.host, !originHost.isEmpty
        else { return false }
        let defaultPort = scheme == "https" ? 443 : 80
        guard let (host, port) = HostHeader.split(hostHeader) else { return false }
        return HostHeader.unbracketed(originHost).lowercased() == host.lowercased()
            && (components.port ?? defaultPort) == (port ?? defaultPort)
    }
}

/// Authenticates admin requests: `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time, no
/// CSRF needed: browsers never attach it on their own), or the session cookie, whose CSRF token every
/// state-changing request must repeat in `X-CSRF-Token`.
struct AdminAuthenticator: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let store: GatewayStore
    let configuration: AdminConfiguration
    let throttle: LoginThrottle
    let cookies: AdminCookies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var context = context
        if let authorization = request.headers[.authorization] {
            context.admin = try await authenticate(authorization: authorization, context: context)
            return try await next(request, context)
        }
        guard let token = request.cookies[configuration.sessionCookieName]?.value, !token.isEmpty else {
            throw AdminAPIError.authenticationRequired
        }
        guard let session = try await store.sessions.touch(token: token, now: Date()),
            let account = try await store.adminAccounts.get(id: session.accountID)
        else {
            var error = AdminAPIError.sessionEnded
            error.headers[values: .setCookie].append(cookies.clearing.description)
            throw error
        }
        if request.method.changesState {
            guard let presented = request.headers[.csrfToken], session.acceptsCSRFToken(presented) else {
                throw AdminAPIError.csrfTokenMissing
            }
        }
        context.admin = .account(account, session: AdminSessionCredential(token: token, record: session))
        return try await next(request, context)
    }

    private func authenticate(authorization: String, context: Context) async throws -> AdminPrincipal {
        guard let expected = configuration.token else {
            throw AdminAPIError(
                .unauthorized, type: "authentication_required",
                "Admin token authentication is not enabled on this gateway (ADMIN_TOKEN is not set).")
        }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw AdminAPIError.invalidToken }
        let presented = parts[1].trimmingCharacters(in: .whitespaces)
        // The right token first, in constant time: others' failures never refuse it. Hashing first
        // makes the comparison independent of where the strings differ and of their lengths.
        guard SecretHash.constantTimeEquals(SecretHash.sha256Hex(presented), SecretHash.sha256Hex(expected)) else {
            try await throttle.recordWrongToken(address: context.remoteAddress, now: Date())
            context.logger.warning(
                "wrong admin token presented", metadata: ["client.address": "\(context.remoteAddress ?? "unknown")"])
            throw AdminAPIError.invalidToken
        }
        return .token
    }
}

/// Until the default (or reset) password has been changed, an account may only look at its session,
/// sign out and change the password.
struct PasswordChangeLock: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if case .account(let account, _) = context.admin, account.mustChangePassword {
            throw AdminAPIError.passwordChangeRequired
        }
        return try await next(request, context)
    }
}

/// The session cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends
/// it), `Path=/`, `Secure` with `COOKIE_SECURE`.
struct AdminCookies: Sendable {
    let name: String
    let secure: Bool
    let lifetime: Duration

    init(configuration: AdminConfiguration) {
        self.name = configuration.sessionCookieName
        self.secure = configuration.cookieSecure
        self.lifetime = configuration.sessionLifetime
    }

    func session(_ token: String) -> Cookie {
        Cookie(
            name: name, value: token, maxAge: Int(lifetime.components.seconds), path: "/", secure: secure,
            httpOnly: true, sameSite: .strict)
    }

    var clearing: Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
