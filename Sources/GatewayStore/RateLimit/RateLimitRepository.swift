import Foundation
import SQLKit

/// Requests and tokens counted in one fixed window for one key.
public struct RateLimitCounts: Sendable, Hashable {
    public var requests: Int
    public var tokens: Int

    public init(requests: Int, tokens: Int) {
        self.requests = requests
        self.tokens = tokens
    }
}

/// Per-minute counters shared by every instance: one row per key and window, incremented atomically.
/// Single-instance (SQLite) deployments may count in memory instead; this table is what makes limits
/// hold across replicas.
public struct RateLimitRepository: Sendable {
    public static let windowLength: Duration = .seconds(60)
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.sql = database.sql
    }

    /// Start of the window holding `date` (a whole minute, UTC).
    public static func windowStart(for date: Date) -> Date {
        let length = SessionPolicy.milliseconds(windowLength)
        let ms = Timestamp.milliseconds(date)
        return Timestamp.date(ms - ms % length)
    }

    /// Adds to the window's counters and returns the new totals, in one statement that cannot lose an
    /// update however many instances add at once (`INSERT … ON CONFLICT DO UPDATE … RETURNING`, SQLite
    /// 3.35+ and PostgreSQL 9.5+).
    public func add(keyID: String, requests: Int = 1, tokens: Int = 0, at time: Date = Date()) async throws
        -> RateLimitCounts
    {
        let window = Timestamp.milliseconds(Self.windowStart(for: time))
        let rows = try await sql.raw(
            """
            INSERT INTO rate_limit_windows (key_id, window_start, requests, tokens)
            VALUES (\(bind: keyID), \(bind: window), \(bind: Int64(requests)), \(bind: Int64(tokens)))
            ON CONFLICT (key_id, window_start) DO UPDATE SET
                requests = rate_limit_windows.requests + excluded.requests,
                tokens = rate_limit_windows.tokens + excluded.tokens
            RETURNING requests, tokens
            """
        ).all()
        guard let row = rows.first else { throw StoreError.corruptRow("rate-limit upsert returned nothing") }
        return RateLimitCounts(requests: try row.int("requests"), tokens: try row.int("tokens"))
    }

    /// The window's totals without changing them (zero when nothing was counted yet).
    public func counts(keyID: String, at time: Date = Date()) async throws -> RateLimitCounts {
        let window = Timestamp.milliseconds(Self.windowStart(for: time))
        let rows = try await sql.raw(
            """
            SELECT requests, tokens FROM rate_limit_windows
            WHERE key_id = \(bind: keyID) AND window_start = \(bind: window)
            """
        ).all()
        guard let row = rows.first else { return RateLimitCounts(requests: 0, tokens: 0) }
        return RateLimitCounts(requests: try row.int("requests"), tokens: try row.int("tokens"))
    }

    /// Removes windows that started before `before`; run every few minutes.
    @discardableResult
    public func prune(before: Date) async throws -> Int {
        try await sql.raw(
            """
            DELETE FROM rate_limit_windows WHERE window_start < \(bind: Timestamp.milliseconds(before))
            RETURNING key_id
            """
        ).all().count
    }
}
