import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

@Suite("The native Ollama API through the gateway", .timeLimit(.minutes(2)))
struct OllamaNativeLiveTests {
    func lines(_ response: TestResponse) throws -> [JSONValue] {
        try String(buffer: response.body).split(separator: "\n").map {
            try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
        }
    }

    @Test func streamedChatPassesThroughAndIsAccounted() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}]}"#)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/x-ndjson")
            let lines = try lines(response)
            #expect(lines.count > 2)
            #expect(lines.last?["done"] == true)
            #expect(lines.last?["eval_count"]?.intValue ?? 0 > 0)
            #expect(lines.first?["model"] == "sim-chat")
        }
    }

    @Test func requestControlsAreMergedAndTheNameIsEchoed() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/api/chat",
                #"{"model":"sim-think","stream":false,"think":"low","options":{"num_ctx":2048},"messages":[{"role":"user","content":"x"}]}"#)
            #expect(response.status == .ok)
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["model"] == "sim-think:latest")
            #expect(sent["think"] == "low")
            #expect(sent["options"]?["num_ctx"] == 2048)
            let answer = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            #expect(answer["model"] == "sim-think", "the name the client used")
            #expect(answer["message"]?["thinking"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func errorsUseOllamasFormat() async throws {
        try await LiveGateway.run { gateway in
            let unknown = try await gateway.post("/api/chat", #"{"model":"nope","messages":[]}"#)
            #expect(unknown.status == .notFound)
            let body = try JSONDecoder().decode(OllamaErrorBody.self, from: Data(buffer: unknown.body))
            #expect(body.error == "model 'nope' not found")
            let missing = try await gateway.post("/api/generate", #"{"prompt":"x"}"#)
            #expect(missing.status == .badRequest)
            #expect(try JSONDecoder().decode(OllamaErrorBody.self, from: Data(buffer: missing.body)).error == "model is required")
        }
    }

    @Test func midStreamErrorIsALastErrorLine() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/api/chat",
                #"{"model":"sim-chat","messages":[{"role":"user","content":"Tell me more"}],"options":{"sim_fault":"error_mid_stream"}}"#)
            let lines = try lines(response)
            #expect(lines.last?["error"]?.stringValue?.isEmpty == false)
            #expect(!lines.contains { $0["done"] == true })
        }
    }

    @Test func embedAndGenerate() async throws {
        try await LiveGateway.run { gateway in
            let embed = try await gateway.post("/api/embed", #"{"model":"sim-embed","input":["a","b"]}"#)
            #expect(embed.status == .ok)
            let vectors = try JSONDecoder().decode(OllamaEmbedResponse.self, from: Data(buffer: embed.body))
            #expect(vectors.embeddings.count == 2)
            let generate = try await gateway.post("/api/generate", #"{"model":"sim-chat","prompt":"Hi","stream":false}"#)
            #expect(generate.status == .ok)
            let answer = try JSONDecoder().decode(OllamaGenerateChunk.self, from: Data(buffer: generate.body))
            #expect(answer.done)
            #expect(answer.response?.isEmpty == false)
        }
    }

    @Test func tagsListCallableModelsAndVersionPassesThrough() async throws {
        try await LiveGateway.run { gateway in
            let tags = try await gateway.client.execute(uri: "/api/tags", method: .get)
            let list = try JSONDecoder().decode(OllamaTagsResponse.self, from: Data(buffer: tags.body))
            #expect(list.models.contains { $0.name == "sim-chat:latest" && $0.capabilities == ["completion"] })
            let version = try await gateway.client.execute(uri: "/api/version", method: .get)
            #expect(String(buffer: version.body).contains("0.12.6"))
            let show = try await gateway.post("/api/show", #"{"model":"sim-vision"}"#)
            #expect(show.status == .ok)
            #expect(String(buffer: show.body).contains("vision"))
        }
    }

    @Test func modelManagementIsRefusedByDefault() async throws {
        try await LiveGateway.run { gateway in
            let pull = try await gateway.post("/api/pull", #"{"model":"llama3.2"}"#)
            #expect(pull.status == .forbidden)
            #expect(String(buffer: pull.body).contains("ALLOW_MODEL_MANAGEMENT"))
            #expect(gateway.upstreamRequests("/api/pull").isEmpty)
        }
    }

    @Test func tagsAreFilteredByTheKey() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let issued = try await store.apiKeys.create(APIKeySettings(name: "narrow", allowedModels: ["sim-chat"]))
        try await LiveGateway.run({
            $0.requireAPIKey = true
            $0.dataDirectory = dataDirectory
        }) { gateway in
            let tags = try await gateway.client.execute(
                uri: "/api/tags", method: .get, headers: [.authorization: "Bearer \(issued.secret.value)"])
            let list = try JSONDecoder().decode(OllamaTagsResponse.self, from: Data(buffer: tags.body))
            #expect(list.models.map(\.name) == ["sim-chat:latest"])
            let refused = try await gateway.client.execute(
                uri: "/api/chat", method: .post, headers: [.authorization: "Bearer \(issued.secret.value)"],
                body: ByteBuffer(string: #"{"model":"sim-think","messages":[]}"#))
            #expect(refused.status == .forbidden)
            let anonymous = try await gateway.client.execute(uri: "/api/tags", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
        try await database.shutdown()
    }
}

@Suite("Model listings", .timeLimit(.minutes(1)))
struct ModelListingLiveTests {
    @Test func openAIListingShowsCallableModelsWithCapabilitiesFilteredByKey() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let narrow = try await store.apiKeys.create(APIKeySettings(name: "narrow", allowedModels: ["sim-v*"]))
        let wide = try await store.apiKeys.create(APIKeySettings(name: "wide"))
        try await LiveGateway.run({
            $0.requireAPIKey = true
            $0.dataDirectory = dataDirectory
        }) { gateway in
            func list(_ key: String) async throws -> JSONValue {
                let response = try await gateway.client.execute(
                    uri: "/v1/models", method: .get, headers: [.authorization: "Bearer \(key)"])
                return try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            }
            let all = try await list(wide.secret.value)
            let ids = all["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids.contains("sim-chat:latest") && ids.contains("sim-embed:latest"))
            let vision = all["data"]?.arrayValue?.first { $0["id"] == "sim-vision:latest" }
            #expect(vision?["capabilities"] == ["completion", "vision"])
            #expect(vision?["context_length"]?.intValue ?? 0 > 0)
            #expect(vision?["created"]?.intValue ?? 0 > 1_600_000_000)
            #expect(vision?["owned_by"] == "ollama")
            let narrowIDs = try await list(narrow.secret.value)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            #expect(narrowIDs == ["sim-vision:latest"])
            let one = try await gateway.client.execute(
                uri: "/v1/models/sim-vision:latest", method: .get, headers: [.authorization: "Bearer \(narrow.secret.value)"])
            #expect(one.status == .ok)
            let hidden = try await gateway.client.execute(
                uri: "/v1/models/sim-chat:latest", method: .get, headers: [.authorization: "Bearer \(narrow.secret.value)"])
            #expect(hidden.status == .notFound)
        }
        try await database.shutdown()
    }

    @Test func aliasesDisabledModelsAndOverridesApplyOnEveryRoute() async throws {
        let token = "test-admin-token-0123456789"
        try await LiveGateway.run({ $0.admin.token = token }) { gateway in
            func admin(_ path: String, _ json: String) async throws -> TestResponse {
                try await gateway.client.execute(
                    uri: path, method: .put,
                    headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: json))
            }
            let saved = try await admin(
                "/admin/api/models/sim-think",
                #"{"aliases":["thinker"],"overrides":{"num_ctx":4096,"think":false,"temperature":0.2}}"#)
            #expect(saved.status == .ok, "\(String(buffer: saved.body))")
            #expect(try await admin("/admin/api/models/sim-chat", #"{"enabled":false}"#).status == .ok)

            // The alias reaches the model, with its overrides, on each API; the request's own value wins.
            let openAI = try await gateway.post(
                "/v1/chat/completions", #"{"model":"thinker","temperature":0.9,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(openAI.status == .ok)
            let openAIBody = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: openAI.body))
            #expect(openAIBody["model"] == "thinker")
            let anthropic = try await gateway.post(
                "/v1/messages", #"{"model":"thinker","max_tokens":50,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(anthropic.status == .ok)
            let native = try await gateway.post(
                "/api/chat", #"{"model":"thinker","stream":false,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(native.status == .ok)
            let sent = gateway.upstreamRequests("/api/chat")
            #expect(sent.count == 3)
            for request in sent {
                #expect(request["model"] == "sim-think:latest")
                #expect(request["options"]?["num_ctx"] == 4096)
                #expect(request["think"] == false)
            }
            #expect(sent.first?["options"]?["temperature"] == 0.9)
            #expect(sent.last?["options"]?["temperature"] == 0.2)
            let completion = try await gateway.post("/v1/completions", #"{"model":"thinker","prompt":"x"}"#)
            #expect(completion.status == .ok)
            let generate = try #require(gateway.upstreamRequests("/api/generate").last)
            #expect(generate["model"] == "sim-think:latest" && generate["options"]?["num_ctx"] == 4096)

            // Embeddings: an alias with its own overrides.
            #expect(try await admin("/admin/api/models/sim-embed", #"{"aliases":["vectors"],"overrides":{"num_ctx":256}}"#).status == .ok)
            let embedded = try await gateway.post("/v1/embeddings", #"{"model":"vectors","input":"x"}"#)
            #expect(embedded.status == .ok)
            let embed = try #require(gateway.upstreamRequests("/api/embed").last)
            #expect(embed["model"] == "sim-embed:latest" && embed["options"]?["num_ctx"] == 256)

            // A disabled model is neither callable nor listed, on any API.
            let disabled = try await gateway.post(
                "/v1/chat/completions", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}]}"#)
            #expect(disabled.status == .notFound)
            #expect(try await gateway.post("/api/chat", #"{"model":"sim-chat","messages":[]}"#).status == .notFound)
            #expect(try await gateway.post("/v1/completions", #"{"model":"sim-chat","prompt":"x"}"#).status == .notFound)
            #expect(try await gateway.post("/v1/messages", #"{"model":"sim-chat","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#).status == .notFound)
            let listing = try await gateway.client.execute(uri: "/v1/models", method: .get)
            let ids = try JSONDecoder().decode(ModelList.self, from: Data(buffer: listing.body)).data.map(\.id)
            #expect(!ids.contains("sim-chat:latest"))
            #expect(ids.contains("thinker"))
        }
    }
}
