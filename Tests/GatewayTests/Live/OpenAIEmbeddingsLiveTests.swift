import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@Suite("OpenAI embeddings against ollama-sim", .timeLimit(.minutes(2)))
struct OpenAIEmbeddingsLiveTests {
    func embed(_ model: String, _ input: String, _ extra: String = "") -> String {
        #"{"model":"\#(model)","input":\#(input)\#(extra)}"#
    }

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    func vectors(_ body: JSONValue) -> [[Double]] {
        (body["data"]?.arrayValue ?? []).map { ($0["embedding"]?.arrayValue ?? []).compactMap(\.doubleValue) }
    }

    func openAIError(_ response: TestResponse) throws -> OpenAIErrorBody.Detail {
        try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
    }

    @Test func singleInput() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/embeddings", embed("sim-embed", #""The food was delicious""#))
            #expect(response.status == .ok)
            let body = try json(response)
            #expect(body["object"] == "list")
            #expect(body["model"] == "sim-embed")
            #expect(body["data"]?[0]?["object"] == "embedding")
            #expect(body["data"]?[0]?["index"] == 0)
            #expect(vectors(body).map(\.count) == [384])
            let promptTokens = try #require(body["usage"]?["prompt_tokens"]?.intValue)
            #expect(promptTokens > 0)
            #expect(body["usage"]?["total_tokens"]?.intValue == promptTokens)
            // The registry resolves the name to Ollama's full one.
            #expect(gateway.upstreamRequests("/api/embed") == [["model": "sim-embed:latest", "input": "The food was delicious"]])
        }
    }

    @Test func batchIsOneUpstreamCall() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/embeddings", embed("sim-embed", #"["one","two","three"]"#))
            #expect(response.status == .ok)
            let body = try json(response)
            #expect(body["data"]?.arrayValue?.map { $0["index"]?.intValue } == [0, 1, 2])
            let vectors = vectors(body)
            #expect(vectors.count == 3)
            #expect(Set(vectors).count == 3, "each text has its own vector")
            #expect(gateway.sim.recorder.requests(path: "/api/embed").count == 1)
            #expect(gateway.upstreamRequests("/api/embed").first?["input"] == ["one", "two", "three"])

            // The same texts one at a time give the same vectors, in the same order.
            let single = try await gateway.post("/v1/embeddings", embed("sim-embed", #""two""#))
            #expect(self.vectors(try json(single)).first == vectors[1])
        }
    }

    @Test func dimensions() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/embeddings", embed("sim-embed", #"["a","b"]"#, #","dimensions":64"#))
            #expect(response.status == .ok)
            let vectors = vectors(try json(response))
            #expect(vectors.map(\.count) == [64, 64])
            // Ollama re-normalizes a cut vector.
            let norm = vectors[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-4)
            #expect(gateway.upstreamRequests("/api/embed").first?["dimensions"] == 64)
        }
    }

    @Test func base64IsTheFloatVectorAsFloat32Bytes() async throws {
        try await LiveGateway.run { gateway in
            let floats = try json(try await gateway.post(
                "/v1/embeddings", embed("sim-embed", #"["alpha","beta"]"#, #","encoding_format":"float""#)))
            let encoded = try json(try await gateway.post(
                "/v1/embeddings", embed("sim-embed", #"["alpha","beta"]"#, #","encoding_format":"base64""#)))
            let expected = vectors(floats)
            for (index, item) in (encoded["data"]?.arrayValue ?? []).enumerated() {
                let text = try #require(item["embedding"]?.stringValue)
                let bytes = try #require(Data(base64Encoded: text))
                let decoded = stride(from: 0, to: bytes.count, by: 4).map { offset in
                    Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
                }
                #expect(decoded == expected[index].map { Float($0) })
            }
            #expect(encoded["data"]?.arrayValue?.count == 2)
            #expect(encoded["usage"] == floats["usage"])
            // The encoding is the gateway's business: Ollama is asked the same thing both times.
            let sent = gateway.upstreamRequests("/api/embed")
            #expect(sent.count == 2 && sent[0] == sent[1])
        }
    }

    @Test func ollamaControlsAndTruncationGoUpstream() async throws {
        try await LiveGateway.run { gateway in
            let long = Array(repeating: "word", count: 40).joined(separator: " ")
            let ok = try await gateway.post(
                "/v1/embeddings",
                embed("sim-embed", #""\#(long)""#, #","num_ctx":8,"keep_alive":"1m","extra_body":{"truncate":true}"#))
            #expect(ok.status == .ok)
            let sent = try #require(gateway.upstreamRequests("/api/embed").last)
            #expect(sent["options"] == ["num_ctx": 8])
            #expect(sent["keep_alive"] == "1m")
            #expect(sent["truncate"] == true)

            // Ollama's own 400 stays a 400, with its message.
            let refused = try await gateway.post(
                "/v1/embeddings", embed("sim-embed", #""\#(long)""#, #","num_ctx":8,"truncate":false"#))
            #expect(refused.status == .badRequest)
            #expect(try openAIError(refused).message.contains("exceeds the context length"))
        }
    }

    @Test func chatOnlyModelIsRefusedBeforeOllama() async throws {
        try await withCapabilities { client, sim in
            let refused = try await client.execute(
                uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: embed("sim-chat", #""x""#)))
            #expect(refused.status == .badRequest)
            let error = try openAIError(refused)
            #expect(error.param == "model")
            #expect(error.message.contains("sim-chat"))
            #expect(sim.recorder.requests(path: "/api/embed").isEmpty)

            let served = try await client.execute(
                uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: embed("sim-embed", #""x""#)))
            #expect(served.status == .ok)
        }
    }

    @Test func tokenInputIsRefused() async throws {
        try await LiveGateway.run { gateway in
            for input in ["[1,2,3]", "[[1,2],[3,4]]", #""""#, "[]"] {
                let response = try await gateway.post("/v1/embeddings", embed("sim-embed", input))
                #expect(response.status == .badRequest, "input \(input)")
                #expect(try openAIError(response).param == "input")
            }
            #expect(gateway.sim.recorder.requests(path: "/api/embed").isEmpty)
        }
    }

    @Test func unknownModelIs404NamingIt() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/embeddings", embed("nope", #""x""#))
            #expect(response.status == .notFound)
            let error = try openAIError(response)
            #expect(error.code == "model_not_found")
            #expect(error.message.contains("'nope'"))
        }
    }

    @Test("Ollama failures", arguments: [("http_500", 502), ("http_503", 503)])
    func upstreamStatus(fault: String, status: Int) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/embeddings", embed("sim-embed", #""x""#, #","options":{"sim_fault":"\#(fault)"}"#))
            #expect(Int(response.status.code) == status)
            #expect(try openAIError(response).message.isEmpty == false)
        }
    }

    @Test func deadlineIs504() async throws {
        try await LiveGateway.run { gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/embeddings",
                embed("sim-embed", #""x""#, #","timeout_ms":300,"options":{"sim_fault":"stall"}"#))
            #expect(response.status == .gatewayTimeout)
            #expect(try openAIError(response).type == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(60), "the deadline, not the model, ended it")
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await LiveGateway.run({ $0.maxBodyBytes = 1024 }) { gateway in
            let response = try await gateway.post(
                "/v1/embeddings", embed("sim-embed", #""\#(String(repeating: "x", count: 4096))""#))
            #expect(response.status == .contentTooLarge)
            #expect(gateway.sim.recorder.requests(path: "/api/embed").isEmpty)
        }
    }

    @Test func unreachableOllamaIs502() async throws {
        let app = try await buildApplication(
            configuration: TestGateway.configuration(upstream: TestGateway.deadUpstream), logger: TestGateway.logger)
        try await app.test(.live) { client in
            let response = try await client.execute(
                uri: "/v1/embeddings", method: .post, body: ByteBuffer(string: embed("sim-embed", #""x""#)))
            #expect(response.status == .badGateway)
            #expect(try openAIError(response).code == "upstream_unreachable")
        }
    }
}

/// The gateway in front of a running simulator, whose registry reads each model's capabilities
/// from the simulator's `/api/show` as it would from Ollama's.
func withCapabilities(
    _ body: @Sendable (any TestClientProtocol, RunningSimulator) async throws -> Void
) async throws {
    try await LiveGateway.run { gateway in
        try await body(gateway.client, gateway.sim)
    }
}
