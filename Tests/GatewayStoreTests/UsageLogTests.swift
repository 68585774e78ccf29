import Foundation
import Testing

@testable import GatewayStore

/// A deterministic set of records spread over a few days, keys, models, endpoints and statuses.
struct UsageFixture {
    static let keys = ["key_a", "key_b", "key_c"]
    static let models = ["llama3:8b", "qwen3:4b", "gemma3:12b"]
    static let endpoints = ["/v1/chat/completions", "/v1/messages", "/api/chat"]
    static let statuses = [200, 200, 200, 200, 200, 200, 400, 429, 500, 502]

    /// `count` records, one every 7 minutes from `start`, several sharing a millisecond.
    static func records(count: Int, start: Date = referenceTime) -> [UsageRecord] {
        (0..<count).map { index in
            let status = statuses[index % statuses.count]
            let streamed = index % 3 == 0
            let cancelled = streamed && index % 9 == 0
            let keyID: String? = index % 17 == 16 ? nil : keys[index % keys.count]
            let latency = Double(5 + (index * 37) % 4000) + 0.25
            return UsageRecord(
                time: start.addingTimeInterval(Double(index / 2) * 420),
                requestID: "req_\(index)",
                keyID: keyID,
                modelRequested: index % 5 == 0 ? "alias-\(index % 2)" : models[index % models.count],
                modelResolved: status == 400 ? nil : models[index % models.count],
                endpoint: endpoints[(index / 2) % endpoints.count],
                streamed: streamed,
                status: status,
                errorType: status >= 400 ? "upstream_error" : (cancelled ? nil : nil),
                promptTokens: 10 + index % 50,
                completionTokens: status >= 400 ? 0 : 1 + index % 200,
                cancelled: cancelled,
                latencyMs: latency,
                timeToFirstTokenMs: streamed && status < 400 ? latency / 4 : nil,
                tokensPerSecond: status < 400 ? Double(20 + index % 30) : nil,
                clientAddress: "192.0.2.\(index % 250)",
                userAgent: index % 4 == 0 ? "=cmd|' /C calc'!A0, \"quoted\"" : "openai-python/1.0"
            )
        }
    }
}

@Suite("Usage log")
struct UsageLogTests {
    @Test("a batch is stored as given and paged newest first without gaps", arguments: TestEngine.available)
    func insertAndPage(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = UsageFixture.records(count: 230)
            try await usage.insert(records)

            var seen: [UsageLogEntry] = []
            var cursor: UsageCursor?
            var pages = 0
            repeat {
                let page = try await usage.log(UsageLogQuery(limit: 50, after: cursor))
                seen += page.entries
                cursor = page.next
                pages += 1
                if let next = cursor { #expect(UsageCursor(token: next.token) == next) }
            } while cursor != nil && pages < 20
            #expect(pages == 5)
            #expect(seen.count == records.count)
            #expect(Set(seen.map(\.id)).count == records.count)
            // Newest first; within a millisecond, the later insert first.
            let expected = records.enumerated().sorted {
                ($0.element.time, $0.offset) > ($1.element.time, $1.offset)
            }.map(\.element)
            #expect(seen.map(\.record) == expected)
        }
    }

    @Test("filters: key, model, endpoint, status and class, time range, request id", arguments: TestEngine.available)
    func filters(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let records = UsageFixture.records(count: 300)
            try await usage.insert(records)

            func check(_ query: UsageLogQuery, _ predicate: (UsageRecord) -> Bool) async throws {
                var got: [String] = []
                var query = query
                query.limit = 37
                repeat {
                    let page = try await usage.log(query)
                    got += page.entries.map(\.record.requestID)
                    query.after = page.next
                } while query.after != nil
                let want = records.filter(predicate)
                #expect(Set(got) == Set(want.map(\.requestID)))
                #expect(got.count == want.count)
            }
            let since = referenceTime.addingTimeInterval(3600 * 3)
            let until = referenceTime.addingTimeInterval(3600 * 9)
            try await check(UsageLogQuery(filter: UsageFilter(keyID: "key_b"))) { $0.keyID == "key_b" }
            try await check(UsageLogQuery(filter: UsageFilter(keyID: ""))) { $0.keyID == nil }
            try await check(UsageLogQuery(filter: UsageFilter(model: "qwen3:4b"))) { $0.accountedModel == "qwen3:4b" }
            try await check(UsageLogQuery(filter: UsageFilter(model: "alias-0"))) { $0.accountedModel == "alias-0" }
            try await check(UsageLogQuery(filter: UsageFilter(endpoint: "/v1/messages"))) { $0.endpoint == "/v1/messages" }
            try await check(UsageLogQuery(filter: UsageFilter(status: .exact(429)))) { $0.status == 429 }
            try await check(UsageLogQuery(filter: UsageFilter(status: UsageStatusFilter(text: "5xx")))) {
                (500..<600).contains($0.status)
            }
            try await check(UsageLogQuery(since: since, until: until)) { $0.time >= since && $0.time < until }
            try await check(UsageLogQuery(
                since: since, filter: UsageFilter(keyID: "key_a", endpoint: "/api/chat", status: .family(2))
            )) {
                $0.time >= since && $0.keyID == "key_a" && $0.endpoint == "/api/chat" && $0.status < 300
            }
            try await check(UsageLogQuery(requestID: "req_42")) { $0.requestID == "req_42" }
            #expect(try await usage.log(UsageLogQuery(filter: UsageFilter(keyID: "key_none"))).entries.isEmpty)
        }
    }

    @Test("streamed, cancelled and partial token counts survive the round trip", arguments: TestEngine.available)
    func flags(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            let cancelled = UsageRecord(
                time: referenceTime, requestID: "req_cancel", keyID: "key_a", modelRequested: "m",
                modelResolved: "m:latest", endpoint: "/v1/chat/completions", streamed: true, status: 200,
                promptTokens: 12, completionTokens: 7, cancelled: true, latencyMs: 812.5, timeToFirstTokenMs: 90.25,
                tokensPerSecond: 9.6, clientAddress: "2001:db8::1", userAgent: "curl/8")
            let plain = UsageRecord(
                time: referenceTime.addingTimeInterval(1), requestID: "req_plain", keyID: nil, modelRequested: nil,
                modelResolved: nil, endpoint: "/v1/models", streamed: false, status: 401, errorType: "authentication",
                promptTokens: 0, completionTokens: 0, latencyMs: .nan)
            try await usage.insert([cancelled, plain])
            let entries = try await usage.log(UsageLogQuery()).entries
            #expect(entries.map(\.record) == [
                { var r = plain; r.latencyMs = 0; return r }(), cancelled,
            ])
        }
    }
}
