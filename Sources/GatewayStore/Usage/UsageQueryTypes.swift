import Foundation

/// A status filter: one code (`404`) or a class (`5xx`).
public enum UsageStatusFilter: Sendable, Hashable {
    case exact(Int)
    /// The hundreds digit: 4 for 4xx, 5 for 5xx.
    case family(Int)

    /// Parses `404`, `5xx` or `5XX`.
    public init?(text: String) {
        let lower = text.lowercased()
        if lower.count == 3, lower.hasSuffix("xx"), let digit = Int(lower.prefix(1)), (1...5).contains(digit) {
            self = .family(digit)
        } else if let code = Int(lower), (100...599).contains(code) {
            self = .exact(code)
        } else {
            return nil
        }
    }

    /// Half-open range of codes.
    var range: Range<Int> {
        switch self {
        case .exact(let code): code..<(code + 1)
        case .family(let digit): (digit * 100)..<(digit * 100 + 100)
        }
    }

    public func matches(_ status: Int) -> Bool { range.contains(status) }
}

/// What the aggregate queries and the log are restricted to; `nil` fields do not filter.
public struct UsageFilter: Sendable, Hashable {
    public var keyID: String?
    /// Matches `UsageRecord.accountedModel`: the model that served, or the one asked for when unresolved.
    public var model: String?
    public var endpoint: String?
    public var status: UsageStatusFilter?

    public init(keyID: String? = nil, model: String? = nil, endpoint: String? = nil, status: UsageStatusFilter? = nil) {
        self.keyID = keyID
        self.model = model
        self.endpoint = endpoint
        self.status = status
    }
}

/// What aggregate rows are grouped by. Requests without a key are grouped under the key "".
public enum UsageDimension: String, Sendable, Hashable, Codable, CaseIterable {
    case key
    case model
    case endpoint
    case status

    var column: String {
        switch self {
        case .key: "key_id"
        case .model: "model"
        case .endpoint: "endpoint"
        case .status: "status"
        }
    }
}

public enum UsageGranularity: String, Sendable, Hashable, Codable {
    case hour
    case day
}

/// The order of a top list.
public enum UsageRanking: String, Sendable, Hashable, Codable {
    case requests
    case tokens
    case errors
}

/// Sums and derived rates over a set of requests.
public struct UsageMetrics: Sendable, Hashable, Codable {
    public var requests: Int
    public var errors: Int
    public var cancelled: Int
    public var streamed: Int
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }
    /// errors / requests (0 when there were no requests).
    public var errorRate: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }
    public var averageLatencyMs: Double?
    /// Over the requests that produced a first token.
    public var averageTimeToFirstTokenMs: Double?
    /// Over the requests where it was measurable.
    public var averageTokensPerSecond: Double?

    public init(
        requests: Int = 0, errors: Int = 0, cancelled: Int = 0, streamed: Int = 0, promptTokens: Int = 0,
        completionTokens: Int = 0, averageLatencyMs: Double? = nil, averageTimeToFirstTokenMs: Double? = nil,
        averageTokensPerSecond: Double? = nil
    ) {
        self.requests = requests
        self.errors = errors
        self.cancelled = cancelled
        self.streamed = streamed
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.averageLatencyMs = averageLatencyMs
        self.averageTimeToFirstTokenMs = averageTimeToFirstTokenMs
        self.averageTokensPerSecond = averageTokensPerSecond
    }

    init(_ sums: RollupSums) {
        self.init(
            requests: sums.requests, errors: sums.errors, cancelled: sums.cancelled, streamed: sums.streamed,
            promptTokens: sums.promptTokens, completionTokens: sums.completionTokens,
            averageLatencyMs: sums.requests > 0 ? sums.latencyMsSum / Double(sums.requests) : nil,
            averageTimeToFirstTokenMs: sums.ttftCount > 0 ? sums.ttftMsSum / Double(sums.ttftCount) : nil,
            averageTokensPerSecond: sums.tpsCount > 0 ? sums.tpsSum / Double(sums.tpsCount) : nil)
    }

    enum CodingKeys: String, CodingKey {
        case requests, errors, cancelled, streamed
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case errorRate = "error_rate"
        case averageLatencyMs = "average_latency_ms"
        case averageTimeToFirstTokenMs = "average_time_to_first_token_ms"
        case averageTokensPerSecond = "average_tokens_per_second"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            requests: try container.decode(Int.self, forKey: .requests),
            errors: try container.decode(Int.self, forKey: .errors),
            cancelled: try container.decode(Int.self, forKey: .cancelled),
            streamed: try container.decode(Int.self, forKey: .streamed),
            promptTokens: try container.decode(Int.self, forKey: .promptTokens),
            completionTokens: try container.decode(Int.self, forKey: .completionTokens),
            averageLatencyMs: try container.decodeIfPresent(Double.self, forKey: .averageLatencyMs),
            averageTimeToFirstTokenMs: try container.decodeIfPresent(Double.self, forKey: .averageTimeToFirstTokenMs),
            averageTokensPerSecond: try container.decodeIfPresent(Double.self, forKey: .averageTokensPerSecond))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(requests, forKey: .requests)
        try container.encode(errors, forKey: .errors)
        try container.encode(cancelled, forKey: .cancelled)
        try container.encode(streamed, forKey: .streamed)
        try container.encode(promptTokens, forKey: .promptTokens)
        try container.encode(completionTokens, forKey: .completionTokens)
        try container.encode(totalTokens, forKey: .totalTokens)
        try container.encode(errorRate, forKey: .errorRate)
        try container.encode(averageLatencyMs, forKey: .averageLatencyMs)
        try container.encode(averageTimeToFirstTokenMs, forKey: .averageTimeToFirstTokenMs)
        try container.encode(averageTokensPerSecond, forKey: .averageTokensPerSecond)
    }
}

/// Totals of one group (or of everything, `group == nil`, when not grouped).
public struct UsageTotals: Sendable, Hashable, Codable {
    /// The key id, model, endpoint or status code (as text) of the group.
    public var group: String?
    public var metrics: UsageMetrics

    public init(group: String?, metrics: UsageMetrics) {
        self.group = group
        self.metrics = metrics
    }
}

/// One bucket of a time series. Series are sparse: buckets without requests are absent.
public struct UsageSeriesPoint: Sendable, Hashable, Codable {
    public var bucketStart: Date
    public var group: String?
    public var metrics: UsageMetrics

    public init(bucketStart: Date, group: String?, metrics: UsageMetrics) {
        self.bucketStart = bucketStart
        self.group = group
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case bucketStart = "bucket_start"
        case group, metrics
    }
}

/// Percentiles of one distribution, estimated from the histogram buckets (see `UsageHistogram`).
public struct UsageDistribution: Sendable, Hashable, Codable {
    public var count: Int
    public var p50Ms: Double?
    public var p90Ms: Double?
    /// The console's overview shows p95 (what operators compare across gateways).
    public var p95Ms: Double?
    public var p99Ms: Double?

    public init(count: Int, p50Ms: Double?, p90Ms: Double?, p99Ms: Double?, p95Ms: Double? = nil) {
        self.count = count
        self.p50Ms = p50Ms
        self.p90Ms = p90Ms
        self.p95Ms = p95Ms
        self.p99Ms = p99Ms
    }

    init(buckets: [Int]) {
        self.init(
            count: buckets.reduce(0, +), p50Ms: UsageHistogram.percentile(0.5, of: buckets),
            p90Ms: UsageHistogram.percentile(0.9, of: buckets), p99Ms: UsageHistogram.percentile(0.99, of: buckets),
            p95Ms: UsageHistogram.percentile(0.95, of: buckets))
    }

    enum CodingKeys: String, CodingKey {
        case count
        case p50Ms = "p50_ms"
        case p90Ms = "p90_ms"
        case p95Ms = "p95_ms"
        case p99Ms = "p99_ms"
    }
}

public struct UsagePercentiles: Sendable, Hashable, Codable {
    public var group: String?
    public var latency: UsageDistribution
    public var timeToFirstToken: UsageDistribution

    public init(group: String?, latency: UsageDistribution, timeToFirstToken: UsageDistribution) {
        self.group = group
        self.latency = latency
        self.timeToFirstToken = timeToFirstToken
    }

    enum CodingKeys: String, CodingKey {
        case group, latency
        case timeToFirstToken = "time_to_first_token"
    }
}

/// Position after the last entry of a log page (newest first). Keyset pagination on (time, id): stable
/// while new requests are logged, and as fast deep in the log as on its first page.
public struct UsageCursor: Sendable, Hashable, Codable {
    public var time: Date
    public var id: Int64

    public init(time: Date, id: Int64) {
        self.time = time
        self.id = id
    }

    /// Opaque text form for a URL query (`<milliseconds>.<id>`).
    public var token: String { "\(Timestamp.milliseconds(time)).\(id)" }

    public init?(token: String) {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let time = Timestamp.date(token: parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(time: time, id: id)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let cursor = UsageCursor(token: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad cursor"))
        }
        self = cursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(token)
    }
}

/// A page of the request log, or the rows of an export.
public struct UsageLogQuery: Sendable, Hashable {
    /// Inclusive lower bound.
    public var since: Date?
    /// Exclusive upper bound.
    public var until: Date?
    public var filter: UsageFilter
    public var requestID: String?
    /// Page size, 1…`UsageRepository.maximumPageSize`.
    public var limit: Int
    /// Continue after this position (the `next` of the previous page).
    public var after: UsageCursor?

    public init(
        since: Date? = nil, until: Date? = nil, filter: UsageFilter = UsageFilter(), requestID: String? = nil,
        limit: Int = 50, after: UsageCursor? = nil
    ) {
        self.since = since
        self.until = until
        self.filter = filter
        self.requestID = requestID
        self.limit = limit
        self.after = after
    }
}

public struct UsageLogPage: Sendable, Hashable, Codable {
    public var entries: [UsageLogEntry]
    /// Present when older entries may follow.
    public var next: UsageCursor?

    public init(entries: [UsageLogEntry], next: UsageCursor?) {
        self.entries = entries
        self.next = next
    }
}

/// How long usage is kept, per table, in days; `nil` keeps that table forever. The log is the largest;
/// the roll-ups are small and answer totals long after the log rows are gone. A roll-up bucket is
/// removed once it lies entirely before its cut-off.
public struct UsageRetention: Sendable, Hashable, Codable {
    public var logDays: Int?
    public var hourlyDays: Int?
    public var dailyDays: Int?

    public init(logDays: Int? = 30, hourlyDays: Int? = 90, dailyDays: Int? = 730) {
        self.logDays = logDays
        self.hourlyDays = hourlyDays
        self.dailyDays = dailyDays
    }

    enum CodingKeys: String, CodingKey {
        case logDays = "log_days"
        case hourlyDays = "hourly_days"
        case dailyDays = "daily_days"
    }
}

public struct UsagePruneResult: Sendable, Hashable, Codable {
    public var logRows: Int
    public var hourlyRows: Int
    public var dailyRows: Int

    public init(logRows: Int = 0, hourlyRows: Int = 0, dailyRows: Int = 0) {
        self.logRows = logRows
        self.hourlyRows = hourlyRows
        self.dailyRows = dailyRows
    }

    enum CodingKeys: String, CodingKey {
        case logRows = "log_rows"
        case hourlyRows = "hourly_rows"
        case dailyRows = "daily_rows"
    }
}
