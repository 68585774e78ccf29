import Foundation
import Testing

@testable import GatewayStore

@Suite("Backends and the usage log's backend")
struct BackendRepositoryTests {
    @Test("backends round-trip; names are unique; update and delete by name", arguments: TestEngine.available)
    func backends(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let backends = testStore(database).backends
            #expect(try await backends.list().isEmpty)
            let gpu = BackendRecord(
                name: "gpu2", url: "http://gpu2:11434", authHeaderName: "Authorization", authHeaderValue: "Bearer s",
                priority: 1, weight: 3, enabled: true, models: ["llama3.1:8b", "qwen3"])
            let created = try await backends.create(gpu, now: referenceTime)
            #expect(created.models == ["llama3.1:8b", "qwen3"])
            #expect(created.authHeaderValue == "Bearer s")
            #expect(created.createdAt == referenceTime)
            await #expect(throws: StoreError.self) { try await backends.create(gpu) }
            try await backends.create(BackendRecord(name: "a-laptop", url: "http://laptop:11434"))
            #expect(try await backends.list().map(\.name) == ["a-laptop", "gpu2"])

            var changed = created
            changed.enabled = false
            changed.weight = 1
            changed.authHeaderName = nil
            changed.authHeaderValue = nil
            changed.models = []
            let updated = try #require(try await backends.update(changed, now: referenceTime.addingTimeInterval(5)))
            #expect(!updated.enabled && updated.weight == 1 && updated.authHeaderName == nil && updated.models.isEmpty)
            #expect(updated.updatedAt == referenceTime.addingTimeInterval(5))
            #expect(try await backends.get("gpu2") == updated)
            var missing = changed
            missing.name = "nope"
            #expect(try await backends.update(missing) == nil)
            #expect(try await backends.delete("gpu2"))
            #expect(try await !backends.delete("gpu2"))
            #expect(try await backends.list().map(\.name) == ["a-laptop"])
        }
    }

    @Test("the usage log keeps the serving backend, and exports it", arguments: TestEngine.available)
    func usageBackend(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            var served = UsageRecord(
                time: referenceTime, requestID: "r1", keyID: nil, modelRequested: "m", modelResolved: "m:latest",
                endpoint: "/api/chat", streamed: false, status: 200, promptTokens: 1, completionTokens: 2, latencyMs: 3,
                backend: "gpu1")
            var refused = served
            refused.requestID = "r2"
            refused.backend = nil
            refused.time = referenceTime.addingTimeInterval(1)
            try await usage.insert([served, refused])
            let page = try await usage.log(UsageLogQuery(limit: 10))
            #expect(page.entries.map(\.record.backend) == [nil, "gpu1"])
            served.backend = String(repeating: "x", count: 500)
            #expect(served.normalized.backend?.count == 128)
            #expect(UsageCSV.columns.last == "backend")
            #expect(UsageCSV.line(page.entries[1]).hasSuffix(",gpu1\r\n"))
        }
    }

    @Test("what each backend served in a span, from the usage log", arguments: TestEngine.available)
    func backendActivity(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let usage = testStore(database).usage
            func record(_ id: String, _ backend: String?, status: Int, latency: Double, ttft: Double?, at offset: TimeInterval)
                -> UsageRecord
            {
                UsageRecord(
                    time: referenceTime.addingTimeInterval(offset), requestID: id, keyID: nil, modelRequested: "m",
                    modelResolved: "m:latest", endpoint: "/api/chat", streamed: ttft != nil, status: status, promptTokens: 1,
                    completionTokens: 1, latencyMs: latency, timeToFirstTokenMs: ttft, backend: backend)
            }
            try await usage.insert([
                record("r1", "gpu1", status: 200, latency: 100, ttft: 20, at: 10),
                record("r2", "gpu1", status: 503, latency: 300, ttft: nil, at: 20),
                record("r3", "gpu1", status: 200, latency: 200, ttft: 40, at: 30),
                record("r4", "gpu2", status: 200, latency: 50, ttft: nil, at: 40),
                record("r5", nil, status: 401, latency: 1, ttft: nil, at: 50),  // refused before a backend was chosen
                record("r6", "gpu2", status: 200, latency: 9, ttft: nil, at: 3600),  // after the span
            ])
            let rows = try await usage.backendActivity(from: referenceTime, to: referenceTime.addingTimeInterval(3600))
            #expect(rows.map(\.backend) == ["gpu1", "gpu2"])
            #expect(rows[0].requests == 3 && rows[0].errors == 1)
            #expect(rows[0].averageLatencyMs == 200 && rows[0].averageTimeToFirstTokenMs == 30)
            #expect(rows[1].requests == 1 && rows[1].errors == 0 && rows[1].averageTimeToFirstTokenMs == nil)
            #expect(try await usage.backendActivity(from: referenceTime.addingTimeInterval(-60), to: referenceTime).isEmpty)
        }
    }
}
