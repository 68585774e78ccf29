import Configuration
import GatewayStore

/// Settings of the admin side: sessions, the automation token, login throttling.
public struct AdminConfiguration: Sendable {
    /// A bearer token accepted on `/admin/api/*` instead of a session (`ADMIN_TOKEN`); unset: no token.
    public var token: String?
    /// Mark the session cookie `Secure` (and name it `__Host-…`) when the gateway is served over https.
    public var cookieSecure = false
    /// An idle session ends after this long without a request.
    public var sessionIdleTimeout: Duration = .seconds(30 * 60)
    /// A session ends this long after login, however active.
    public var sessionLifetime: Duration = .seconds(12 * 3600)
    /// Failed logins per account within `loginFailureWindow` after which logins are refused (429).
    public var loginMaxFailuresPerAccount = 5
    /// Failed logins per client address within `loginFailureWindow` after which logins are refused.
    public var loginMaxFailuresPerAddress = 20
    public var loginFailureWindow: Duration = .seconds(15 * 60)
    /// bcrypt's work factor for admin passwords (`BCRYPT_COST`, 4–31, each step doubles the time);
    /// tests lower it to 4.
    public var passwordHashCost: UInt8 = 12

    /// Shortest password the admin API and the command line accept.
    public static let minimumPasswordLength = 8
    /// Shortest `ADMIN_TOKEN` accepted: a guessable token would be a way around the login throttle.
    public static let minimumTokenLength = 16

    public init() {}

    public static let environmentNames = [
        "ADMIN_TOKEN", "COOKIE_SECURE", "ADMIN_SESSION_IDLE_TIMEOUT_S", "ADMIN_SESSION_LIFETIME_S",
        "LOGIN_MAX_FAILURES", "LOGIN_MAX_FAILURES_PER_ADDRESS", "LOGIN_FAILURE_WINDOW_S", "BCRYPT_COST",
    ]

    public init(reader: ConfigReader) throws {
        try self.init(reader: SettingsReader(reader))
    }

    init(reader: SettingsReader) throws {
        self.init()
        if let token = reader.string("ADMIN_TOKEN", isSecret: true), !token.isEmpty {
            guard token.count >= Self.minimumTokenLength else {
                throw ConfigurationError(
                    "ADMIN_TOKEN must have at least \(Self.minimumTokenLength) characters (e.g. openssl rand -hex 32)")
            }
            self.token = token
        }
        cookieSecure = try reader.bool("COOKIE_SECURE", default: false)
        sessionIdleTimeout = try reader.seconds("ADMIN_SESSION_IDLE_TIMEOUT_S", default: 30 * 60)
        sessionLifetime = try reader.seconds("ADMIN_SESSION_LIFETIME_S", default: 12 * 3600)
        loginMaxFailuresPerAccount = try reader.int("LOGIN_MAX_FAILURES", default: 5, in: 1...1_000_000)
        loginMaxFailuresPerAddress = try reader.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default: 20, in: 1...1_000_000)
        loginFailureWindow = try reader.seconds("LOGIN_FAILURE_WINDOW_S", default: 15 * 60)
        passwordHashCost = UInt8(try reader.int("BCRYPT_COST", default: Int(passwordHashCost), in: 4...31))
    }

    /// How long sessions live, as the store applies it.
    public var sessionPolicy: SessionPolicy {
        SessionPolicy(idleTimeout: sessionIdleTimeout, absoluteLifetime: sessionLifetime)
    }

    /// `__Host-` binds the cookie to this host, path `/` and https; browsers only accept it with `Secure`.
    public var sessionCookieName: String { cookieSecure ? "__Host-gateway_session" : "gateway_session" }
}
