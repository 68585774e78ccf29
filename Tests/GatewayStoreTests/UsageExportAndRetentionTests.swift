import Foundation
import Testing

@testable import GatewayStore

@Suite("Usage export and retention")
struct UsageExportAndRetentionTests {
    @Test("CSV export: every filtered row, newest first, quoted and formula-safe", arguments: TestEngine.available)
    func csv(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = UsageFixture.records(count: 250)
            try await usage.insert(records)
            let filter = UsageFilter(keyID: "key_a")
            var chunks: [String] = []
            for try await chunk in usage.export(UsageLogQuery(filter: filter), format: .csv, pageSize: 20) {
                chunks.append(chunk)
            }
            let want = records.enumerated().filter { $0.element.keyID == "key_a" }
                .sorted { ($0.element.time, $0.offset) > ($1.element.time, $1.offset) }.map(\.element)
            #expect(chunks.count == (want.count + 19) / 20)
            let text = chunks.joined()
            let lines = text.components(separatedBy: "\r\n").dropLast()
            #expect(lines.first == UsageCSV.columns.joined(separator: ","))
            #expect(lines.count == want.count + 1)
            let ids = try await usage.log(UsageLogQuery(filter: filter, limit: 1000)).entries.map(\.id)
            for (line, (record, id)) in zip(lines.dropFirst(), zip(want, ids)) {
                #expect(line.hasPrefix("\(id),\(UsageCSV.timestamp(record.time)),\(record.requestID),key_a,"))
                if record.userAgent?.hasPrefix("=") == true {
                    #expect(line.hasSuffix(",\"'=cmd|' /C calc'!A0, \"\"quoted\"\"\","))
                } else {
                    // The last column, the backend, is empty: these records were made without one.
                    #expect(line.hasSuffix(",openai-python/1.0,"))
                }
            }
            #expect(UsageCSV.timestamp(referenceTime.addingTimeInterval(0.123)) == "2027-01-15T08:00:00.123Z")
            #expect(UsageCSV.timestamp(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
            #expect(UsageCSV.text("-1+1") == "'-1+1")
            #expect(UsageCSV.text("a\nb") == "\"a\nb\"")

            var empty = ""
            for try await chunk in usage.export(UsageLogQuery(filter: UsageFilter(keyID: "none")), format: .csv) {
                empty += chunk
            }
            #expect(empty == UsageCSV.header)
        }
    }

    @Test("JSON export decodes to exactly the logged entries", arguments: TestEngine.available)
    func json(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = UsageFixture.records(count: 120)
            try await usage.insert(records)
            let since = referenceTime.addingTimeInterval(3600)
            var text = ""
            var chunks = 0
            for try await chunk in usage.export(UsageLogQuery(since: since), format: .json, pageSize: 25) {
                text += chunk
                chunks += 1
            }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .custom { decoder in
                let value = try decoder.singleValueContainer().decode(String.self)
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                return try #require(formatter.date(from: value))
            }
            let entries = try decoder.decode([UsageLogEntry].self, from: Data(text.utf8))
            let logged = try await usage.log(UsageLogQuery(since: since, limit: 1000)).entries
            #expect(entries == logged)
            #expect(entries.count == records.filter { $0.time >= since }.count)
            #expect(chunks == (entries.count + 24) / 25 + 1)
            #expect(text.contains("\"request_id\":\"req_"))

            var empty = ""
            for try await chunk in usage.export(UsageLogQuery(requestID: "none"), format: .json) { empty += chunk }
            #expect(try decoder.decode([UsageLogEntry].self, from: Data(empty.utf8)).isEmpty)
        }
    }

    @Test("pruning removes old log rows in chunks and whole old roll-up buckets", arguments: TestEngine.available)
    func prune(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let day = 86_400.0
            // 10 records a day for 20 days, starting at a UTC midnight.
            let midnight = Timestamp.date(RollupTable.floor(Timestamp.milliseconds(referenceTime), to: RollupTable.dayMilliseconds))
            let records = (0..<200).map { index in
                UsageRecord(
                    time: midnight.addingTimeInterval(Double(index / 10) * day + Double(index % 10) * 3600),
                    requestID: "r\(index)", keyID: "key_a", modelRequested: "m", modelResolved: "m",
                    endpoint: "/api/chat", streamed: false, status: 200, promptTokens: 1, completionTokens: 2,
                    latencyMs: 10)
            }
            try await usage.insert(records)
            let now = midnight.addingTimeInterval(20 * day)
            let everything = (from: midnight.addingTimeInterval(-day), to: now)

            // Nothing is old enough yet.
            #expect(try await usage.prune(olderThan: UsageRetention(logDays: 30, hourlyDays: 30, dailyDays: 30), now: now)
                == UsagePruneResult())

            // Log: 5 days kept (50 rows); 150 deleted in chunks of 7.
            let result = try await usage.prune(
                olderThan: UsageRetention(logDays: 5, hourlyDays: 10, dailyDays: nil), now: now, chunkSize: 7)
            #expect(result.logRows == 150)
            // One hourly row per record and roll-up table (the cube and the four per-dimension tables).
            #expect(result.hourlyRows == 100 * 5)
            #expect(result.dailyRows == 0)
            var remaining = 0
            var query = UsageLogQuery(limit: 1000)
            repeat {
                let page = try await usage.log(query)
                remaining += page.entries.count
                #expect(page.entries.allSatisfy { $0.record.time >= now.addingTimeInterval(-5 * day) })
                query.after = page.next
            } while query.after != nil
            #expect(remaining == 50)
            // Daily roll-ups still hold all 20 days.
            #expect(try await usage.series(from: everything.from, to: everything.to, granularity: .day).count == 20)
            #expect(try await usage.series(from: everything.from, to: everything.to, granularity: .hour).count == 100)

            // Daily: a bucket goes only once it ends before the cut-off (day 8.5): days 0–7 go, 12 remain.
            let daily = try await usage.prune(
                olderThan: UsageRetention(logDays: nil, hourlyDays: nil, dailyDays: 12), now: now.addingTimeInterval(day / 2))
            #expect(daily == UsagePruneResult(logRows: 0, hourlyRows: 0, dailyRows: 8 * 5))
            let days = try await usage.series(from: everything.from, to: everything.to, granularity: .day)
            #expect(days.count == 12)
            #expect(days.first?.bucketStart == midnight.addingTimeInterval(8 * day))
        }
    }
}
