import AsyncHTTPClient
import Foundation
import GatewayAPI
import OllamaSim
import Testing

@Suite("Ollama endpoints")
struct EndpointTests {
    @Test func rootAndVersion() async throws {
        try await withSim { sim, http in
            let root = try await http.get("/")
            #expect(root.status == 200)
            #expect(root.body == "Ollama is running")
            #expect(root.contentType?.hasPrefix("text/plain") == true)
            let head = try await http.send(.HEAD, "/")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            let version = try await http.get("/api/version")
            #expect(version.json == ["version": "0.12.6"])
            #expect(version.contentType?.hasPrefix("application/json") == true)
            #expect(sim.baseURL == "http://127.0.0.1:\(sim.port)")
        }
    }

    @Test func unknownPathAndWrongMethod() async throws {
        try await withSim { _, http in
            let missing = try await http.get("/api/nothing")
            #expect(missing.status == 404)
            #expect(missing.body == "404 page not found")
            let wrongMethod = try await http.get("/api/chat")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.body == "405 method not allowed")
        }
    }

    @Test func foreignHostIsForbiddenOnLoopback() async throws {
        try await withSim { _, http in
            let forbidden = try await http.send(.GET, "/api/version", headers: [("Host", "evil.example.com")])
            #expect(forbidden.status == 403)
            #expect(forbidden.body.isEmpty)
            let local = try await http.send(.GET, "/api/version", headers: [("Host", "localhost:11434")])
            #expect(local.status == 200)
        }
    }

    @Test func tagsListNewestFirstWithDetailsAndCapabilities() async throws {
        try await withSim { _, http in
            let response = try await http.get("/api/tags")
            let tags = try JSONDecoder().decode(OllamaTagsResponse.self, from: Data(response.body.utf8))
            let names = tags.models.map(\.name)
            #expect(names.first == "sim-agent:latest")
            #expect(Set(names).isSuperset(of: ["sim-chat:latest", "sim-think:latest", "sim-tools:latest", "sim-vision:latest", "sim-embed:latest", "sim-r1:latest", "sim-code:latest"]))
            let dates = tags.models.compactMap(\.modifiedAt)
            #expect(dates == dates.sorted(by: >))
            let chat = try #require(tags.models.first { $0.name == "sim-chat:latest" })
            #expect(chat.model == "sim-chat:latest")
            #expect(chat.capabilities == ["completion"])
            #expect(chat.details?.family == "simchat")
            #expect(chat.details?.format == "gguf")
            #expect(chat.digest?.count == 64)
            #expect(tags.models.first { $0.name == "sim-embed:latest" }?.capabilities == ["embedding"])
        }
    }

    @Test func showReportsCapabilitiesAndContextLength() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/show", json: ["model": "sim-think"])
            #expect(response.status == 200)
            let show = try JSONDecoder().decode(OllamaShowResponse.self, from: Data(response.body.utf8))
            #expect(show.capabilities == ["completion", "thinking"])
            #expect(show.contextLength == 8192)
            #expect(show.modelInfo?["general.architecture"] == "simthink")
            #expect(show.template?.isEmpty == false)
            #expect(show.modifiedAt == "2025-06-02T10:00:00.000000000Z")
            #expect(show.details?.parameterSize == "4.0B")

            let embed = try await http.post("/api/show", json: ["model": "sim-embed:latest"])
            let embedShow = try JSONDecoder().decode(OllamaShowResponse.self, from: Data(embed.body.utf8))
            #expect(embedShow.contextLength == 512)

            let legacy = try await http.post("/api/show", json: ["name": "sim-tools"])
            #expect(legacy.json?["capabilities"] == ["completion", "tools"])

            let missing = try await http.post("/api/show", json: ["model": "nope"])
            #expect(missing.status == 404)
            #expect(missing.errorMessage == "model 'nope' not found")
            let empty = try await http.post("/api/show", json: ["model": ""])
            #expect(empty.status == 400)
            #expect(empty.errorMessage == "model is required")
        }
    }

    @Test func psShowsLoadedModelsAndKeepAliveZeroUnloads() async throws {
        try await withSim { _, http in
            #expect(try await http.get("/api/ps").json == ["models": []])
            _ = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("hi"), "stream": false, "keep_alive": "10m"])
            _ = try await http.post("/api/chat", json: ["model": "sim-think", "messages": [], "keep_alive": -1])
            let ps = try JSONDecoder().decode(OllamaPsResponse.self, from: Data(try await http.get("/api/ps").body.utf8))
            #expect(ps.models.map(\.name) == ["sim-think:latest", "sim-chat:latest"])
            let chat = try #require(ps.models.last)
            #expect(chat.contextLength == 8192)
            #expect(chat.sizeVRAM == chat.size)
            let expires = try #require(chat.expiresAt)
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let date = try #require(formatter.date(from: expires))
            #expect(abs(date.timeIntervalSinceNow - 600) < 30)
            #expect(ps.models.first?.expiresAt?.hasPrefix("23") == true)  // forever: year 2318

            let unload = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": [], "keep_alive": 0])
            #expect(unload.json?["done_reason"] == "unload")
            let after = try JSONDecoder().decode(OllamaPsResponse.self, from: Data(try await http.get("/api/ps").body.utf8))
            #expect(after.models.map(\.name) == ["sim-think:latest"])
        }
    }

    @Test("a model that is not loaded takes the load time; a loaded one answers at once; concurrent requests share one load")
    func loadTime() async throws {
        try await withSim(SimulatorConfiguration(loadTime: .milliseconds(400))) { _, http in
            let clock = ContinuousClock()
            let body: JSONValue = ["model": "sim-chat", "messages": userMessages("hi"), "stream": false]
            var answers: [SimResponse] = []
            let cold = try await clock.measure {
                async let first = http.post("/api/chat", json: body)
                async let second = http.post("/api/chat", json: body)
                answers = try await [first, second]
            }
            #expect(cold >= .milliseconds(400))
            // One load: the request that found the model loading reports a warm start, yet waited for it.
            let loads = answers.compactMap { $0.json?["load_duration"]?.intValue }
            #expect(loads.sorted() == [40_000, 400_000_000], "\(loads)")
            let durations = answers.compactMap { $0.json?["total_duration"]?.intValue }
            #expect(durations.count == 2 && durations.allSatisfy { $0 >= 350_000_000 }, "\(durations)")
            // Warm: no wait inside the simulator (its own clock, so a busy machine does not count).
            let warm = try await http.post("/api/chat", json: body).json
            #expect(warm?["load_duration"]?.intValue == 40_000)
            #expect((warm?["total_duration"]?.intValue ?? .max) < 300_000_000)
            let embed = try await clock.measure {
                _ = try await http.post("/api/embed", json: ["model": "sim-embed", "input": "x"])
            }
            #expect(embed >= .milliseconds(400))
        }
    }

    @Test("with room for two models, loading a third unloads the one whose keep-alive ends first")
    func maxLoaded() async throws {
        try await withSim(SimulatorConfiguration(maxLoaded: 2)) { _, http in
            _ = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": [], "keep_alive": "1m"])
            _ = try await http.post("/api/chat", json: ["model": "sim-think", "messages": [], "keep_alive": "10m"])
            _ = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": [], "keep_alive": "5m"])
            let ps = try JSONDecoder().decode(OllamaPsResponse.self, from: Data(try await http.get("/api/ps").body.utf8))
            #expect(ps.models.map(\.name) == ["sim-think:latest", "sim-tools:latest"])
            // A model already loaded takes no room of its own.
            _ = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": [], "keep_alive": "5m"])
            let again = try JSONDecoder().decode(OllamaPsResponse.self, from: Data(try await http.get("/api/ps").body.utf8))
            #expect(again.models.count == 2)
        }
    }

    @Test func embedBatchIsNormalizedAndDimensionsCut() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/embed", json: ["model": "sim-embed", "input": ["hello world", "other text"]])
            #expect(response.status == 200)
            let embed = try JSONDecoder().decode(OllamaEmbedResponse.self, from: Data(response.body.utf8))
            #expect(embed.model == "sim-embed")
            #expect(embed.embeddings.count == 2)
            #expect(embed.embeddings.allSatisfy { $0.count == 384 })
            for vector in embed.embeddings {
                #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)
            }
            #expect(embed.embeddings[0] != embed.embeddings[1])
            #expect(embed.promptEvalCount == 4)

            let again = try JSONDecoder().decode(OllamaEmbedResponse.self, from: Data(try await http.post("/api/embed", json: ["model": "sim-embed", "input": "hello world"]).body.utf8))
            #expect(again.embeddings == [embed.embeddings[0]])

            let cut = try JSONDecoder().decode(OllamaEmbedResponse.self, from: Data(try await http.post("/api/embed", json: ["model": "sim-embed", "input": "hello world", "dimensions": 8]).body.utf8))
            #expect(cut.embeddings[0].count == 8)
            #expect(abs(cut.embeddings[0].reduce(0) { $0 + $1 * $1 } - 1) < 1e-4)

            let empty = try await http.post("/api/embed", json: ["model": "sim-embed", "input": []])
            #expect(empty.json == ["model": "sim-embed", "embeddings": []])
        }
    }

    @Test func embedErrors() async throws {
        try await withSim { _, http in
            let long = String(repeating: "word ", count: 600)
            let tooLong = try await http.post("/api/embed", json: ["model": "sim-embed", "input": .string(long), "truncate": false])
            #expect(tooLong.status == 400)
            #expect(tooLong.errorMessage == "the input length exceeds the context length")
            let truncated = try await http.post("/api/embed", json: ["model": "sim-embed", "input": .string(long)])
            #expect(truncated.status == 200)
            #expect(truncated.json?["prompt_eval_count"] == 512)

            let missing = try await http.post("/api/embed", json: ["model": "nope", "input": "x"])
            #expect(missing.status == 404)
            #expect(missing.errorMessage == "model \"nope\" not found, try pulling it first")
            let badInput = try await http.post("/api/embed", json: ["model": "sim-embed", "input": [1, 2]])
            #expect(badInput.status == 400)
            #expect(badInput.errorMessage == "invalid input type")
            let empty = try await http.post("/api/embed", "")
            #expect(empty.status == 400)
            #expect(empty.errorMessage == "missing request body")

            // A chat model embeds too, as in Ollama (its own embedding length).
            let chatModel = try await http.post("/api/embed", json: ["model": "sim-chat", "input": "x"])
            #expect(chatModel.status == 200)
            #expect(chatModel.json?["embeddings"]?.arrayValue?.first?.arrayValue?.count == 768)
        }
    }

    @Test func legacyEmbeddingsAreNotNormalized() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/embeddings", json: ["model": "sim-embed", "prompt": "hello world"])
            #expect(response.status == 200)
            let values = try #require(response.json?["embedding"]?.arrayValue)
            let vector = values.compactMap { $0.doubleValue }
            #expect(vector.count == 384)
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) > 0.5)
            let normalized = try JSONDecoder().decode(OllamaEmbedResponse.self, from: Data(try await http.post("/api/embed", json: ["model": "sim-embed", "input": "hello world"]).body.utf8)).embeddings[0]
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(vector[0] / norm - normalized[0]) < 1e-5)
            let missing = try await http.post("/api/embeddings", json: ["model": "", "prompt": "x"])
            #expect(missing.status == 400)
            #expect(missing.errorMessage == "model is required")
        }
    }
}
