import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

@Suite("OpenAI chat against ollama-sim", .timeLimit(.minutes(2)))
struct OpenAIChatLiveTests {
    func chat(_ model: String, _ extra: String = "", stream: Bool = false, content: String = "Hello there") -> String {
        #"{"model":"\#(model)","stream":\#(stream),"messages":[{"role":"user","content":"\#(content)"}]\#(extra)}"#
    }

    @Test func nonStreamingAnswerAndUsage() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/chat/completions", chat("sim-chat"))
            #expect(response.status == .ok)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            #expect(body["model"] == "sim-chat")
            #expect(body["choices"]?[0]?["message"]?["content"]?.stringValue?.isEmpty == false)
            #expect(body["usage"]?["completion_tokens"]?.intValue ?? 0 > 0)
            #expect(gateway.upstreamRequests("/api/chat").count == 1)
        }
    }

    @Test func streamingEndsWithFinishUsageAndDone() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/chat/completions", chat("sim-chat", #","stream_options":{"include_usage":true}"#, stream: true))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = SSEEvents(response.body)
            #expect(events.dataLines.last == "[DONE]")
            let chunks = events.json
            #expect(Set(chunks.compactMap { $0["id"]?.stringValue }).count == 1)
            let usage = try #require(chunks.last)
            #expect(usage["choices"] == .array([]))
            let finish = chunks[chunks.count - 2]
            #expect(finish["choices"]?[0]?["finish_reason"] == "stop")
            let text = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
            #expect(!text.isEmpty)
            #expect(gateway.upstreamRequests("/api/chat").count == 1)
        }
    }

    @Test func toolCallsStreamWithIndexes() async throws {
        try await LiveGateway.run { gateway in
            let tools = #","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}}]"#
            let response = try await gateway.post(
                "/v1/chat/completions",
                chat("sim-tools", tools, stream: true, content: "Call get_weather and get_time"))
            let chunks = SSEEvents(response.body).json
            let calls = chunks.flatMap { $0["choices"]?[0]?["delta"]?["tool_calls"]?.arrayValue ?? [] }
            #expect(calls.map { $0["index"]?.intValue } == [0, 1])
            #expect(calls.compactMap { $0["function"]?["name"]?.stringValue }.sorted() == ["get_time", "get_weather"])
            #expect(chunks.last?["choices"]?[0]?["finish_reason"] == "tool_calls")
        }
    }

    @Test func assistantToolCallArgumentsGoUpstreamAsObjects() async throws {
        try await LiveGateway.run { gateway in
            let body = #"""
                {"model":"sim-tools","messages":[
                 {"role":"user","content":"Weather?"},
                 {"role":"assistant","content":null,"tool_calls":[{"id":"call_9","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
                 {"role":"tool","tool_call_id":"call_9","content":"Rain"}],
                 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
                """#
            let response = try await gateway.post("/v1/chat/completions", body)
            #expect(response.status == .ok)
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["messages"]?[1]?["tool_calls"]?[0]?["function"]?["arguments"] == ["city": "Oslo"])
            #expect(sent["messages"]?[2]?["tool_name"] == "get_weather")
            let answer = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            #expect(answer["choices"]?[0]?["message"]?["content"]?.stringValue?.contains("Rain") == true)
        }
    }

    @Test func reasoningStreamsAsReasoningContent() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/chat/completions", chat("sim-think", stream: true))
            let chunks = SSEEvents(response.body).json
            let reasoning = chunks.compactMap { $0["choices"]?[0]?["delta"]?["reasoning_content"]?.stringValue }.joined()
            let content = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
            #expect(!reasoning.isEmpty)
            #expect(!content.isEmpty)
        }
    }

    @Test func dataURLImagesArriveAsPlainBase64() async throws {
        try await LiveGateway.run { gateway in
            let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).base64EncodedString()
            let body = #"{"model":"sim-vision","messages":[{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,\#(png)"}}]}]}"#
            let response = try await gateway.post("/v1/chat/completions", body)
            #expect(response.status == .ok)
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["messages"]?[0]?["images"] == [.string(png)])
        }
    }

    @Test func privateImageURLsAreRefused() async throws {
        try await LiveGateway.run { gateway in
            for url in ["http://127.0.0.1:1/x.png", "http://localhost/x.png", "http://169.254.169.254/latest", "http://[::1]/x.png",
                "http://10.1.2.3/x.png"]
            {
                let body = #"{"model":"sim-vision","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#
                let response = try await gateway.post("/v1/chat/completions", body)
                #expect(response.status == .badRequest, "\(url)")
                let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
                #expect(error.message.contains("private") || error.message.contains("metadata"), "\(url): \(error.message)")
                #expect(error.param == "messages[0].content[0].image_url.url")
            }
            #expect(gateway.upstreamRequests("/api/chat").isEmpty)
        }
    }

    @Test func ollama400IsPassedOn() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/chat/completions", chat("sim-chat", #","think":true"#))
            #expect(response.status == .badRequest)
            #expect(String(buffer: response.body).contains("does not support thinking"))
        }
    }

    @Test func unknownModelIs404() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post("/v1/chat/completions", chat("nope", stream: stream))
                #expect(response.status == .notFound)
                let error = try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
                #expect(error.code == "model_not_found")
                #expect(error.message.contains("nope"))
            }
        }
    }

    @Test("failures before streaming", arguments: [("http_500", 502), ("http_503", 503)])
    func upstreamStatus(fault: String, status: Int) async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post(
                    "/v1/chat/completions", chat("sim-chat", #","options":{"sim_fault":"\#(fault)"}"#, stream: stream))
                #expect(Int(response.status.code) == status)
            }
        }
    }

    @Test("failures mid-stream end with an error event", arguments: ["error_mid_stream", "no_done", "drop_mid_stream"])
    func midStream(fault: String) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/chat/completions", chat("sim-chat", #","options":{"sim_fault":"\#(fault)"}"#, stream: true))
            #expect(response.status == .ok)
            let events = SSEEvents(response.body)
            let last = try #require(events.json.last)
            #expect(last["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(!events.dataLines.contains("[DONE]"))
            #expect(events.json.count > 1, "chunks before the failure were relayed")
        }
    }

    @Test func deadlineBeforeFirstTokenIs504() async throws {
        try await LiveGateway.run { gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/chat/completions",
                chat("sim-chat", #","timeout_ms":300,"options":{"sim_fault":"slow_first_token","sim_delay_ms":20000}"#))
            #expect(response.status == .gatewayTimeout)
            #expect(ContinuousClock.now - started < .seconds(60), "the deadline, not the model, ended it")
        }
    }

    @Test func stalledStreamEndsWithTimeoutEvent() async throws {
        try await LiveGateway.run({ $0.streamIdleTimeout = .milliseconds(400) }) { gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/chat/completions", chat("sim-chat", #","options":{"sim_fault":"stall"}"#, stream: true))
            let last = try #require(SSEEvents(response.body).json.last)
            #expect(last["error"]?["type"] == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(60), "a timeout, not the model, ended it")
            // The gateway gave up on Ollama: Ollama must see its connection closed too.
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
        }
    }
}
