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

/// An attempt counted as a failure until its check succeeds (`LoginAttemptRepository.reserveFailure`).
public struct LoginAttemptReservation: Sendable, Hashable {
    let ids: [Int]
}

/// Shared counters for login throttling: every instance sees the failures recorded by the others.
/// One row per failure keeps the window exact (a sliding window, not fixed buckets); rows older than
/// the longest window are pruned.
public struct LoginAttemptRepository: Sendable {
    let database: GatewayDatabase
    var sql: any SQLDatabase { database.sql }

    public init(database: GatewayDatabase) {
        self.database = database
    }

    enum Scope: String {
        case account
        case address
    }

    /// Records one failure against the user name (even one that does not exist, so that probing for
    /// names is throttled too) and against the address.
    public func recordFailure(username: String, address: String?, at time: Date = Date()) async throws {
        _ = try await Self.insertFailure(username: username, address: address, at: time, on: sql)
    }

    /// Inserts the failure's rows; returns their ids.
    private static func insertFailure(username: String, address: String?, at time: Date, on sql: any SQLDatabase)
        async throws -> [Int]
    {
        let ms = Timestamp.milliseconds(time)
        let account = Self.subject(username)
        let rows: [any SQLRow]
        if let address {
            rows = try await sql.raw(
                """
                INSERT INTO login_failures (scope, subject, failed_at) VALUES
                    (\(bind: Scope.account.rawValue), \(bind: account), \(bind: ms)),
                    (\(bind: Scope.address.rawValue), \(bind: address), \(bind: ms))
                RETURNING id
                """
            ).all()
        } else {
            rows = try await sql.raw(
                """
                INSERT INTO login_failures (scope, subject, failed_at)
                VALUES (\(bind: Scope.account.rawValue), \(bind: account), \(bind: ms))
                RETURNING id
                """
            ).all()
        }
        return try rows.map { try $0.int("id") }
    }

    /// Counts an attempt as a failure *before* its (slow) password check, in one step with the check of
    /// the limits: attempts that arrive together cannot all pass the limit while each one's bcrypt is
    /// still running. Returns nil, recording nothing, when the account (unless `accountLimit` is nil)
    /// or the address already has that many failures since `since`. A check that succeeds then hands
    /// the reservation back with `release`.
    ///
    /// Serialised across instances too: SQLite's write lock, PostgreSQL's advisory lock.
    public func reserveFailure(
        username: String, address: String?, at time: Date, since: Date, accountLimit: Int?, addressLimit: Int
    ) async throws -> LoginAttemptReservation? {
        try await database.transaction(serializedBy: "login_failures") { sql in
            let counts = try await Self.recentFailures(username: username, address: address, since: since, on: sql)
            if let accountLimit, counts.account >= accountLimit { return nil }
            if address != nil, counts.address >= addressLimit { return nil }
            return LoginAttemptReservation(
                ids: try await Self.insertFailure(username: username, address: address, at: time, on: sql))
        }
    }

    /// Takes back a reservation whose attempt succeeded.
    public func release(_ reservation: LoginAttemptReservation) async throws {
        guard !reservation.ids.isEmpty else { return }
        try await sql.raw(
            "DELETE FROM login_failures WHERE id IN (\(binds: reservation.ids))"
        ).run()
    }

    /// Failures at or after `since` for the user name and for the address, in one query.
    public func recentFailures(username: String, address: String?, since: Date) async throws -> LoginFailureCounts {
        try await Self.recentFailures(username: username, address: address, since: since, on: sql)
    }

    private static func recentFailures(username: String, address: String?, since: Date, on sql: any SQLDatabase)
        async throws -> LoginFailureCounts
    {
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
