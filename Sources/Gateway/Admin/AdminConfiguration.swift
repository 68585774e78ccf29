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
        self.init()
        if let token = reader.string(forKey: "admin.token", isSecret: true), !token.isEmpty {
            guard token.count >= Self.minimumTokenLength else {
                throw ConfigurationError(
                    "ADMIN_TOKEN must have at least \(Self.minimumTokenLength) characters (e.g. openssl rand -hex 32)")
            }
            self.token = token
        }
        cookieSecure = reader.bool(forKey: "cookie.secure", default: false)
        sessionIdleTimeout = .seconds(try Self.positive(reader, "admin.session.idle.timeout.s", "ADMIN_SESSION_IDLE_TIMEOUT_S", 30 * 60))
        sessionLifetime = .seconds(try Self.positive(reader, "admin.session.lifetime.s", "ADMIN_SESSION_LIFETIME_S", 12 * 3600))
        loginMaxFailuresPerAccount = try Self.positive(reader, "login.max.failures", "LOGIN_MAX_FAILURES", 5)
        loginMaxFailuresPerAddress = try Self.positive(
            reader, "login.max.failures.per.address", "LOGIN_MAX_FAILURES_PER_ADDRESS", 20)
        loginFailureWindow = .seconds(try Self.positive(reader, "login.failure.window.s", "LOGIN_FAILURE_WINDOW_S", 15 * 60))
        let cost = reader.int(forKey: "bcrypt.cost", default: Int(passwordHashCost))
        guard (4...31).contains(cost) else { throw ConfigurationError("BCRYPT_COST must be between 4 and 31, got \(cost)") }
        passwordHashCost = UInt8(cost)
    }

    private static func positive(_ reader: ConfigReader, _ key: ConfigKey, _ name: String, _ fallback: Int) throws -> Int {
        let value = reader.int(forKey: key, default: fallback)
        guard value > 0 else { throw ConfigurationError("\(name) must be a positive number, got \(value)") }
        return value
    }

    /// How long sessions live, as the store applies it.
    public var sessionPolicy: SessionPolicy {
        SessionPolicy(idleTimeout: sessionIdleTimeout, absoluteLifetime: sessionLifetime)
    }

    /// `__Host-` binds the cookie to this host, path `/` and https; browsers only accept it with `Secure`.
    public var sessionCookieName: String { cookieSecure ? "__Host-gateway_session" : "gateway_session" }
}
