import Foundation
import Testing

@testable import GatewayStore

/// What the roll-ups must answer, computed directly from the records.
func expectedMetrics(_ records: [UsageRecord]) -> UsageMetrics {
    var sums = RollupSums()
    for record in records { sums.add(record.normalized) }
    return UsageMetrics(sums)
}

func group(_ record: UsageRecord, by dimension: UsageDimension) -> String {
    switch dimension {
    case .key: record.keyID ?? ""
    case .model: record.accountedModel
    case .endpoint: record.endpoint
    case .status: String(record.status)
    }
}

func expectClose(_ actual: UsageMetrics, _ expected: UsageMetrics, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.requests == expected.requests, sourceLocation: sourceLocation)
    #expect(actual.errors == expected.errors, sourceLocation: sourceLocation)
    #expect(actual.cancelled == expected.cancelled, sourceLocation: sourceLocation)
    #expect(actual.streamed == expected.streamed, sourceLocation: sourceLocation)
    #expect(actual.promptTokens == expected.promptTokens, sourceLocation: sourceLocation)
    #expect(actual.completionTokens == expected.completionTokens, sourceLocation: sourceLocation)
    for (a, e) in [
        (actual.averageLatencyMs, expected.averageLatencyMs),
        (actual.averageTimeToFirstTokenMs, expected.averageTimeToFirstTokenMs),
        (actual.averageTokensPerSecond, expected.averageTokensPerSecond),
    ] {
        #expect((a == nil) == (e == nil), sourceLocation: sourceLocation)
        if let a, let e { #expect(abs(a - e) < 1e-6 * max(1, e), sourceLocation: sourceLocation) }
    }
}

/// Nearest-rank percentile of raw values.
func truePercentile(_ quantile: Double, _ values: [Double]) -> Double {
    let sorted = values.sorted()
    let rank = max(1, Int((quantile * Double(sorted.count)).rounded(.up)))
    return sorted[rank - 1]
}

@Suite("Usage roll-ups")
struct UsageAggregateTests {
    /// 1,000 records over about 2.4 days, inserted in uneven batches.
    static func seeded(_ usage: UsageRepository) async throws -> [UsageRecord] {
        let records = UsageFixture.records(count: 1000)
        var start = 0
        for size in [1, 99, 400, 500] {
            try await usage.insert(Array(records[start..<(start + size)]))
            start += size
        }
        return records
    }

    @Test("totals overall and per key, model, endpoint and status", arguments: TestEngine.available)
    func totals(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = try await Self.seeded(usage)
            let from = referenceTime.addingTimeInterval(-86_400)
            let to = referenceTime.addingTimeInterval(5 * 86_400)

            let overall = try await usage.totals(from: from, to: to)
            #expect(overall.count == 1)
            #expect(overall[0].group == nil)
            expectClose(overall[0].metrics, expectedMetrics(records))
            #expect(overall[0].metrics.errors == records.filter { $0.status >= 400 }.count)
            #expect(overall[0].metrics.cancelled > 0)

            for dimension in UsageDimension.allCases {
                let rows = try await usage.totals(from: from, to: to, groupBy: dimension)
                let expected = Dictionary(grouping: records) { group($0, by: dimension) }
                #expect(Set(rows.map(\.group)) == Set(expected.keys.map { Optional($0) }), "\(dimension)")
                for row in rows { expectClose(row.metrics, expectedMetrics(expected[row.group!]!)) }
                #expect(rows.map(\.metrics.requests) == rows.map(\.metrics.requests).sorted(by: >))
            }

            // Filters on the roll-ups, combined.
            let filter = UsageFilter(keyID: "key_a", status: .family(5))
            let filtered = try await usage.totals(from: from, to: to, filter: filter, groupBy: .model)
            let want = Dictionary(grouping: records.filter { $0.keyID == "key_a" && $0.status >= 500 }) { $0.accountedModel }
            #expect(filtered.count == want.count)
            for row in filtered { expectClose(row.metrics, expectedMetrics(want[row.group!]!)) }
            let none = try await usage.totals(from: from, to: to, filter: UsageFilter(endpoint: "/nowhere"))
            #expect(none == [UsageTotals(group: nil, metrics: UsageMetrics())])
        }
    }

    @Test("ranges that cut days and hours are widened to whole hours", arguments: TestEngine.available)
    func partialRanges(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = try await Self.seeded(usage)
            let hour = 3600.0
            // Starts 5.5 hours in (mid-hour, mid-day), ends 50.25 hours in: hourly, daily and hourly spans.
            let from = referenceTime.addingTimeInterval(5.5 * hour)
            let to = referenceTime.addingTimeInterval(50.25 * hour)
            let lower = referenceTime.addingTimeInterval(5 * hour)
            let upper = referenceTime.addingTimeInterval(51 * hour)
            #expect(RollupSpan.cover(from: from, to: to).map(\.table) == [.hourly, .daily, .hourly])
            let inRange = records.filter { $0.time >= lower && $0.time < upper }
            let totals = try await usage.totals(from: from, to: to, groupBy: .endpoint)
            let expected = Dictionary(grouping: inRange) { $0.endpoint }
            #expect(totals.count == expected.count)
            for row in totals { expectClose(row.metrics, expectedMetrics(expected[row.group!]!)) }
            // Within one day: hourly only.
            let short = try await usage.totals(from: from, to: from.addingTimeInterval(2 * hour))
            expectClose(short[0].metrics, expectedMetrics(records.filter {
                $0.time >= lower && $0.time < lower.addingTimeInterval(3 * hour)
            }))
        }
    }

    @Test("time series by hour and by day, per group", arguments: TestEngine.available)
    func series(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = try await Self.seeded(usage)
            let from = referenceTime.addingTimeInterval(-86_400 * 2)
            let to = referenceTime.addingTimeInterval(86_400 * 4)
            for granularity in [UsageGranularity.hour, .day] {
                let step: Int64 = granularity == .hour ? 3_600_000 : 86_400_000
                func bucket(_ record: UsageRecord) -> Date {
                    Timestamp.date(RollupTable.floor(Timestamp.milliseconds(record.time), to: step))
                }
                let overall = try await usage.series(from: from, to: to, granularity: granularity)
                let expected = Dictionary(grouping: records, by: bucket)
                #expect(overall.map(\.bucketStart) == expected.keys.sorted())
                for point in overall {
                    #expect(point.group == nil)
                    expectClose(point.metrics, expectedMetrics(expected[point.bucketStart]!))
                }
                let perModel = try await usage.series(
                    from: from, to: to, granularity: granularity, filter: UsageFilter(keyID: "key_c"), groupBy: .model)
                let want = Dictionary(grouping: records.filter { $0.keyID == "key_c" }) {
                    "\(Timestamp.milliseconds(bucket($0)))|\($0.accountedModel)"
                }
                #expect(perModel.count == want.count)
                for point in perModel {
                    let key = "\(Timestamp.milliseconds(point.bucketStart))|\(point.group!)"
                    expectClose(point.metrics, expectedMetrics(want[key]!))
                }
            }
            // The daily series has one point per UTC day touched.
            let days = try await usage.series(from: from, to: to, granularity: .day)
            #expect(days.count == 3)
        }
    }

    @Test("top keys and models by requests, tokens and errors", arguments: TestEngine.available)
    func top(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            var records = try await Self.seeded(usage)
            // A heavy model for one key, so that the orders by requests and by tokens differ.
            let heavy = (0..<5).map { index in
                UsageRecord(
                    time: referenceTime.addingTimeInterval(Double(index)), requestID: "heavy_\(index)", keyID: "key_z",
                    modelRequested: "big", modelResolved: "big:70b", endpoint: "/api/generate", streamed: false,
                    status: 200, promptTokens: 100_000, completionTokens: 50_000, latencyMs: 60_000)
            }
            try await usage.insert(heavy)
            records += heavy
            let from = referenceTime
            let to = referenceTime.addingTimeInterval(86_400 * 3)
            for dimension in [UsageDimension.key, .model] {
                for ranking in [UsageRanking.requests, .tokens, .errors] {
                    let top = try await usage.top(dimension, by: ranking, from: from, to: to, limit: 3)
                    let grouped = Dictionary(grouping: records) { group($0, by: dimension) }.mapValues(expectedMetrics)
                    func score(_ m: UsageMetrics) -> Int {
                        ranking == .requests ? m.requests : ranking == .tokens ? m.totalTokens : m.errors
                    }
                    let want = grouped.sorted { (score($0.value), $1.key) > (score($1.value), $0.key) }.prefix(3)
                    #expect(top.map(\.group) == want.map(\.key), "\(dimension) by \(ranking)")
                    for (row, expected) in zip(top, want) { expectClose(row.metrics, expected.value) }
                }
            }
            #expect(try await usage.top(.key, by: .tokens, from: from, to: to, limit: 1).first?.group == "key_z")
            #expect(try await usage.top(.model, by: .requests, from: from, to: to, limit: 1).first?.group != "big:70b")
        }
    }

    @Test("percentiles fall in the bucket of the true value", arguments: TestEngine.available)
    func percentiles(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = try await Self.seeded(usage)
            let from = referenceTime
            let to = referenceTime.addingTimeInterval(86_400 * 3)

            func check(_ distribution: UsageDistribution, _ values: [Double]) {
                #expect(distribution.count == values.count)
                for (quantile, estimate) in [(0.5, distribution.p50Ms), (0.9, distribution.p90Ms), (0.95, distribution.p95Ms), (0.99, distribution.p99Ms)] {
                    let truth = truePercentile(quantile, values)
                    let got = try! #require(estimate)
                    #expect(
                        abs(UsageHistogram.bucket(for: got) - UsageHistogram.bucket(for: truth)) <= 1,
                        "p\(Int(quantile * 100)): \(got) vs \(truth)")
                }
            }
            let overall = try await usage.percentiles(from: from, to: to)
            #expect(overall.count == 1)
            check(overall[0].latency, records.map(\.latencyMs))
            check(overall[0].timeToFirstToken, records.compactMap(\.timeToFirstTokenMs))

            let perKey = try await usage.percentiles(from: from, to: to, groupBy: .key)
            let grouped = Dictionary(grouping: records) { $0.keyID ?? "" }
            #expect(perKey.count == grouped.count)
            for row in perKey { check(row.latency, grouped[row.group!]!.map(\.latencyMs)) }

            let empty = try await usage.percentiles(from: from, to: to, filter: UsageFilter(keyID: "nobody"))
            #expect(empty == [UsagePercentiles(
                group: nil, latency: UsageDistribution(count: 0, p50Ms: nil, p90Ms: nil, p99Ms: nil),
                timeToFirstToken: UsageDistribution(count: 0, p50Ms: nil, p90Ms: nil, p99Ms: nil))])
        }
    }

    @Test("histogram buckets and percentile estimates")
    func histogram() {
        #expect(UsageHistogram.bucket(for: 0.5) == 0)
        #expect(UsageHistogram.bucket(for: 1) == 1)
        #expect(UsageHistogram.bucket(for: 1.5) == 2)
        #expect(UsageHistogram.bucket(for: 2) == 3)
        #expect(UsageHistogram.bucket(for: 1_000_000_000) == UsageHistogram.bucketCount - 1)
        #expect(UsageHistogram.bucket(for: .nan) == 0)
        for bucket in 1..<(UsageHistogram.bucketCount - 1) {
            #expect(UsageHistogram.bucket(for: UsageHistogram.lowerBound(of: bucket)) == bucket)
            #expect(UsageHistogram.bucket(for: UsageHistogram.upperBound(of: bucket) * 0.999_999) == bucket)
        }
        var counts = [Int](repeating: 0, count: UsageHistogram.bucketCount)
        counts[10] = 100
        let p50 = UsageHistogram.percentile(0.5, of: counts)!
        #expect(p50 >= UsageHistogram.lowerBound(of: 10) && p50 < UsageHistogram.upperBound(of: 10))
        #expect(UsageHistogram.percentile(0.5, of: [Int](repeating: 0, count: 40)) == nil)
    }

    @Test("two instances inserting at once keep the roll-ups exact", arguments: TestEngine.available)
    func concurrentInstances(engine: TestEngine) async throws {
        try await withTestLocation(engine) { open in
            let first = testStore(try await open(true)).usage
            let second = testStore(try await open(true)).usage
            // Every batch of both instances hits the same roll-up rows (same hours, keys, models…).
            let records = UsageFixture.records(count: 1200)
            let batches = stride(from: 0, to: records.count, by: 100).map { Array(records[$0..<min($0 + 100, records.count)]) }
            // Each instance writes its batches one after the other, as its usage recorder does; the two
            // instances run at the same time.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (instance, usage) in [first, second].enumerated() {
                    group.addTask {
                        for (index, batch) in batches.enumerated() where index % 2 == instance {
                            try await usage.insert(batch)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let from = referenceTime.addingTimeInterval(-86_400)
            let to = referenceTime.addingTimeInterval(86_400 * 5)
            let totals = try await first.totals(from: from, to: to, groupBy: .key)
            let expected = Dictionary(grouping: records) { $0.keyID ?? "" }
            #expect(totals.count == expected.count)
            for row in totals { expectClose(row.metrics, expectedMetrics(expected[row.group!]!)) }
            let hourly = try await second.series(from: from, to: to, granularity: .hour)
            #expect(hourly.map(\.metrics.requests).reduce(0, +) == records.count)
            var logged = 0
            var query = UsageLogQuery(limit: 1000)
            repeat {
                let page = try await second.log(query)
                logged += page.entries.count
                query.after = page.next
            } while query.after != nil
            #expect(logged == records.count)
        }
    }
}
