import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import Logging

/// The admin console: server-rendered pages under `/admin/` for the people who run the gateway. It
/// shares the admin API's services (key administration, accounts, model and settings changes, the
/// usage queries), not its handlers, and adds no middleware to any API route. See docs/admin-console.md.
struct ConsoleController: Sendable {
    typealias Context = GatewayRequestContext

    let services: GatewayServices
    let store: GatewayStore
    let cookies: AdminCookies
    let accounts: AdminAccounts
    let keys: KeyAdministration
    let models: ModelAdministration
    let runtimeSettings: PersistedRuntimeSettings
    let backendAdministration: BackendAdministration

    init(services: GatewayServices) {
        self.services = services
        self.store = services.store
        self.cookies = AdminCookies(configuration: services.configuration.admin)
        self.accounts = AdminAccounts(
            store: services.store,
            throttle: LoginThrottle(attempts: services.store.loginAttempts, configuration: services.configuration.admin))
        let authenticator = services.access.authenticator
        self.keys = KeyAdministration(store: services.store) { authenticator.invalidate() }
        self.models = ModelAdministration(registry: services.models, audit: services.store.auditLog)
        self.runtimeSettings = PersistedRuntimeSettings(
            repository: services.store.settings, runtime: services.runtime, configuration: services.configuration)
        self.backendAdministration = BackendAdministration(pool: services.backends, store: services.store)
    }

    /// The name of the login form's CSRF cookie (a double-submit token: there is no session yet).
    var loginCookieName: String {
        services.configuration.admin.cookieSecure ? "__Host-gateway_login" : "gateway_login"
    }

    func addRoutes(to router: Router<Context>) {
        let open = router.group("admin")
        open.add(middleware: ConsoleResponseGuard())
        open.get("assets/console.css", use: stylesheet)
        open.get("assets/console.js", use: script)
        open.get("login", use: loginPage)
        open.post("login", use: login)

        let signedIn = router.group("admin")
        signedIn.add(middleware: ConsoleResponseGuard())
        signedIn.add(middleware: ConsoleAuthenticator(store: store, cookies: cookies))
        signedIn.get("", use: overview)
        signedIn.get("password", use: passwordPage)
        signedIn.post("password", use: changePassword)
        signedIn.post("logout", use: logout)
        addKeyRoutes(to: signedIn)
        addModelRoutes(to: signedIn)
        addBackendRoutes(to: signedIn)
        addUsageRoutes(to: signedIn)
        addSettingsRoutes(to: signedIn)
        addPlaygroundRoutes(to: signedIn)
    }

    // MARK: - Assets

    @Sendable func stylesheet(_ request: Request, context: Context) async throws -> Response {
        Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8")
    }

    @Sendable func script(_ request: Request, context: Context) async throws -> Response {
        Self.asset(ConsoleAssets.javascript, type: "text/javascript; charset=utf-8")
    }

    static func asset(_ text: String, type: String) -> Response {
        // Versioned URLs (`?v=`), so a day's caching is safe.
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - Sign-in

    /// Messages a redirect may ask a page to show: fixed texts, so a link cannot make a page say anything.
    static let notices: [String: String] = [
        "signed-out": "You have signed out.",
        "password-changed": "Your password has been changed.",
        "key-updated": "The key has been saved.",
        "key-revoked": "The key has been revoked. Requests with it are refused from now on.",
        "model-saved": "The model settings have been saved.",
        "models-refreshed": "The model list has been read from Ollama.",
        "settings-saved": "The settings have been saved.",
        "model-deleted": "The model has been deleted.",
        "backend-saved": "The backend has been saved; it serves from now on.",
        "backend-removed": "The backend has been removed.",
    ]

    static func notice(_ request: Request) -> HTML? {
        request.uri.queryParameters.get("notice").flatMap { notices[$0] }.map { text -> HTML in "\(text)" }
    }

    @Sendable func loginPage(_ request: Request, context: Context) async throws -> Response {
        renderLogin(notice: Self.notice(request).map { text -> HTML in "<p class=\"notice\" role=\"status\">\(text)</p>" })
    }

    func renderLogin(username: String = "", error: String? = nil, status: HTTPResponse.Status = .ok, notice: HTML? = nil)
        -> Response
    {
        let token = ConsoleHTTP.randomToken()
        var response = ConsoleLayout.bare(
            "Sign in", status: status,
            """
            \(notice)
            \(ConsoleLayout.errorSummary(error))
            <form method="post" action="/admin/login" class="stack">
            <input type="hidden" name="_csrf" value="\(token)">
            \(ConsoleLayout.field("username", label: "User name", value: username, required: true, extra: " autocomplete=\"username\" autocapitalize=\"none\""))
            \(ConsoleLayout.field("password", label: "Password", type: "password", required: true, extra: " autocomplete=\"current-password\""))
            <button type="submit" class="primary">Sign in</button>
            </form>
            """)
        response.setCookie(Cookie(
            name: loginCookieName, value: token, maxAge: 3600, path: "/", secure: cookies.secure, httpOnly: true,
            sameSite: .strict))
        return response
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let form = try await ConsoleForm.read(&request)
        // No session yet: the form's token must repeat the cookie set with the form (a page of
        // another site can set neither).
        guard let expected = request.cookies[loginCookieName]?.value, !expected.isEmpty, let presented = form["_csrf"],
            SecretHash.constantTimeEquals(expected, presented)
        else {
            return renderLogin(
                username: form["username"] ?? "", error: "The sign-in form has expired. Please try again.", status: .forbidden)
        }
        let username = form["username"] ?? ""
        let signedIn: AdminAccounts.SignedIn
        do {
            signedIn = try await accounts.signIn(
                username: username, password: form["password"] ?? "",
                previousToken: request.cookies[cookies.name]?.value, address: context.remoteAddress, logger: context.logger)
        } catch let error as AdminAPIError where error.status == .unauthorized || error.status == .tooManyRequests {
            var response = renderLogin(username: username, error: error.message, status: error.status)
            for field in error.headers { response.headers.append(field) }
            return response
        }
        var response = ConsoleHTTP.redirect(
            signedIn.account.mustChangePassword ? ConsoleAuthenticator.passwordPath : "\(ConsoleURL.root)/")
        response.setCookie(cookies.session(signedIn.session.token))
        response.setCookie(Cookie(name: loginCookieName, value: "", maxAge: 0, path: "/", secure: cookies.secure, httpOnly: true, sameSite: .strict))
        return response
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        try await accounts.signOut(account: user.account, session: user.session, address: context.remoteAddress)
        var response = ConsoleHTTP.redirect("\(ConsoleURL.root)/login?notice=signed-out")
        response.setCookie(cookies.clearing)
        return response
    }

    // MARK: - Password

    @Sendable func passwordPage(_ request: Request, context: Context) async throws -> Response {
        renderPassword(user: try ConsoleUser(context))
    }

    func renderPassword(user: ConsoleUser, errors: [String: String] = [:], status: HTTPResponse.Status = .ok) -> Response {
        let forced = user.account.mustChangePassword
        let form: HTML = """
            <form method="post" action="/admin/password" class="stack">
            \(ConsoleLayout.csrfField(user))
            \(ConsoleLayout.field("current_password", label: "Current password", type: "password", error: errors["current_password"], required: true, extra: " autocomplete=\"current-password\""))
            \(ConsoleLayout.field("new_password", label: "New password", type: "password", error: errors["new_password"], hint: "At least \(AdminConfiguration.minimumPasswordLength) characters, at most 72 bytes.", required: true, extra: " autocomplete=\"new-password\" minlength=\"\(AdminConfiguration.minimumPasswordLength)\""))
            \(ConsoleLayout.field("confirm_password", label: "New password again", type: "password", error: errors["confirm_password"], required: true, extra: " autocomplete=\"new-password\""))
            <button type="submit" class="primary">Change password</button>
            </form>
            """
        guard forced else {
            return ConsoleLayout.page(
                "Change password", section: nil, user: user, status: status,
                "\(ConsoleLayout.errorSummary(errors["form"]))<div class=\"card narrow\">\(form)</div>")
        }
        return ConsoleLayout.bare(
            "Choose a new password", status: status, csrf: user.csrfToken,
            """
            <p>This account still has its first password (<code>admin</code>), which everybody knows. Choose your own \
            before anything else: until then the console and the admin API stay locked.</p>
            \(ConsoleLayout.errorSummary(errors["form"]))
            \(form)
            <form method="post" action="/admin/logout" class="inline">\(ConsoleLayout.csrfField(user))<button type="submit" class="link">Sign out</button></form>
            """)
    }

    @Sendable func changePassword(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        let current = form["current_password"] ?? ""
        let new = form["new_password"] ?? ""
        guard new == (form["confirm_password"] ?? "") else {
            return renderPassword(user: user, errors: ["confirm_password": "The two new passwords differ."], status: .badRequest)
        }
        do {
            _ = try await accounts.changePassword(
                account: user.account, session: user.session, current: current, new: new, address: context.remoteAddress)
        } catch let error as AdminAPIError where error.status == .badRequest || error.status == .tooManyRequests {
            let field = error.type == "invalid_credentials" ? "current_password" : error.status == .badRequest ? "new_password" : "form"
            let message = error.type == "invalid_credentials"
                ? "The current password is wrong."
                : error.message.replacingOccurrences(of: "'new_password'", with: "The new password")
            return renderPassword(user: user, errors: [field: message], status: error.status)
        }
        return ConsoleHTTP.redirect("\(ConsoleURL.root)/?notice=password-changed")
    }
}
