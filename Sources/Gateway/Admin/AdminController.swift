import Foundation
import GatewayAPI
import GatewayStore
import Hummingbird
import Logging

/// The admin JSON API under `/admin/api/`: sign-in and sessions, API keys, runtime settings, models,
/// the audit log. See docs/admin-api.md.
public struct AdminController: Sendable {
    typealias Context = GatewayRequestContext

    let store: GatewayStore
    let registry: ModelRegistry
    let runtimeSettings: PersistedRuntimeSettings
    let configuration: AdminConfiguration
    let throttle: LoginThrottle
    let cookies: AdminCookies
    let keys: KeyAdministration
    let accounts: AdminAccounts
    let models: ModelAdministration
    let backendPool: BackendPool
    let backends: BackendAdministration

    public init(services: GatewayServices) {
        self.backendPool = services.backends
        self.backends = BackendAdministration(pool: services.backends, store: services.store)
        self.store = services.store
        self.registry = services.models
        self.runtimeSettings = PersistedRuntimeSettings(
            repository: services.store.settings, runtime: services.runtime, configuration: services.configuration)
        self.configuration = services.configuration.admin
        self.throttle = LoginThrottle(attempts: services.store.loginAttempts, configuration: services.configuration.admin)
        self.cookies = AdminCookies(configuration: services.configuration.admin)
        let authenticator = services.access.authenticator
        self.keys = KeyAdministration(store: services.store) { authenticator.invalidate() }
        self.accounts = AdminAccounts(store: services.store, throttle: throttle)
        self.models = ModelAdministration(registry: services.models, audit: services.store.auditLog)
    }

    public func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.add(middleware: AdminErrorMiddleware<Context>())
        group.add(middleware: AdminOriginGuard())
        group.post("login", use: login)

        group.add(middleware: AdminAuthenticator(store: store, configuration: configuration, throttle: throttle, cookies: cookies))
        group.get("session", use: session)
        group.post("logout", use: logout)
        group.post("password", use: changePassword)

        group.add(middleware: PasswordChangeLock())
        group.get("keys", use: listKeys)
        group.post("keys", use: createKey)
        group.get("keys/{id}", use: getKey)
        group.patch("keys/{id}", use: updateKey)
        group.post("keys/{id}/rotate", use: rotateKey)
        group.post("keys/{id}/revoke", use: revokeKey)
        group.delete("keys/{id}", use: revokeKey)
        group.get("settings", use: getSettings)
        group.patch("settings", use: updateSettings)
        group.get("models", use: listModels)
        group.post("models/refresh", use: refreshModels)
        group.put("models/**", use: updateModel)
        group.get("audit", use: queryAudit)
        group.get("backends", use: listBackends)
        group.post("backends", use: createBackend)
        group.get("backends/{name}", use: getBackend)
        group.patch("backends/{name}", use: updateBackend)
        group.delete("backends/{name}", use: deleteBackend)
        addUsageRoutes(to: group)
    }

    // MARK: - Sign-in and sessions

    struct LoginRequest: Decodable {
        var username: String
        var password: String

        enum CodingKeys: String, CodingKey {
            case username, password
        }
    }

    struct LoginResponse: Encodable {
        var username: String
        var csrfToken: String
        var mustChangePassword: Bool
        var expiresAt: Date

        enum CodingKeys: String, CodingKey {
            case username
            case csrfToken = "csrf_token"
            case mustChangePassword = "must_change_password"
            case expiresAt = "expires_at"
        }
    }

    @Sendable func login(_ request: Request, context: Context) async throws -> Response {
        let body = try await AdminJSON.decode(LoginRequest.self, from: request, fields: ["username", "password"])
        let signedIn = try await accounts.signIn(
            username: body.username, password: body.password,
            previousToken: request.cookies[configuration.sessionCookieName]?.value, address: context.remoteAddress,
            logger: context.logger)
        let record = signedIn.session.record
        var response = AdminJSON.response(LoginResponse(
            username: signedIn.account.username, csrfToken: record.csrfToken,
            mustChangePassword: signedIn.account.mustChangePassword, expiresAt: record.expiresAt))
        response.setCookie(cookies.session(signedIn.session.token))
        return response
    }

    struct SessionResponse: Encodable {
        var auth: String
        var username: String?
        var csrfToken: String?
        var mustChangePassword: Bool
        var createdAt: Date?
        var expiresAt: Date?
        var idleExpiresAt: Date?
        var absoluteExpiresAt: Date?

        enum CodingKeys: String, CodingKey {
            case auth, username
            case csrfToken = "csrf_token"
            case mustChangePassword = "must_change_password"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case idleExpiresAt = "idle_expires_at"
            case absoluteExpiresAt = "absolute_expires_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(auth, forKey: .auth)
            try container.encode(username, forKey: .username)
            try container.encode(csrfToken, forKey: .csrfToken)
            try container.encode(mustChangePassword, forKey: .mustChangePassword)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(idleExpiresAt, forKey: .idleExpiresAt)
            try container.encode(absoluteExpiresAt, forKey: .absoluteExpiresAt)
        }
    }

    @Sendable func session(_ request: Request, context: Context) async throws -> Response {
        switch context.admin {
        case .account(let account, let session):
            let record = session.record
            return AdminJSON.response(SessionResponse(
                auth: "session", username: account.username, csrfToken: record.csrfToken,
                mustChangePassword: account.mustChangePassword, createdAt: record.createdAt, expiresAt: record.expiresAt,
                idleExpiresAt: record.idleExpiresAt, absoluteExpiresAt: record.absoluteExpiresAt))
        case .token, nil:
            return AdminJSON.response(SessionResponse(auth: "token", mustChangePassword: false))
        }
    }

    @Sendable func logout(_ request: Request, context: Context) async throws -> Response {
        var response = Response(status: .noContent)
        if case .account(let account, let session) = context.admin {
            try await accounts.signOut(account: account, session: session, address: context.remoteAddress)
            response.setCookie(cookies.clearing)
        }
        return response
    }

    struct PasswordChangeRequest: Decodable {
        var currentPassword: String
        var newPassword: String

        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    struct PasswordChangeResponse: Encodable {
        var mustChangePassword: Bool
        var otherSessionsEnded: Int

        enum CodingKeys: String, CodingKey {
            case mustChangePassword = "must_change_password"
            case otherSessionsEnded = "other_sessions_ended"
        }
    }

    /// The rules for a new admin password, shared with `admin reset-password`.
    public static func checkNewPassword(_ password: String) throws(AdminAPIError) {
        guard password.count >= AdminConfiguration.minimumPasswordLength else {
            throw .invalid("The new password must have at least \(AdminConfiguration.minimumPasswordLength) characters.")
        }
        guard password.utf8.count <= 72 else {
            throw .invalid("The new password must have at most 72 bytes (bcrypt ignores the rest).")
        }
    }

    @Sendable func changePassword(_ request: Request, context: Context) async throws -> Response {
        guard case .account(let account, let session) = context.admin else {
            throw AdminAPIError(
                .forbidden, type: "forbidden",
                "The admin token belongs to no account; set an account's password with `ollama-gateway admin reset-password`.")
        }
        let body = try await AdminJSON.decode(
            PasswordChangeRequest.self, from: request, fields: ["current_password", "new_password"])
        let ended = try await accounts.changePassword(
            account: account, session: session, current: body.currentPassword, new: body.newPassword,
            address: context.remoteAddress)
        return AdminJSON.response(PasswordChangeResponse(mustChangePassword: false, otherSessionsEnded: ended))
    }
}
