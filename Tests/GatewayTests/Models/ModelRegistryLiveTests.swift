import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import NIOPosix
import OllamaSim
import Testing

@Suite("Model registry against ollama-sim", .timeLimit(.minutes(1)))
struct ModelRegistryLiveTests {
    /// Two Ollamas in turn: the registry follows what the current one has.
    @Test func modelsAppearDisappearAndChangeCapabilities() async throws {
        let builtIn = SimulatedModel.builtIn
        var upgraded = try #require(builtIn.first { $0.name == "sim-chat:latest" })
        upgraded.capabilities = ["completion", "tools"]
        upgraded.digest = "sha256:" + String(repeating: "ab", count: 32)
        var newcomer = upgraded
        newcomer.name = "brand-new:7b"
        newcomer.digest = "sha256:" + String(repeating: "cd", count: 32)
        let later = [upgraded, newcomer] + builtIn.filter { $0.name == "sim-embed:latest" }

        try await withOllamaSimulator(SimulatorConfiguration()) { before in
            try await withOllamaSimulator(SimulatorConfiguration(models: later)) { after in
                let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
                let runtime = RuntimeSettings(.init(ollamaURL: before.baseURL, reasoningFormat: .reasoningContent))
                let store = InMemoryModelSettingsStore([
                    "sim-think:latest": ModelSettings(aliases: ["thinker"], overrides: ["num_ctx": 4096])
                ])
                let registry = ModelRegistry(
                    upstream: OllamaClient(http: http, runtime: runtime, logger: TestGateway.logger), store: store,
                    logger: TestGateway.logger, onDemandInterval: .zero)
                do {
                    try await registry.refresh()
                    let first = await registry.entries()
                    #expect(first.map(\.info.name).contains("sim-think:latest"))
                    #expect(first.first { $0.info.name == "sim-chat:latest" }?.info.capabilities == [.completion])
                    #expect(try await registry.resolve("thinker").upstreamName == "sim-think:latest")
                    #expect(try await registry.resolve("thinker").overrides.options["num_ctx"] == 4096)

                    // Ollama changes: one model is gone, one is new, one has new capabilities.
                    runtime.update { $0.ollamaURL = after.baseURL }
                    try await registry.refresh()
                    let second = await registry.entries()
                    let think = try #require(second.first { $0.info.name == "sim-think:latest" })
                    #expect(!think.info.available, "configured models stay, shown as unavailable")
                    #expect(think.settings.aliases == ["thinker"])
                    #expect(!second.contains { $0.info.name == "sim-vision:latest" }, "unconfigured models go")
                    #expect(second.first { $0.info.name == "sim-chat:latest" }?.info.capabilities == [.completion, .tools])
                    #expect(second.contains { $0.info.name == "brand-new:7b" && $0.info.available })
                    await #expect(throws: GatewayError.self) { try await registry.resolve("thinker") }
                    #expect(try await registry.resolve("brand-new:7b").capabilities == [.completion, .tools])
                } catch {
                    try await http.shutdown()
                    throw error
                }
                try await http.shutdown()
            }
        }
    }

    @Test func anUnknownNameTriggersARefresh() async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            let runtime = RuntimeSettings(.init(ollamaURL: sim.baseURL, reasoningFormat: .reasoningContent))
            let registry = ModelRegistry(
                upstream: OllamaClient(http: http, runtime: runtime, logger: TestGateway.logger),
                store: InMemoryModelSettingsStore(), logger: TestGateway.logger, onDemandInterval: .zero)
            // Never refreshed: the first request reads the list itself.
            let resolved = try await registry.resolve("sim-vision")
            #expect(resolved.upstreamName == "sim-vision:latest")
            #expect(resolved.capabilities == [.completion, .vision])
            let missing = await #expect(throws: GatewayError.self) { try await registry.resolve("nowhere") }
            #expect(missing?.code == "model_not_found")
            try await http.shutdown()
        }
    }

    @Test func overridesAreValidatedWhenSaved() async throws {
        #expect(try ModelSettings.validate(overrides: ["num_ctx": 8192, "my_new_option": 1]).count == 1)
        let error = try #require(throws: GatewayError.self) { try ModelSettings.validate(overrides: ["num_ctx": "big"]) }
        #expect(error.param == "overrides.num_ctx")
        let think = try #require(throws: GatewayError.self) { try ModelSettings.validate(overrides: ["think": "huge"]) }
        #expect(think.message.contains("invalid think value"))
    }
}
