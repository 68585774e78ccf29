import Foundation
import Gateway
import GatewayAPI
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Routes without a working upstream")
struct RouterTests {
    func withGateway(
        _ adjust: (inout GatewayConfiguration) -> Void = { _ in }, _ test: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try await buildApplication(
            configuration: TestGateway.configuration(upstream: TestGateway.deadUpstream, adjust), logger: TestGateway.logger)
        try await app.test(.live, test)
    }

    func openAIError(_ response: TestResponse) throws -> OpenAIErrorBody.Detail {
        try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
    }

    @Test func liveness() async throws {
        try await withGateway { client in
            let response = try await client.execute(uri: "/health/live", method: .get)
            #expect(response.status == .ok)
        }
    }

    @Test func readinessSaysWhatIsWrong() async throws {
        try await withGateway { client in
            let response = try await client.execute(uri: "/health/ready", method: .get)
            #expect(response.status == .serviceUnavailable)
            #expect(String(buffer: response.body).contains("ollama: Ollama is unreachable"))
            // Where Ollama is stays internal: the log says it, not the answer.
            #expect(!String(buffer: response.body).contains("127.0.0.1:9"))
        }
    }

    @Test func malformedJSONIs400() async throws {
        try await withGateway { client in
            let response = try await client.execute(
                uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{not json"))
            #expect(response.status == .badRequest)
            let error = try openAIError(response)
            #expect(error.type == "invalid_request_error")
        }
    }

    @Test func missingFieldNamesIt() async throws {
        try await withGateway { client in
            let response = try await client.execute(
                uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: #"{"model":"m"}"#))
            #expect(response.status == .badRequest)
            #expect(try openAIError(response).param == "messages")
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await withGateway({ $0.maxBodyBytes = 1024 }) { client in
            let big = #"{"model":"m","messages":[{"role":"user","content":""# + String(repeating: "x", count: 4096) + #""}]}"#
            let response = try await client.execute(uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: big))
            #expect(response.status == .contentTooLarge)
            #expect(try openAIError(response).type == "invalid_request_error")
        }
    }

    @Test func unreachableOllamaIs502WithoutItsURL() async throws {
        try await withGateway { client in
            for stream in [false, true] {
                let response = try await client.execute(
                    uri: "/v1/chat/completions", method: .post,
                    body: ByteBuffer(string: #"{"model":"m","stream":\#(stream),"messages":[{"role":"user","content":"x"}]}"#))
                #expect(response.status == .badGateway)
                let error = try openAIError(response)
                #expect(error.message == "Ollama is unreachable.")
                #expect(!String(buffer: response.body).contains("127.0.0.1:9"))
                #expect(error.code == "upstream_unreachable")
            }
        }
    }
}
