import Foundation
import GatewayAPI
import Testing

@testable import GatewayStore

@Suite("Settings and model settings")
struct SettingsTests {
    @Test("settings round-trip JSON", arguments: TestEngine.available)
    func settings(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let settings = testStore(database).settings
            let defaults: JSONValue = [
                "temperature": 0.7, "num_ctx": 8192, "stop": ["</s>", "\n\n"], "think": false,
                "nested": ["a": nil, "b": ["c": "ü ✓ \"quoted\""]],
            ]
            try await settings.set("ollama.url", to: "http://127.0.0.1:11434", now: referenceTime)
            let stored = try await settings.set("defaults.parameters", to: defaults, now: referenceTime)
            #expect(stored.value == defaults)
            #expect(try await settings.get("defaults.parameters")?.value == defaults)
            #expect(try await settings.get("ollama.url") == SettingRecord(
                key: "ollama.url", value: "http://127.0.0.1:11434", updatedAt: referenceTime))

            let replaced = try await settings.set("ollama.url", to: "http://gpu-box:11434", now: referenceTime.addingTimeInterval(1))
            #expect(replaced.updatedAt == referenceTime.addingTimeInterval(1))
            #expect(try await settings.all().map(\.key) == ["defaults.parameters", "ollama.url"])
            #expect(try await settings.get("ollama.url")?.value == "http://gpu-box:11434")
            #expect(try await settings.delete("ollama.url"))
            #expect(try await settings.get("ollama.url") == nil)
            #expect(try await settings.get("missing") == nil)
        }
    }

    @Test("model settings round-trip, aliases unique", arguments: TestEngine.available)
    func modelSettings(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let models = testStore(database).modelSettings
            let parameters: [String: JSONValue] = [
                "think": "high", "num_ctx": 32768, "temperature": 0.8, "keep_alive": "10m", "request_timeout": 600000,
            ]
            let qwen = try await models.upsert(
                ModelSettingsRecord(
                    model: "qwen3:32b", displayName: "Qwen 3 (32B)", aliases: ["qwen", " big ", "qwen"],
                    parameters: parameters),
                now: referenceTime)
            #expect(qwen.aliases == ["qwen", "big"])
            #expect(qwen.parameters == parameters)
            #expect(qwen.parameters["num_ctx"] == .int(32768))
            #expect(qwen.updatedAt == referenceTime)
            #expect(try await models.get(model: "qwen3:32b") == qwen)
            #expect(try await models.resolve(name: "big")?.model == "qwen3:32b")
            #expect(try await models.resolve(name: "qwen3:32b")?.model == "qwen3:32b")
            #expect(try await models.resolve(name: "nothing") == nil)

            await #expect(throws: StoreError.conflict("alias qwen already belongs to qwen3:32b")) {
                try await models.upsert(ModelSettingsRecord(model: "qwen3:8b", aliases: ["qwen"]))
            }
            await #expect(throws: StoreError.self) {
                try await models.upsert(ModelSettingsRecord(model: "llama3", aliases: ["qwen3:32b"]))
            }
            await #expect(throws: StoreError.self) {
                try await models.upsert(ModelSettingsRecord(model: "big"))
            }

            let disabled = try await models.upsert(
                ModelSettingsRecord(model: "qwen3:32b", displayName: nil, aliases: ["qwen"], enabled: false),
                now: referenceTime.addingTimeInterval(2))
            #expect(!disabled.enabled)
            #expect(disabled.displayName == nil)
            #expect(disabled.parameters.isEmpty)
            // "big" was released, so another model may take it now.
            _ = try await models.upsert(ModelSettingsRecord(model: "llama3.1:8b", aliases: ["big"]))
            #expect(try await models.list().map(\.model) == ["llama3.1:8b", "qwen3:32b"])
            #expect(try await models.delete(model: "llama3.1:8b"))
            #expect(try await models.list().count == 1)
        }
    }

    @Test("concurrent alias claims: exactly one wins", arguments: TestEngine.available)
    func concurrentAliases(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let models = testStore(database).modelSettings
            let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        do {
                            try await models.upsert(ModelSettingsRecord(model: "model-\(index)", aliases: ["shared"]))
                            return true
                        } catch StoreError.conflict {
                            return false
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }
}
