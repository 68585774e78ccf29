import Configuration
import GatewayStore

/// Settings of the admin side: sessions, the automation token, login throttling.
public struct AdminConfiguration: Sendable {
    /// A bearer token accepted on `/admin/api/*` instead of a session (`ADMIN_TOKEN`); unset: no token.
    public var token: String?
    /// Mark the session cookie `Secure` (and name it `__Host-…`) when the gateway is served over https.
    public var cookieSecure = Settings.cookieSecure.defaultValue
    /// An idle session ends after this long without a request.
    public var sessionIdleTimeout = Settings.sessionIdleTimeout.defaultValue
    /// A session ends this long after login, however active.
    public var sessionLifetime = Settings.sessionLifetime.defaultValue
    /// Failed logins per account within `loginFailureWindow` after which logins are refused (429).
    public var loginMaxFailuresPerAccount = Settings.loginMaxFailuresPerAccount.defaultValue
    /// Failed logins per client address within `loginFailureWindow` after which logins are refused.
    public var loginMaxFailuresPerAddress = Settings.loginMaxFailuresPerAddress.defaultValue
    public var loginFailureWindow = Settings.loginFailureWindow.defaultValue
    /// bcrypt's work factor for admin passwords (`BCRYPT_COST`, 4–31, each step doubles the time);
    /// tests lower it to 4.
    public var passwordHashCost = UInt8(Settings.passwordHashCost.defaultValue)

    /// Shortest password the admin API and the command line accept.
    public static let minimumPasswordLength = 8
    /// Shortest `ADMIN_TOKEN` accepted: a guessable token would be a way around the login throttle.
    public static let minimumTokenLength = 16

    public init() {}

    public enum Settings {
        public static let token = Setting<String?>(
            "ADMIN_TOKEN", isSecret: true, help: "Bearer token for /admin/api/* scripts (16+ characters)")
        public static let cookieSecure = Setting<Bool>(
            "COOKIE_SECURE", default: false, help: "Secure admin session cookie, for a gateway served over https")
        public static let sessionIdleTimeout = Setting<Duration>.seconds(
            "ADMIN_SESSION_IDLE_TIMEOUT_S", default: 30 * 60, help: "An admin session ends after this long idle")
        public static let sessionLifetime = Setting<Duration>.seconds(
            "ADMIN_SESSION_LIFETIME_S", default: 12 * 3600, help: "An admin session ends this long after login")
        public static let loginMaxFailuresPerAccount = Setting<Int>(
            "LOGIN_MAX_FAILURES", default: 5, in: 1...1_000_000, help: "Failed logins per account before 429")
        public static let loginMaxFailuresPerAddress = Setting<Int>(
            "LOGIN_MAX_FAILURES_PER_ADDRESS", default: 20, in: 1...1_000_000,
            help: "Failed logins per client address before 429")
        public static let loginFailureWindow = Setting<Duration>.seconds(
            "LOGIN_FAILURE_WINDOW_S", default: 15 * 60, help: "The login throttling window")
        public static let passwordHashCost = Setting<Int>(
            "BCRYPT_COST", default: 12, in: 4...31, help: "bcrypt work factor of admin passwords")
    }

    public static let settings: [SettingDescription] = [
        Settings.token.summary, Settings.cookieSecure.summary, Settings.sessionIdleTimeout.summary,
        Settings.sessionLifetime.summary, Settings.loginMaxFailuresPerAccount.summary,
        Settings.loginMaxFailuresPerAddress.summary, Settings.loginFailureWindow.summary,
        Settings.passwordHashCost.summary,
    ]
    public static let environmentNames = settings.map(\.name)

    public init(reader: ConfigReader) throws {
        try self.init(reader: SettingsReader(reader))
    }

    init(reader: SettingsReader) throws {
        self.init()
        if let token = reader.read(Settings.token), !token.isEmpty {
            guard token.count >= Self.minimumTokenLength else {
                throw ConfigurationError(
                    "ADMIN_TOKEN must have at least \(Self.minimumTokenLength) characters (e.g. openssl rand -hex 32)")
            }
            self.token = token
        }
        cookieSecure = try reader.read(Settings.cookieSecure)
        sessionIdleTimeout = try reader.read(Settings.sessionIdleTimeout)
        sessionLifetime = try reader.read(Settings.sessionLifetime)
        loginMaxFailuresPerAccount = try reader.read(Settings.loginMaxFailuresPerAccount)
        loginMaxFailuresPerAddress = try reader.read(Settings.loginMaxFailuresPerAddress)
        loginFailureWindow = try reader.read(Settings.loginFailureWindow)
        passwordHashCost = UInt8(try reader.read(Settings.passwordHashCost))
    }

    /// How long sessions live, as the store applies it.
    public var sessionPolicy: SessionPolicy {
        SessionPolicy(idleTimeout: sessionIdleTimeout, absoluteLifetime: sessionLifetime)
    }

    /// `__Host-` binds the cookie to this host, path `/` and https; browsers only accept it with `Secure`.
    public var sessionCookieName: String { cookieSecure ? "__Host-gateway_session" : "gateway_session" }
}
