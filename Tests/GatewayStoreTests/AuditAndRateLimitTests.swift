import Foundation
import GatewayAPI
import Testing

@testable import GatewayStore

@Suite("Audit log")
struct AuditLogTests {
    @Test("insert, filter and page newest first", arguments: TestEngine.available)
    func queryAndPaginate(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let audit = testStore(database).auditLog
            var inserted: [AuditEntry] = []
            for index in 0..<7 {
                let actor: AuditActor = index.isMultiple(of: 2) ? .account("admin") : .token(keyID: "key_abc")
                inserted.append(try await audit.insert(AuditEvent(
                    actor: actor, action: index < 4 ? "key.create" : "settings.update", target: "t\(index)",
                    details: ["index": .int(index), "note": "x"], clientAddress: "192.0.2.1",
                    // Two entries share a millisecond: the id breaks the tie.
                    occurredAt: referenceTime.addingTimeInterval(Double(min(index, 5))))))
            }
            #expect(inserted[0].event.details == ["index": 0, "note": "x"])

            var seen: [Int64] = []
            var cursor: AuditCursor?
            var pages = 0
            repeat {
                let page = try await audit.query(AuditQuery(limit: 3, after: cursor))
                seen += page.entries.map(\.id)
                cursor = page.next
                pages += 1
                if let next = cursor { #expect(AuditCursor(token: next.token) == next) }
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == inserted.reversed().map(\.id))

            let byActor = try await audit.query(AuditQuery(actor: "key_abc", actorKind: .token))
            #expect(byActor.entries.map(\.event.target) == ["t5", "t3", "t1"])
            #expect(byActor.next == nil)
            let byAction = try await audit.query(AuditQuery(action: "key.create"))
            #expect(byAction.entries.count == 4)
            let window = try await audit.query(AuditQuery(
                since: referenceTime.addingTimeInterval(1), until: referenceTime.addingTimeInterval(3)))
            #expect(window.entries.map(\.event.target) == ["t2", "t1"])
            let combined = try await audit.query(AuditQuery(
                since: referenceTime.addingTimeInterval(2), actor: "admin", action: "settings.update"))
            #expect(combined.entries.map(\.event.target) == ["t6", "t4"])
            #expect(try await audit.prune(before: referenceTime.addingTimeInterval(2)) == 2)
            #expect(try await audit.query(AuditQuery(limit: 100)).entries.count == 5)
        }
    }
}

@Suite("Rate-limit windows")
struct RateLimitTests {
    @Test("N parallel increments give exactly N", arguments: TestEngine.available)
    func concurrentIncrements(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let limits = testStore(database).rateLimits
            let n = 64
            let totals = try await withThrowingTaskGroup(of: RateLimitCounts.self) { group in
                for _ in 0..<n {
                    group.addTask { try await limits.add(keyID: "key_a", requests: 1, tokens: 10, at: referenceTime) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Each caller saw a distinct running total: no update was lost or double counted.
            #expect(Set(totals.map(\.requests)) == Set(1...n))
            #expect(Set(totals.map(\.tokens)) == Set((1...n).map { $0 * 10 }))
            #expect(try await limits.counts(keyID: "key_a", at: referenceTime.addingTimeInterval(59))
                == RateLimitCounts(requests: n, tokens: n * 10))
        }
    }

    @Test("windows are per key and minute, and pruned", arguments: TestEngine.available)
    func windows(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let limits = testStore(database).rateLimits
            let minute = RateLimitRepository.windowStart(for: referenceTime.addingTimeInterval(30.5))
            #expect(minute == referenceTime)  // 1_800_000_000 is a whole minute
            let first = try await limits.add(keyID: "key_a", tokens: 5, at: referenceTime)
            #expect(first == RateLimitCounts(requests: 1, tokens: 5))
            let sameMinute = try await limits.add(
                keyID: "key_a", requests: 0, tokens: 7, at: referenceTime.addingTimeInterval(59.9))
            #expect(sameMinute == RateLimitCounts(requests: 1, tokens: 12))
            let nextMinute = try await limits.add(keyID: "key_a", at: referenceTime.addingTimeInterval(60))
            #expect(nextMinute == RateLimitCounts(requests: 1, tokens: 0))
            let otherKey = try await limits.add(keyID: "key_b", at: referenceTime)
            #expect(otherKey == RateLimitCounts(requests: 1, tokens: 0))
            let untouched = try await limits.counts(keyID: "key_c", at: referenceTime)
            #expect(untouched == RateLimitCounts(requests: 0, tokens: 0))
            let pruned = try await limits.prune(before: referenceTime.addingTimeInterval(60))
            #expect(pruned == 2)
            let afterPrune = try await limits.counts(keyID: "key_a", at: referenceTime)
            #expect(afterPrune == RateLimitCounts(requests: 0, tokens: 0))
            #expect(try await limits.counts(keyID: "key_a", at: referenceTime.addingTimeInterval(61)).requests == 1)
        }
    }
}
