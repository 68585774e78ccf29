import Foundation
import SQLKit

/// What each backend (Ollama server) served in a span of time, read from the usage log itself: the
/// roll-ups are not cut by backend, and the console asks for a short recent span, which the time
/// index bounds.
public struct BackendActivity: Sendable, Hashable {
    public var backend: String
    public var requests: Int
    /// Answers with a status of 400 or more.
    public var errors: Int
    public var averageLatencyMs: Double?
    public var averageTimeToFirstTokenMs: Double?
}

extension UsageRepository {
    /// One row per backend that served a request in `[from, to)`, busiest first.
    public func backendActivity(from: Date, to: Date) async throws -> [BackendActivity] {
        let statement: SQLQueryString = """
            SELECT backend, COUNT(*) AS requests, SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors, \
            CAST(AVG(latency_ms) AS DOUBLE PRECISION) AS latency, CAST(AVG(ttft_ms) AS DOUBLE PRECISION) AS ttft \
            FROM usage_log WHERE occurred_at >= \(bind: Timestamp.milliseconds(from)) \
            AND occurred_at < \(bind: Timestamp.milliseconds(to)) AND backend IS NOT NULL \
            GROUP BY backend ORDER BY requests DESC, backend
            """
        return try await sql.raw(statement).all().map { row in
            BackendActivity(
                backend: try row.string("backend"), requests: try row.int("requests"), errors: try row.optionalInt("errors") ?? 0,
                averageLatencyMs: try row.optionalDouble("latency"), averageTimeToFirstTokenMs: try row.optionalDouble("ttft"))
        }
    }
}

extension UsageRepository {
    /// Which of these request ids the log has already (for replaying a usage journal without
    /// doubling: a request id holds a random part per process, so it names one request).
    public func storedRequestIDs(_ requestIDs: [String]) async throws -> Set<String> {
        let ids = Array(Set(requestIDs.map { String($0.prefix(UsageSchema.maximumIDLength)) }))
        var found = Set<String>()
        var start = 0
        while start < ids.count {
            let chunk = ids[start..<min(start + 500, ids.count)]
            start += 500
            let rows = try await sql.raw(
                "SELECT request_id FROM usage_log WHERE request_id IN (\(binds: chunk.map { $0 as any Encodable & Sendable }))"
            ).all()
            for row in rows { found.insert(try row.string("request_id")) }
        }
        return found
    }
}
