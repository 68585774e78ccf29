import Foundation
import SQLKit

/// Names and shapes shared by the usage migration, the batch insert and the queries.
enum UsageSchema {
    static let maximumIDLength = 128
    static let maximumNameLength = 256
    static let maximumUserAgentLength = 512

    /// The model a log row is filtered by; identical to the expression of the `usage_log_model` index
    /// so that both engines use that index.
    static let logModelExpression = "COALESCE(model_resolved, model_requested, '')"

    static let logColumns = [
        "occurred_at", "request_id", "key_id", "model_requested", "model_resolved", "endpoint", "streamed",
        "status", "error_type", "prompt_tokens", "completion_tokens", "cancelled", "latency_ms", "ttft_ms",
        "tokens_per_second", "client_address", "user_agent", "backend",
    ]

    static let latencyBucketColumns = (0..<UsageHistogram.bucketCount).map { "lat_" + twoDigits($0) }
    static let ttftBucketColumns = (0..<UsageHistogram.bucketCount).map { "ttft_" + twoDigits($0) }

    /// Integer sums of a roll-up row, in the order of `RollupSums.integers`.
    static let integerColumns = [
        "requests", "errors", "cancelled", "streamed", "prompt_tokens", "completion_tokens", "ttft_count",
        "tps_count",
    ]
    /// Floating-point sums, in the order of `RollupSums.doubles`.
    static let doubleColumns = ["latency_ms_sum", "ttft_ms_sum", "tps_sum"]

    static let dimensionColumns = ["bucket_start", "key_id", "model", "endpoint", "status"]

    /// usage_hourly, usage_hourly_by_key, … usage_daily_by_status.
    static var rollupTableNames: [String] { RollupTable.allNames }
    static var valueColumns: [String] { integerColumns + doubleColumns + latencyBucketColumns + ttftBucketColumns }

    static var rollupValueColumnsDDL: String {
        (integerColumns.map { "\($0) BIGINT NOT NULL DEFAULT 0" }
            + doubleColumns.map { "\($0) DOUBLE PRECISION NOT NULL DEFAULT 0" }
            + (latencyBucketColumns + ttftBucketColumns).map { "\($0) BIGINT NOT NULL DEFAULT 0" })
            .joined(separator: ",\n    ")
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

/// A roll-up table: its name and the length of its buckets.
enum RollupTable: String, Sendable, CaseIterable {
    case hourly = "usage_hourly"
    case daily = "usage_daily"

    static let hourMilliseconds: Int64 = 3_600_000
    static let dayMilliseconds: Int64 = 86_400_000

    var bucketMilliseconds: Int64 { self == .hourly ? Self.hourMilliseconds : Self.dayMilliseconds }

    /// Start of the bucket holding `milliseconds` (UTC hours and days).
    func bucketStart(_ milliseconds: Int64) -> Int64 {
        Self.floor(milliseconds, to: bucketMilliseconds)
    }

    static func floor(_ value: Int64, to step: Int64) -> Int64 {
        let remainder = value % step
        return remainder < 0 ? value - remainder - step : value - remainder
    }

    static func ceil(_ value: Int64, to step: Int64) -> Int64 {
        let floored = floor(value, to: step)
        return floored == value ? value : floored + step
    }
}

/// What a roll-up table keeps apart. The full cube (`usage_hourly`, `usage_daily`) keeps every
/// dimension and answers any combination of filters; the per-dimension tables keep one dimension and
/// the status (the others stored as "") and are 4–50 times smaller, so the common queries — overall,
/// or by or for one key, model or endpoint — read a few thousand rows even over a month of heavy
/// traffic.
enum RollupLevel: String, Sendable, CaseIterable {
    case cube = ""
    case key = "_by_key"
    case model = "_by_model"
    case endpoint = "_by_endpoint"
    case status = "_by_status"

    /// The row of this level that a cube row adds to.
    func collapse(_ key: RollupKey) -> RollupKey {
        var collapsed = key
        if self != .cube && self != .key { collapsed.keyID = "" }
        if self != .cube && self != .model { collapsed.model = "" }
        if self != .cube && self != .endpoint { collapsed.endpoint = "" }
        return collapsed
    }

    /// The smallest level that holds every dimension a query filters or groups by.
    static func covering(filter: UsageFilter, groupBy: UsageDimension?) -> RollupLevel {
        var used: Set<UsageDimension> = []
        if filter.keyID != nil { used.insert(.key) }
        if filter.model != nil { used.insert(.model) }
        if filter.endpoint != nil { used.insert(.endpoint) }
        if let groupBy, groupBy != .status { used.insert(groupBy) }
        switch used.count {
        case 0: return .status
        case 1:
            switch used.first! {
            case .key: return .key
            case .model: return .model
            case .endpoint: return .endpoint
            case .status: return .status
            }
        default: return .cube
        }
    }
}

extension RollupTable {
    func name(_ level: RollupLevel) -> String { rawValue + level.rawValue }

    /// Every roll-up table, in the order a batch writes them (the same order for every writer).
    static var allNames: [String] {
        allCases.flatMap { table in RollupLevel.allCases.map { table.name($0) } }
    }
}

/// The identity of a roll-up row.
struct RollupKey: Hashable, Comparable, Sendable {
    var bucketStart: Int64
    var keyID: String
    var model: String
    var endpoint: String
    var status: Int

    static func < (lhs: RollupKey, rhs: RollupKey) -> Bool {
        (lhs.bucketStart, lhs.keyID, lhs.model, lhs.endpoint, lhs.status)
            < (rhs.bucketStart, rhs.keyID, rhs.model, rhs.endpoint, rhs.status)
    }
}

/// The additive values of a roll-up row: what a batch adds, and what queries sum.
struct RollupSums: Sendable, Hashable {
    var requests = 0
    var errors = 0
    var cancelled = 0
    var streamed = 0
    var promptTokens = 0
    var completionTokens = 0
    var ttftCount = 0
    var tpsCount = 0
    var latencyMsSum = 0.0
    var ttftMsSum = 0.0
    var tpsSum = 0.0
    var latencyBuckets = [Int](repeating: 0, count: UsageHistogram.bucketCount)
    var ttftBuckets = [Int](repeating: 0, count: UsageHistogram.bucketCount)

    mutating func add(_ record: UsageRecord) {
        requests += 1
        if record.isError { errors += 1 }
        if record.cancelled { cancelled += 1 }
        if record.streamed { streamed += 1 }
        promptTokens += record.promptTokens
        completionTokens += record.completionTokens
        latencyMsSum += record.latencyMs
        latencyBuckets[UsageHistogram.bucket(for: record.latencyMs)] += 1
        if let ttft = record.timeToFirstTokenMs {
            ttftCount += 1
            ttftMsSum += ttft
            ttftBuckets[UsageHistogram.bucket(for: ttft)] += 1
        }
        if let tps = record.tokensPerSecond {
            tpsCount += 1
            tpsSum += tps
        }
    }

    mutating func add(_ other: RollupSums, histograms: Bool = true) {
        requests += other.requests
        errors += other.errors
        cancelled += other.cancelled
        streamed += other.streamed
        promptTokens += other.promptTokens
        completionTokens += other.completionTokens
        ttftCount += other.ttftCount
        tpsCount += other.tpsCount
        latencyMsSum += other.latencyMsSum
        ttftMsSum += other.ttftMsSum
        tpsSum += other.tpsSum
        if histograms {
            for index in 0..<UsageHistogram.bucketCount {
                latencyBuckets[index] += other.latencyBuckets[index]
                ttftBuckets[index] += other.ttftBuckets[index]
            }
        }
    }

    var integers: [Int] {
        [requests, errors, cancelled, streamed, promptTokens, completionTokens, ttftCount, tpsCount]
    }

    var doubles: [Double] { [latencyMsSum, ttftMsSum, tpsSum] }

    /// `SUM(…)` of every value column, or of all but the histograms, cast so that both engines hand back
    /// BIGINT and DOUBLE PRECISION (PostgreSQL's SUM of BIGINT is NUMERIC).
    static func selectList(histograms: Bool) -> String {
        var items = UsageSchema.integerColumns.map { "CAST(COALESCE(SUM(\($0)), 0) AS BIGINT) AS \($0)" }
        items += UsageSchema.doubleColumns.map { "CAST(COALESCE(SUM(\($0)), 0) AS DOUBLE PRECISION) AS \($0)" }
        if histograms {
            items += (UsageSchema.latencyBucketColumns + UsageSchema.ttftBucketColumns).map {
                "CAST(COALESCE(SUM(\($0)), 0) AS BIGINT) AS \($0)"
            }
        }
        return items.joined(separator: ", ")
    }

    init() {}

    init(row: any SQLRow, histograms: Bool) throws {
        requests = try row.int("requests")
        errors = try row.int("errors")
        cancelled = try row.int("cancelled")
        streamed = try row.int("streamed")
        promptTokens = try row.int("prompt_tokens")
        completionTokens = try row.int("completion_tokens")
        ttftCount = try row.int("ttft_count")
        tpsCount = try row.int("tps_count")
        latencyMsSum = try row.decode(column: "latency_ms_sum", as: Double.self)
        ttftMsSum = try row.decode(column: "ttft_ms_sum", as: Double.self)
        tpsSum = try row.decode(column: "tps_sum", as: Double.self)
        if histograms {
            latencyBuckets = try UsageSchema.latencyBucketColumns.map { try row.int($0) }
            ttftBuckets = try UsageSchema.ttftBucketColumns.map { try row.int($0) }
        }
    }
}

extension RollupTable {
    /// The batch's contribution to this table, keyed and summed in memory.
    func aggregate(_ records: [UsageRecord]) -> [RollupKey: RollupSums] {
        var rows: [RollupKey: RollupSums] = [:]
        for record in records {
            let key = RollupKey(
                bucketStart: bucketStart(Timestamp.milliseconds(record.time)), keyID: record.keyID ?? "",
                model: record.accountedModel, endpoint: record.endpoint, status: record.status)
            rows[key, default: RollupSums()].add(record)
        }
        return rows
    }

    /// The cube rows of a batch folded into one level's rows.
    static func collapse(_ cube: [RollupKey: RollupSums], to level: RollupLevel) -> [RollupKey: RollupSums] {
        guard level != .cube else { return cube }
        var rows: [RollupKey: RollupSums] = [:]
        for (key, sums) in cube {
            rows[level.collapse(key), default: RollupSums()].add(sums)
        }
        return rows
    }

    /// Rows per upsert statement: about 100 binds a row, well under SQLite's 32,766 and PostgreSQL's
    /// 65,535 bind limits.
    static let upsertChunk = 200

    /// One multi-row `INSERT … ON CONFLICT DO UPDATE` adding `rows` to the table. The rows must be
    /// sorted: every writer then locks roll-up rows in the same order, so two instances inserting at
    /// once on PostgreSQL wait for each other instead of deadlocking.
    func upsert(_ rows: ArraySlice<(key: RollupKey, value: RollupSums)>, level: RollupLevel) -> SQLQueryString {
        let table = name(level)
        let columns = UsageSchema.dimensionColumns + UsageSchema.valueColumns
        let head = "INSERT INTO " + table + " (" + columns.joined(separator: ", ") + ") VALUES "
        var statement = SQLQueryString(head)
        var first = true
        for (key, sums) in rows {
            // Numbers are written as SQL literals (they are ours, and binding ~100 values a row is what
            // would make large batches slow); only the text columns are bound.
            var numbers = sums.integers.map(String.init)
            numbers += sums.doubles.map(SQLNumber.text)
            numbers += (sums.latencyBuckets + sums.ttftBuckets).map(String.init)
            statement += SQLQueryString(first ? "(" : ", (")
            statement += "\(unsafeRaw: String(key.bucketStart)), \(bind: key.keyID), \(bind: key.model), "
            statement += "\(bind: key.endpoint), \(unsafeRaw: String(key.status)), "
            statement += SQLQueryString(numbers.joined(separator: ", ") + ")")
            first = false
        }
        let updates = UsageSchema.valueColumns.map { "\($0) = \(table).\($0) + excluded.\($0)" }
        statement += SQLQueryString(
            " ON CONFLICT (\(UsageSchema.dimensionColumns.joined(separator: ", "))) DO UPDATE SET "
                + updates.joined(separator: ", "))
        return statement
    }
}

/// Numbers the store computed, as SQL literals valid on both engines.
enum SQLNumber {
    /// A finite double (non-finite values, which no column accepts, become 0).
    static func text(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "0"
    }

    static func text(_ value: Double?) -> String {
        value.map(text) ?? "NULL"
    }
}
