import Foundation
import GatewayStore

/// Refuses logins after too many failures for one account or from one address, counted in the shared
/// database so that every instance throttles the same attacker.
struct LoginThrottle: Sendable {
    let attempts: LoginAttemptRepository
    let maxFailuresPerAccount: Int
    let maxFailuresPerAddress: Int
    let window: Duration

    /// The subject under which wrong admin tokens from one address are counted. Token guesses are kept
    /// apart from password logins: guessing tokens (or sending an API key to the admin API) from an
    /// address does not lock that address out of signing in, and the correct token is checked first,
    /// so nobody else's failures ever refuse it.
    static func tokenSubject(address: String?) -> String { "*admin-token*@\(address ?? "unknown")" }

    init(attempts: LoginAttemptRepository, configuration: AdminConfiguration) {
        self.attempts = attempts
        self.maxFailuresPerAccount = configuration.loginMaxFailuresPerAccount
        self.maxFailuresPerAddress = configuration.loginMaxFailuresPerAddress
        self.window = configuration.loginFailureWindow
    }

    var windowSeconds: Int { Int(window.components.seconds) }

    func windowStart(_ now: Date) -> Date { now.addingTimeInterval(-TimeInterval(window.components.seconds)) }

    /// Counts a password attempt as a failure before its password is checked, or throws a 429 with
    /// `Retry-After` when the account or the address has used up its failures. Attempts made at the
    /// same time therefore cannot exceed the limit. A successful check hands the reservation back
    /// (`succeeded`). (The wait is the whole window: the store counts failures in it but does not say
    /// when the oldest one leaves it.)
    func reserve(username: String, address: String?, now: Date) async throws -> LoginAttemptReservation {
        guard let reservation = try await attempts.reserveFailure(
            username: String(username.prefix(64)), address: address, at: now, since: windowStart(now),
            accountLimit: maxFailuresPerAccount, addressLimit: maxFailuresPerAddress)
        else { throw AdminAPIError.throttled(retryAfterSeconds: windowSeconds) }
        return reservation
    }

    /// Counts a wrong admin token from `address`, or throws a 429 when that address has used up its
    /// failures.
    func recordWrongToken(address: String?, now: Date) async throws {
        guard try await attempts.reserveFailure(
            username: Self.tokenSubject(address: address), address: nil, at: now, since: windowStart(now),
            accountLimit: maxFailuresPerAddress, addressLimit: maxFailuresPerAddress) != nil
        else { throw AdminAPIError.throttled(retryAfterSeconds: windowSeconds) }
    }

    /// The attempt succeeded: its reservation and the account's earlier failures no longer count.
    func succeeded(username: String, reservation: LoginAttemptReservation) async throws {
        try await attempts.clearFailures(username: username)
        try await attempts.release(reservation)
    }

    /// The check itself failed (not the password): the attempt was no guess.
    func abandon(_ reservation: LoginAttemptReservation) async throws {
        try await attempts.release(reservation)
    }
}
