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
}
