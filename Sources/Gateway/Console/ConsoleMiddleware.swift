import Foundation
import GatewayStore
import HTTPTypes
import Hummingbird
import Logging

/// Wraps every console route: the security headers, an HTML page for any failure, and the refusal of
/// state-changing requests another site sent (foreign `Origin`, `Sec-Fetch-Site: cross-site`), before
/// anything else, so the login form is covered too. No CORS header is ever sent.
struct ConsoleResponseGuard: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        do {
            if request.method.changesState {
                if let origin = request.headers[.origin], !AdminOriginGuard.origin(origin, matchesHost: request.head.authority) {
                    throw ConsoleRefusal.crossSite
                }
                if request.headers[.secFetchSite]?.lowercased() == "cross-site" { throw ConsoleRefusal.crossSite }
            }
            response = try await next(request, context)
        } catch let refusal as ConsoleRefusal {
            response = ConsoleLayout.errorPage(status: refusal.status, title: refusal.title, message: refusal.message)
        } catch let invalid as ConsoleFieldError {
            response = ConsoleLayout.errorPage(status: .badRequest, title: "Invalid request", message: invalid.message)
        } catch {
            let reported = AdminAPIError.from(error, logger: context.logger)
            response = ConsoleLayout.errorPage(status: reported.status, title: "Something went wrong", message: reported.message)
            for field in reported.headers { response.headers.append(field) }
        }
        ConsoleHTTP.secure(&response.headers)
        return response
    }
}

/// Why the console refused a request, as the page says it.
struct ConsoleRefusal: Error, Sendable {
    var status: HTTPResponse.Status
    var title: String
    var message: String

    static let crossSite = ConsoleRefusal(
        status: .forbidden, title: "Request refused",
        message: "This request came from another site. Open the console directly and try again.")

    static let csrf = ConsoleRefusal(
        status: .forbidden, title: "Request refused",
        message: "The form has no valid security token (it may be older than your session). Reload the page and try again.")
}

/// Opens console pages to a signed-in administrator only. The session cookie is the only credential:
/// an `Authorization` header (an API key, even the admin token) never opens a page. Without a session,
/// pages redirect to the login. Every state-changing request must repeat the session's CSRF token, as
/// the form field `_csrf` or the header `X-CSRF-Token`. Until the default password is changed, only
/// the password page and sign-out open.
struct ConsoleAuthenticator: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let store: GatewayStore
    let cookies: AdminCookies

    static let passwordPath = "\(ConsoleURL.root)/password"
    static let logoutPath = "\(ConsoleURL.root)/logout"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var request = request
        var context = context
        let presented = request.cookies[cookies.name]?.value ?? ""
        guard !presented.isEmpty, let session = try await store.sessions.touch(token: presented, now: Date()),
            let account = try await store.adminAccounts.get(id: session.accountID)
        else {
            var response = ConsoleHTTP.redirect("\(ConsoleURL.root)/login")
            if !presented.isEmpty { response.setCookie(cookies.clearing) }
            return response
        }
        if request.method.changesState {
            var token = request.headers[.csrfToken]
            if token == nil, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
                token = try await ConsoleForm.read(&request)["_csrf"]
            }
            guard let token, session.acceptsCSRFToken(token) else { throw ConsoleRefusal.csrf }
        }
        if account.mustChangePassword, ![Self.passwordPath, Self.logoutPath].contains(request.uri.path) {
            return ConsoleHTTP.redirect(Self.passwordPath)
        }
        context.admin = .account(account, session: AdminSessionCredential(token: presented, record: session))
        return try await next(request, context)
    }
}

/// The signed-in administrator of a console request.
struct ConsoleUser: Sendable {
    var account: AdminAccountRecord
    var session: AdminSessionCredential
    var csrfToken: String { session.record.csrfToken }
    var actor: AuditActor { .account(account.username) }

    init(_ context: GatewayRequestContext) throws {
        guard case .account(let account, let session) = context.admin else {
            throw ConsoleRefusal(status: .unauthorized, title: "Sign in", message: "Sign in to use the console.")
        }
        self.account = account
        self.session = session
    }
}
