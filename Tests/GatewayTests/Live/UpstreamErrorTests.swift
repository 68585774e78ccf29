import Foundation
import Gateway
import GatewayAPI
import HummingbirdTesting
import OllamaSim
import Testing

@testable import Gateway

@Suite("Ollama's refusals and failures, as clients see them", .timeLimit(.minutes(1)))
struct UpstreamErrorTests {
    @Test("a format Ollama refuses is the client's 400, in Ollama's format", arguments: [false, true])
    func refusedFormat(stream: Bool) async throws {
        try await LiveGateway.run { gateway in
            for path in ["/api/chat", "/api/generate"] {
                let body = path == "/api/chat"
                    ? #"{"model":"sim-chat","stream":\#(stream),"format":"yaml","messages":[{"role":"user","content":"x"}]}"#
                    : #"{"model":"sim-chat","stream":\#(stream),"format":"yaml","prompt":"x"}"#
                let response = try await gateway.post(path, body)
                #expect(response.status == .badRequest, "\(path): \(String(buffer: response.body))")
                let error = try JSONDecoder().decode(OllamaErrorBody.self, from: Data(buffer: response.body))
                #expect(error.error.hasPrefix("invalid format"))
                #expect(!String(buffer: response.body).contains("127.0.0.1"))
            }
        }
    }

    @Test func aBadOpenAIResponseFormatNeverNamesOllama() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/chat/completions",
                #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"options":{"sim_fault":"http_500"}}"#)
            #expect(!String(buffer: response.body).contains("127.0.0.1:\(gateway.sim.port)"))
        }
    }

    @Test func statusMapping() {
        #expect(OllamaClient.error(status: 400, message: "bad").kind == .invalidRequest)
        #expect(OllamaClient.error(status: 422, message: "unprocessable").status == .badRequest)
        #expect(OllamaClient.error(status: 404, message: "model 'x' not found").code == "model_not_found")
        #expect(OllamaClient.error(status: 500, message: #"invalid format: "\"yaml\"""#).status == .badRequest)
        #expect(OllamaClient.error(status: 500, message: "runner crashed").status == .badGateway)
        #expect(OllamaClient.error(status: 503, message: "busy").kind == .overloaded)
        #expect(OllamaClient.error(status: 403, message: "").code == "upstream_refused")
    }
}
