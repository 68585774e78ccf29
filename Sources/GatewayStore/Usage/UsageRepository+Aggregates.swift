import Foundation
import SQLKit

/// A stretch of one roll-up table: `[from, to)` in epoch milliseconds, on bucket boundaries.
struct RollupSpan: Sendable, Hashable {
    var table: RollupTable
    var from: Int64
    var to: Int64

    /// The cheapest cover of a range: whole days from the daily table, the partial days at either end
    /// from the hourly table. The range is first widened to whole hours (UTC), the resolution of the
    /// roll-ups.
    static func cover(from: Date, to: Date) -> [RollupSpan] {
        let hour = RollupTable.hourMilliseconds
        let day = RollupTable.dayMilliseconds
        let start = RollupTable.floor(Timestamp.milliseconds(from), to: hour)
        let end = RollupTable.ceil(Timestamp.milliseconds(to), to: hour)
        guard start < end else { return [] }
        let firstDay = RollupTable.ceil(start, to: day)
        let lastDay = RollupTable.floor(end, to: day)
        guard firstDay < lastDay else { return [RollupSpan(table: .hourly, from: start, to: end)] }
        var spans: [RollupSpan] = []
        if start < firstDay { spans.append(RollupSpan(table: .hourly, from: start, to: firstDay)) }
        spans.append(RollupSpan(table: .daily, from: firstDay, to: lastDay))
        if lastDay < end { spans.append(RollupSpan(table: .hourly, from: lastDay, to: end)) }
        return spans
    }

    /// One table at the series' granularity, widened to whole buckets.
    static func series(from: Date, to: Date, granularity: UsageGranularity) -> RollupSpan? {
        let table: RollupTable = granularity == .hour ? .hourly : .daily
        let start = table.bucketStart(Timestamp.milliseconds(from))
        let end = RollupTable.ceil(Timestamp.milliseconds(to), to: table.bucketMilliseconds)
        return start < end ? RollupSpan(table: table, from: start, to: end) : nil
    }
}

/// One grouped row of a roll-up query.
struct RollupGroupRow: Sendable {
    var bucketStart: Int64?
    var group: String?
    var sums: RollupSums
}

extension UsageRepository {
    // MARK: - Aggregates from the roll-ups

    /// Totals over `[from, to)` (widened to whole UTC hours), optionally grouped. Without `groupBy`, one
    /// row with `group == nil` (zero requests when nothing matched). Grouped rows come most requests
    /// first. Each row carries its error rate.
    public func totals(
        from: Date, to: Date, filter: UsageFilter = UsageFilter(), groupBy: UsageDimension? = nil
    ) async throws -> [UsageTotals] {
        let merged = try await mergedGroups(from: from, to: to, filter: filter, groupBy: groupBy, histograms: false)
        if groupBy == nil {
            return [UsageTotals(group: nil, metrics: UsageMetrics(merged[nil] ?? RollupSums()))]
        }
        return merged.map { UsageTotals(group: $0.key, metrics: UsageMetrics($0.value)) }
            .sorted { ($0.metrics.requests, $1.group ?? "") > ($1.metrics.requests, $0.group ?? "") }
    }

    /// A time series by hour or by day (UTC), optionally one line per group. Sparse: buckets without
    /// requests are absent. Ordered by bucket, then group.
    public func series(
        from: Date, to: Date, granularity: UsageGranularity, filter: UsageFilter = UsageFilter(),
        groupBy: UsageDimension? = nil
    ) async throws -> [UsageSeriesPoint] {
        guard let span = RollupSpan.series(from: from, to: to, granularity: granularity) else { return [] }
        let rows = try await rollupRows(span, filter: filter, groupBy: groupBy, byBucket: true, histograms: false)
        return rows.map {
            UsageSeriesPoint(
                bucketStart: Timestamp.date($0.bucketStart ?? span.from), group: $0.group, metrics: UsageMetrics($0.sums))
        }.sorted { ($0.bucketStart, $0.group ?? "") < ($1.bucketStart, $1.group ?? "") }
    }

    /// The `limit` keys, models, endpoints or statuses with the most requests, tokens or errors.
    public func top(
        _ dimension: UsageDimension, by ranking: UsageRanking, from: Date, to: Date,
        filter: UsageFilter = UsageFilter(), limit: Int = 10
    ) async throws -> [UsageTotals] {
        let rows = try await totals(from: from, to: to, filter: filter, groupBy: dimension)
        func score(_ metrics: UsageMetrics) -> Int {
            switch ranking {
            case .requests: metrics.requests
            case .tokens: metrics.totalTokens
            case .errors: metrics.errors
            }
        }
        return Array(
            rows.sorted { (score($0.metrics), $1.group ?? "") > (score($1.metrics), $0.group ?? "") }
                .prefix(max(0, limit)))
    }

    /// Latency and time-to-first-token percentiles (p50, p90, p99) from the histogram buckets of the
    /// roll-ups, over `[from, to)` widened to whole hours, optionally per group (most requests first).
    public func percentiles(
        from: Date, to: Date, filter: UsageFilter = UsageFilter(), groupBy: UsageDimension? = nil
    ) async throws -> [UsagePercentiles] {
        var merged = try await mergedGroups(from: from, to: to, filter: filter, groupBy: groupBy, histograms: true)
        if groupBy == nil, merged.isEmpty { merged[nil] = RollupSums() }
        return merged.sorted { ($0.value.requests, $1.key ?? "") > ($1.value.requests, $0.key ?? "") }.map {
            UsagePercentiles(
                group: $0.key, latency: UsageDistribution(buckets: $0.value.latencyBuckets),
                timeToFirstToken: UsageDistribution(buckets: $0.value.ttftBuckets))
        }
    }

    // MARK: - Roll-up access

    func mergedGroups(
        from: Date, to: Date, filter: UsageFilter, groupBy: UsageDimension?, histograms: Bool
    ) async throws -> [String?: RollupSums] {
        var merged: [String?: RollupSums] = [:]
        for span in RollupSpan.cover(from: from, to: to) {
            for row in try await rollupRows(span, filter: filter, groupBy: groupBy, byBucket: false, histograms: histograms) {
                merged[row.group, default: RollupSums()].add(row.sums, histograms: histograms)
            }
        }
        return merged
    }

    func rollupRows(
        _ span: RollupSpan, filter: UsageFilter, groupBy: UsageDimension?, byBucket: Bool, histograms: Bool
    ) async throws -> [RollupGroupRow] {
        var conditions: [SQLQueryString] = [
            "bucket_start >= \(bind: span.from)", "bucket_start < \(bind: span.to)",
        ]
        if let keyID = filter.keyID { conditions.append("key_id = \(bind: keyID)") }
        if let model = filter.model { conditions.append("model = \(bind: model)") }
        if let endpoint = filter.endpoint { conditions.append("endpoint = \(bind: endpoint)") }
        if let status = filter.status {
            switch status {
            case .exact(let code): conditions.append("status = \(bind: Int64(code))")
            case .family:
                conditions.append(
                    "status >= \(bind: Int64(status.range.lowerBound)) AND status < \(bind: Int64(status.range.upperBound))")
            }
        }
        var keys: [String] = []
        if byBucket { keys.append("bucket_start") }
        if let groupBy { keys.append(groupBy.column) }
        let select = (keys + [RollupSums.selectList(histograms: histograms)]).joined(separator: ", ")
        let table = span.table.name(RollupLevel.covering(filter: filter, groupBy: groupBy))
        var statement = SQLQueryString("SELECT " + select + " FROM " + table + " WHERE ")
        statement = statement + conditions.joined(separator: " AND ")
        if !keys.isEmpty {
            statement = statement + SQLQueryString(" GROUP BY " + keys.joined(separator: ", "))
        }
        let rows = try await sql.raw(statement).all()
        return try rows.compactMap { row in
            let sums = try RollupSums(row: row, histograms: histograms)
            // Without GROUP BY an empty range still yields one all-zero row.
            if keys.isEmpty, sums.requests == 0 { return nil }
            var group: String?
            if let groupBy {
                group = groupBy == .status ? String(try row.int(groupBy.column)) : try row.string(groupBy.column)
            }
            return RollupGroupRow(
                bucketStart: byBucket ? try row.decode(column: "bucket_start", as: Int64.self) : nil,
                group: group, sums: sums)
        }
    }
}
