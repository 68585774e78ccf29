import Foundation
import SQLKit

/// Failed logins within a window, per account and per client address.
public struct LoginFailureCounts: Sendable, Hashable {
    public var account: Int
    public var address: Int

    public init(account: Int, address: Int) {
        self.account = account
        self.address = address
    }
}

/// Shared counters for login throttling: every instance sees the failures recorded by the others.
/// One row per failure keeps the window exact (a sliding window, not fixed buckets); rows older than
/// the longest window are pruned.
public struct LoginAttemptRepository: Sendable {
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.sql = database.sql
    }

    enum Scope: String {
        case account
        case address
    }

    /// Records one failure against the user name (even one that does not exist, so that probing for
    /// names is throttled too) and against the address.
    public func recordFailure(username: String, address: String?, at time: Date = Date()) async throws {
        let ms = Timestamp.milliseconds(time)
        let account = Self.subject(username)
        if let address {
            try await sql.raw(
                """
                INSERT INTO login_failures (scope, subject, failed_at) VALUES
                    (\(bind: Scope.account.rawValue), \(bind: account), \(bind: ms)),
                    (\(bind: Scope.address.rawValue), \(bind: address), \(bind: ms))
                """
            ).run()
        } else {
            try await sql.raw(
                """
                INSERT INTO login_failures (scope, subject, failed_at)
                VALUES (\(bind: Scope.account.rawValue), \(bind: account), \(bind: ms))
                """
            ).run()
        }
    }

    /// Failures at or after `since` for the user name and for the address, in one query.
    public func recentFailures(username: String, address: String?, since: Date) async throws -> LoginFailureCounts {
        let sinceMs = Timestamp.milliseconds(since)
        let rows = try await sql.raw(
            """
            SELECT scope, COUNT(*) AS n FROM login_failures
            WHERE failed_at >= \(bind: sinceMs) AND (
                (scope = \(bind: Scope.account.rawValue) AND subject = \(bind: Self.subject(username)))
                OR (scope = \(bind: Scope.address.rawValue) AND subject = \(bind: address ?? ""))
            )
            GROUP BY scope
            """
        ).all()
        var counts = LoginFailureCounts(account: 0, address: 0)
        for row in rows {
            switch try row.string("scope") {
            case Scope.account.rawValue: counts.account = try row.int("n")
            case Scope.address.rawValue: counts.address = address == nil ? 0 : try row.int("n")
            default: break
            }
        }
        return counts
    }

    /// After a successful login: the account's failures no longer count.
    public func clearFailures(username: String) async throws {
        try await sql.raw(
            """
            DELETE FROM login_failures
            WHERE scope = \(bind: Scope.account.rawValue) AND subject = \(bind: Self.subject(username))
            """
        ).run()
    }

    /// Clearing an address is a separate decision: a successful login from an address that also
    /// guessed at other accounts should not necessarily wipe its record.
    public func clearFailures(address: String) async throws {
        try await sql.raw(
            "DELETE FROM login_failures WHERE scope = \(bind: Scope.address.rawValue) AND subject = \(bind: address)"
        ).run()
    }

    /// Removes failures older than `before` (older than the longest throttling window).
    @discardableResult
    public func prune(before: Date) async throws -> Int {
        try await sql.raw(
            "DELETE FROM login_failures WHERE failed_at < \(bind: Timestamp.milliseconds(before)) RETURNING id"
        ).all().count
    }

    /// Same normalisation as account user names.
    static func subject(_ username: String) -> String {
        username.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
