import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gateway

/// What Claude Code and the Anthropic SDK send, and the Anthropic model listing, against ollama-sim.
@Suite("Anthropic clients against ollama-sim", .timeLimit(.minutes(2)))
struct AnthropicClientsLiveTests {
    static let anthropicHeaders: HTTPFields = [
        .contentType: "application/json", HTTPField.Name("anthropic-version")!: "2023-06-01",
        HTTPField.Name("x-api-key")!: "sk-ant-test",
        HTTPField.Name("anthropic-beta")!:
            "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,mid-conversation-tool-changes-2026-07-01",
    ]

    /// A request shaped as Claude Code sends it: billing line and `cache_control` in `system`, a
    /// system message after the user turn, adaptive thinking with an effort, `context_management`,
    /// `metadata`, a `max_tokens` far above any context, and tools with schemas.
    func claudeCodeBody(model: String, stamp: String, stream: Bool = false) -> String {
        let schema = #"{"type":"object","properties":{"file_path":{"type":"string","description":"The absolute path"},"offset":{"type":"number"},"limit":{"type":"number"}},"required":["file_path"],"additionalProperties":false,"$schema":"http://json-schema.org/draft-07/schema#"}"#
        let tools = (1...12).map { #"{"name":"Tool\#($0)","description":"\#(String(repeating: "Does things. ", count: 40))","input_schema":\#(schema)}"# }
            .joined(separator: ",")
        return #"""
            {"model":"\#(model)","max_tokens":64000,"stream":\#(stream),
             "system":[{"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.9.\#(stamp); cc_entrypoint=sdk-py; cch=\#(stamp);"},
                       {"type":"text","text":"You are Claude Code, Anthropic's official CLI for Claude.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":[{"type":"text","text":"Hello there","cache_control":{"type":"ephemeral","ttl":"1h"}}]},
                         {"role":"system","content":"<env>Working directory: /tmp</env>"}],
             "tools":[\#(tools)],
             "thinking":{"type":"adaptive"},"output_config":{"effort":"high"},
             "context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
             "metadata":{"user_id":"user_abc_account__session_123"}}
            """#
    }

    @Test("Claude Code's request is taken whole", arguments: [("sim-tools", nil), ("sim-agent", "high")] as [(String, String?)])
    func claudeCodeRequest(model: String, think: String?) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.client.execute(
                uri: "/v1/messages?beta=true", method: .post, headers: Self.anthropicHeaders,
                body: ByteBuffer(string: claudeCodeBody(model: model, stamp: "aaa")))
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            let wire = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            #expect(wire["usage"]?["cache_read_input_tokens"] == 0 && wire["usage"]?["cache_creation_input_tokens"] == 0)
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["think"] == think.map(JSONValue.string))
            #expect(sent["tools"]?.arrayValue?.count == 12)
            #expect(sent["options"]?["num_predict"] == 64000)
            let roles = sent["messages"]?.arrayValue?.compactMap { $0["role"]?.stringValue }
            #expect(roles == ["system", "user", "system"])
            #expect(sent["messages"]?[0]?["content"] == "You are Claude Code, Anthropic's official CLI for Claude.")
            #expect(sent["messages"]?[2]?["content"] == "<env>Working directory: /tmp</env>")
        }
    }

    @Test func billingLineRemovedGivesTheSamePromptPrefixEachTurn() async throws {
        try await LiveGateway.run { gateway in
            for stamp in ["a1", "b2"] {
                _ = try await gateway.post("/v1/messages", claudeCodeBody(model: "sim-tools", stamp: stamp))
            }
            let sent = gateway.upstreamRequests("/api/chat").suffix(2).map { $0["messages"] }
            #expect(sent.count == 2 && sent[0] == sent[1])
        }
        try await LiveGateway.run({ $0.anthropicStripBillingHeader = false }) { gateway in
            for stamp in ["a1", "b2"] {
                _ = try await gateway.post("/v1/messages", claudeCodeBody(model: "sim-tools", stamp: stamp))
            }
            let sent = gateway.upstreamRequests("/api/chat").suffix(2).map { $0["messages"]?[0]?["content"] }
            #expect(sent.count == 2 && sent[0] != sent[1])
        }
    }

    @Test func omittedThinkingStreamsEmptyBlocksWithASignature() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/messages",
                #"{"model":"sim-think","max_tokens":100,"stream":true,"thinking":{"type":"adaptive","display":"omitted"},"messages":[{"role":"user","content":"Hi"}]}"#)
            // The connection stays open for the client's next request.
            #expect(response.headers[.connection] != "close")
            let events = SSEEvents(response.body).json
            #expect(!events.contains { $0["delta"]?["type"] == "thinking_delta" })
            #expect(events.contains { $0["delta"]?["type"] == "signature_delta" })
            #expect(events.contains { $0["content_block"]?["type"] == "thinking" })
        }
    }

    @Test func nullOptionsAreNotSetOnEveryRoute() async throws {
        try await LiveGateway.run { gateway in
            let nulls = #""options":{"num_ctx":null,"temperature":null,"seed":null}"#
            for (path, body) in [
                ("/api/embed", #"{"model":"sim-embed","input":"hi",\#(nulls)}"#),
                ("/api/chat", #"{"model":"sim-chat","stream":false,"messages":[{"role":"user","content":"hi"}],\#(nulls)}"#),
                ("/v1/chat/completions", #"{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"num_ctx":null,"extra_body":{"num_gpu":null}}"#),
                ("/v1/messages", #"{"model":"sim-chat","max_tokens":9,"messages":[{"role":"user","content":"hi"}],"num_ctx":null,\#(nulls)}"#),
            ] {
                let response = try await gateway.post(path, body)
                #expect(response.status == .ok, "\(path): \(String(buffer: response.body))")
            }
        }
    }

    // MARK: - Models

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    @Test func modelsInAnthropicShapeForAnthropicClients() async throws {
        try await LiveGateway.run { gateway in
            let versioned = try json(try await gateway.client.execute(uri: "/v1/models", method: .get, headers: Self.anthropicHeaders))
            let prefixed = try json(try await gateway.client.execute(uri: "/anthropic/v1/models?limit=1000", method: .get))
            let openAI = try json(try await gateway.client.execute(uri: "/v1/models", method: .get))
            #expect(openAI["object"] == "list" && openAI["has_more"] == nil)
            for list in [versioned, prefixed] {
                let data = try #require(list["data"]?.arrayValue)
                #expect(!data.isEmpty)
                #expect(list["has_more"] == false)
                #expect(list["first_id"] == data.first?["id"] && list["last_id"] == data.last?["id"])
                for model in data {
                    #expect(model["type"] == "model")
                    #expect(model["display_name"]?.stringValue?.isEmpty == false)
                    #expect(model["created_at"]?.stringValue?.contains("T") == true)
                }
            }
            let one = try await gateway.client.execute(uri: "/anthropic/v1/models/sim-chat", method: .get)
            #expect(one.status == .ok)
            let info = try json(one)
            #expect(info["id"] == "sim-chat" && info["type"] == "model" && info["max_input_tokens"]?.intValue != nil)
            for path in ["/anthropic/v1/models/nope", "/v1/models/nope"] {
                let missing = try await gateway.client.execute(uri: path, method: .get, headers: Self.anthropicHeaders)
                #expect(missing.status == .notFound)
                #expect(try json(missing)["type"] == "error", "\(path)")
                #expect(try json(missing)["error"]?["type"] == "not_found_error", "\(path)")
            }
            let versionedOne = try await gateway.client.execute(uri: "/v1/models/sim-chat", method: .get, headers: Self.anthropicHeaders)
            #expect(try json(versionedOne)["type"] == "model")
        }
    }

    @Test func modelsArePagedWithAnthropicsCursors() async throws {
        try await LiveGateway.run { gateway in
            let all = try #require(try json(try await gateway.client.execute(uri: "/anthropic/v1/models?limit=1000", method: .get))["data"]?
                .arrayValue?.compactMap { $0["id"]?.stringValue })
            #expect(all.count >= 4)
            let first = try json(try await gateway.client.execute(uri: "/anthropic/v1/models?limit=2", method: .get))
            #expect(first["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(all[0..<2]))
            #expect(first["has_more"] == true)
            let next = try json(try await gateway.client.execute(uri: "/anthropic/v1/models?limit=2&after_id=\(all[1])", method: .get))
            #expect(next["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(all[2..<4]))
            let before = try json(try await gateway.client.execute(uri: "/anthropic/v1/models?limit=5&before_id=\(all[2])", method: .get))
            #expect(before["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(all[0..<2]))
            #expect(before["has_more"] == false)
            for bad in ["limit=0", "limit=x", "after_id=nope"] {
                let response = try await gateway.client.execute(uri: "/anthropic/v1/models?\(bad)", method: .get)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(try json(response)["error"]?["type"] == "invalid_request_error")
            }
        }
    }
}
