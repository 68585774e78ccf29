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
