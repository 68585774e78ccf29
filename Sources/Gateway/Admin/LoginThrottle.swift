import Foundation
import GatewayStore

/// Refuses logins after too many failures for one account or from one address, counted in the shared
/// database so that every instance throttles the same attacker.
struct LoginThrottle: Sendable {
    let attempts: LoginAttemptRepository
    let maxFailuresPerAccount: Int
    let maxFailuresPerAddress: Int
    let window: Duration

    /// The subject under which wrong admin tokens are counted; only its address scope is enforced, so
    /// that nobody can lock automation out by guessing from elsewhere.
    static let tokenSubject = "*admin-token*"

    init(attempts: LoginAttemptRepository, configuration: AdminConfiguration) {
        self.attempts = attempts
        self.maxFailuresPerAccount = configuration.loginMaxFailuresPerAccount
        self.maxFailuresPerAddress = configuration.loginMaxFailuresPerAddress
        self.window = configuration.loginFailureWindow
    }

    var windowSeconds: Int { Int(window.components.seconds) }

    func windowStart(_ now: Date) -> Date { now.addingTimeInterval(-TimeInterval(window.components.seconds)) }

    /// Throws a 429 with `Retry-After` when the account or the address has used up its failures.
    /// (The wait is the whole window: the store counts failures in it but does not say when the oldest
    /// one leaves it.)
    func check(username: String, address: String?, now: Date, accountScope: Bool = true) async throws {
        let counts = try await attempts.recentFailures(username: username, address: address, since: windowStart(now))
        if (accountScope && counts.account >= maxFailuresPerAccount) || counts.address >= maxFailuresPerAddress {
            throw AdminAPIError.throttled(retryAfterSeconds: windowSeconds)
        }
    }

    func recordFailure(username: String, address: String?, now: Date) async throws {
        try await attempts.recordFailure(username: String(username.prefix(64)), address: address, at: now)
    }

    func clear(username: String) async throws {
        try await attempts.clearFailures(username: username)
    }
}
