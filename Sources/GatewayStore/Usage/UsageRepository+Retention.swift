import Foundation
import SQLKit

extension UsageRepository {
    /// Log rows deleted per statement: each statement is short, so writers are never held up for long.
    public static let pruneChunk = 10_000

    /// Deletes log rows and roll-up buckets older than their retention, in chunks (each its own short
    /// statement), and says how many rows went. Run it periodically (e.g. hourly) from a service; it is
    /// safe to run on several instances at once.
    @discardableResult
    public func prune(
        olderThan retention: UsageRetention, now: Date = Date(), chunkSize: Int = UsageRepository.pruneChunk
    ) async throws -> UsagePruneResult {
        let nowMs = Timestamp.milliseconds(now)
        let chunk = max(1, chunkSize)
        var result = UsagePruneResult()
        if let days = retention.logDays {
            result.logRows = try await pruneLog(before: nowMs - Int64(days) * RollupTable.dayMilliseconds, chunk: chunk)
        }
        if let days = retention.hourlyDays {
            result.hourlyRows = try await pruneRollup(
                .hourly, before: nowMs - Int64(days) * RollupTable.dayMilliseconds, bucketsPerStatement: 24)
        }
        if let days = retention.dailyDays {
            result.dailyRows = try await pruneRollup(
                .daily, before: nowMs - Int64(days) * RollupTable.dayMilliseconds, bucketsPerStatement: 31)
        }
        return result
    }

    private func pruneLog(before cutoff: Int64, chunk: Int) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await sql.raw(
                """
                DELETE FROM usage_log WHERE id IN (
                    SELECT id FROM usage_log WHERE occurred_at < \(bind: cutoff)
                    ORDER BY occurred_at, id LIMIT \(literal: chunk)
                ) RETURNING id
                """
            ).all().count
            total += deleted
            if deleted < chunk { return total }
        }
    }

    /// Removes whole buckets that end at or before `cutoff`, a few buckets per statement.
    private func pruneRollup(_ table: RollupTable, before cutoff: Int64, bucketsPerStatement: Int64) async throws -> Int {
        var total = 0
        for level in RollupLevel.allCases {
            total += try await pruneRollup(table, level: level, before: cutoff, bucketsPerStatement: bucketsPerStatement)
        }
        return total
    }

    private func pruneRollup(
        _ table: RollupTable, level: RollupLevel, before cutoff: Int64, bucketsPerStatement: Int64
    ) async throws -> Int {
        let limit = cutoff - table.bucketMilliseconds + 1
        let name = table.name(level)
        var total = 0
        while true {
            let rows = try await sql.raw(
                "SELECT MIN(bucket_start) AS first FROM \(unsafeRaw: name) WHERE bucket_start < \(bind: limit)"
            ).all()
            guard let row = rows.first, !(try row.decodeNil(column: "first")) else { return total }
            let first = try row.decode(column: "first", as: Int64.self)
            let upTo = min(limit, first + bucketsPerStatement * table.bucketMilliseconds)
            total += try await sql.raw(
                "DELETE FROM \(unsafeRaw: name) WHERE bucket_start < \(bind: upTo) RETURNING bucket_start"
            ).all().count
        }
    }
}

extension UsageRepository {
    /// Refreshes the planner's statistics of the usage tables (`ANALYZE`). PostgreSQL's autovacuum does
    /// this by itself; on SQLite, run it after a bulk load or a large prune (it reads the tables once).
    public func analyze() async throws {
        for table in ["usage_log"] + RollupTable.allNames {
            try await sql.raw("ANALYZE \(unsafeRaw: table)").run()
        }
    }
}
