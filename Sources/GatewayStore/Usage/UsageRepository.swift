import Foundation
import SQLKit

/// The usage log of every API request, with hourly and daily roll-ups per key, model, endpoint and
/// status that answer totals, time series, top lists, error rates and percentiles without reading the
/// log. See docs/usage.md.
public struct UsageRepository: Sendable {
    public static let maximumPageSize = 1000
    /// Log rows per INSERT statement (18 values, 9 of them binds, a row).
    static let logInsertChunk = 500

    let database: GatewayDatabase
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.database = database
        self.sql = database.sql
    }

    // MARK: - Writing

    /// Writes a batch in one transaction: the log rows (multi-row INSERTs) and the batch's contribution
    /// to the hourly and daily roll-ups (summed in memory first, then one multi-row upsert per table and
    /// chunk). Either everything is written or nothing. Safe to call from several instances at once:
    /// the upserts add, so the roll-ups stay exact.
    public func insert(_ records: [UsageRecord]) async throws {
        guard !records.isEmpty else { return }
        let records = records.map(\.normalized)
        let rollups = RollupTable.allCases.flatMap { table in
            let cube = table.aggregate(records)
            return RollupLevel.allCases.map { level in
                (table, level, RollupTable.collapse(cube, to: level).sorted { $0.key < $1.key })
            }
        }
        try await database.transaction { db in
            var start = 0
            while start < records.count {
                let end = min(start + Self.logInsertChunk, records.count)
                try await db.raw(Self.logInsert(records[start..<end])).run()
                start = end
            }
            for (table, level, rows) in rollups {
                var start = 0
                while start < rows.count {
                    let end = min(start + RollupTable.upsertChunk, rows.count)
                    try await db.raw(table.upsert(rows[start..<end], level: level)).run()
                    start = end
                }
            }
        }
    }

    static func logInsert(_ records: ArraySlice<UsageRecord>) -> SQLQueryString {
        let head = "INSERT INTO usage_log (" + UsageSchema.logColumns.joined(separator: ", ") + ") VALUES "
        var statement = SQLQueryString(head)
        var first = true
        for record in records {
            // Numbers and flags as literals, text bound (see `RollupTable.upsert`).
            statement += SQLQueryString(first ? "(" : ", (")
            statement += "\(unsafeRaw: String(Timestamp.milliseconds(record.time))), \(bind: record.requestID), "
            statement += "\(bind: record.keyID), \(bind: record.modelRequested), \(bind: record.modelResolved), "
            statement += "\(bind: record.endpoint), \(unsafeRaw: record.streamed ? "TRUE" : "FALSE"), "
            statement += "\(unsafeRaw: String(record.status)), \(bind: record.errorType), "
            let numbers = [
                String(record.promptTokens), String(record.completionTokens), record.cancelled ? "TRUE" : "FALSE",
                SQLNumber.text(record.latencyMs), SQLNumber.text(record.timeToFirstTokenMs),
                SQLNumber.text(record.tokensPerSecond),
            ]
            statement += SQLQueryString(numbers.joined(separator: ", ") + ", ")
            statement += "\(bind: record.clientAddress), \(bind: record.userAgent), \(bind: record.backend))"
            first = false
        }
        return statement
    }

    // MARK: - The request log

    /// Newest first, filtered, one page at a time (keyset on (time, id); never OFFSET).
    public func log(_ query: UsageLogQuery) async throws -> UsageLogPage {
        let limit = min(max(1, query.limit), Self.maximumPageSize)
        var conditions: [SQLQueryString] = []
        if let since = query.since { conditions.append("occurred_at >= \(bind: Timestamp.milliseconds(since))") }
        if let until = query.until { conditions.append("occurred_at < \(bind: Timestamp.milliseconds(until))") }
        if let keyID = query.filter.keyID {
            // "" is how the roll-ups name requests without a key; in the log they have none.
            conditions.append(keyID.isEmpty ? "key_id IS NULL" : "key_id = \(bind: keyID)")
        }
        if let model = query.filter.model {
            conditions.append("\(unsafeRaw: UsageSchema.logModelExpression) = \(bind: model)")
        }
        if let endpoint = query.filter.endpoint { conditions.append("endpoint = \(bind: endpoint)") }
        if let status = query.filter.status {
            switch status {
            case .exact(let code): conditions.append("status = \(bind: Int64(code))")
            case .family:
                let range = status.range
                conditions.append(
                    "status >= \(bind: Int64(range.lowerBound)) AND status < \(bind: Int64(range.upperBound))")
            }
        }
        if let requestID = query.requestID { conditions.append("request_id = \(bind: requestID)") }
        if let after = query.after {
            // The first term bounds the index range; the second steps past rows of the same millisecond.
            let ms = Timestamp.milliseconds(after.time)
            conditions.append(
                "occurred_at <= \(bind: ms) AND (occurred_at < \(bind: ms) OR id < \(bind: after.id))")
        }
        var statement: SQLQueryString = "SELECT id, \(unsafeRaw: UsageSchema.logColumns.joined(separator: ", ")) FROM usage_log"
        if !conditions.isEmpty {
            statement = statement + " WHERE " + conditions.joined(separator: " AND ")
        }
        // One extra row tells whether another page exists.
        statement = statement + " ORDER BY occurred_at DESC, id DESC LIMIT \(literal: limit + 1)"
        var entries = try await sql.raw(statement).all().map(Self.entry(from:))
        var next: UsageCursor?
        if entries.count > limit {
            entries.removeLast()
            next = entries.last.map { UsageCursor(time: $0.record.time, id: $0.id) }
        }
        return UsageLogPage(entries: entries, next: next)
    }

    static func entry(from row: any SQLRow) throws -> UsageLogEntry {
        UsageLogEntry(
            id: try row.decode(column: "id", as: Int64.self),
            record: UsageRecord(
                time: try row.date("occurred_at"),
                requestID: try row.string("request_id"),
                keyID: try row.optionalString("key_id"),
                modelRequested: try row.optionalString("model_requested"),
                modelResolved: try row.optionalString("model_resolved"),
                endpoint: try row.string("endpoint"),
                streamed: try row.bool("streamed"),
                status: try row.int("status"),
                errorType: try row.optionalString("error_type"),
                promptTokens: try row.int("prompt_tokens"),
                completionTokens: try row.int("completion_tokens"),
                cancelled: try row.bool("cancelled"),
                latencyMs: try row.decode(column: "latency_ms", as: Double.self),
                timeToFirstTokenMs: try row.optionalDouble("ttft_ms"),
                tokensPerSecond: try row.optionalDouble("tokens_per_second"),
                clientAddress: try row.optionalString("client_address"),
                userAgent: try row.optionalString("user_agent"),
                backend: try row.optionalString("backend")
            )
        )
    }
}

extension SQLRow {
    func optionalDouble(_ column: String) throws -> Double? {
        try decodeNil(column: column) ? nil : decode(column: column, as: Double.self)
    }
}
