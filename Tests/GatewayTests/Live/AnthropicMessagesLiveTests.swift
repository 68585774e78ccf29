import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@testable import Gateway

@Suite("Anthropic messages against ollama-sim", .timeLimit(.minutes(2)))
struct AnthropicMessagesLiveTests {
    func body(_ model: String, _ extra: String = "", stream: Bool = false, content: String = #""Hello there""#,
        maxTokens: Int = 256) -> String
    {
        #"{"model":"\#(model)","max_tokens":\#(maxTokens),"stream":\#(stream),"messages":[{"role":"user","content":\#(content)}]\#(extra)}"#
    }

    func message(_ response: TestResponse) throws -> AnthropicMessageResponse {
        try JSONDecoder().decode(AnthropicMessageResponse.self, from: Data(buffer: response.body))
    }

    func events(_ response: TestResponse) throws -> [AnthropicStreamEvent] {
        let sse = SSEEvents(response.body)
        var events: [AnthropicStreamEvent] = []
        for (name, data) in sse.events {
            let event = try JSONDecoder().decode(AnthropicStreamEvent.self, from: Data(data.utf8))
            #expect(name == event.type, "SSE event name and payload type differ")
            events.append(event)
        }
        return events
    }

    func accumulate(_ events: [AnthropicStreamEvent]) throws -> AnthropicMessageResponse {
        var accumulator = AnthropicMessageAccumulator()
        for event in events { accumulator.apply(event) }
        return try #require(accumulator.message)
    }

    func error(_ response: TestResponse) throws -> AnthropicErrorBody {
        try JSONDecoder().decode(AnthropicErrorBody.self, from: Data(buffer: response.body))
    }

    /// The same message without its (random) ids.
    func comparable(_ message: AnthropicMessageResponse) -> AnthropicMessageResponse {
        var message = normalizedIDs(message)
        message.id = "msg_X"
        return message
    }

    // MARK: - Answers

    @Test func nonStreamingMessage() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/messages", body("sim-chat", #","system":"Be kind.""#))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let message = try message(response)
            #expect(message.id.hasPrefix("msg_") && message.type == "message" && message.role == "assistant")
            #expect(message.model == "sim-chat")
            #expect(message.content == [.text("You said: Hello there")])
            #expect(message.stopReason == "end_turn" && message.stopSequence == nil)
            #expect(message.usage.inputTokens > 0 && message.usage.outputTokens > 0)
            let wire = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            #expect(wire["stop_sequence"] == .null)
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["options"]?["num_predict"] == 256)
            #expect(sent["messages"]?[0] == ["role": "system", "content": "Be kind."])
        }
    }

    @Test("a stream follows the grammar and adds up to the message", arguments: ["sim-chat", "sim-think", "sim-r1"])
    func streamAddsUpToTheMessage(model: String) async throws {
        // A finished stream closes its connection: the non-streamed request goes first.
        try await LiveGateway.run { gateway in
            let plain = try message(try await gateway.post("/v1/messages", body(model)))
            let response = try await gateway.post("/v1/messages", body(model, stream: true))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = try events(response)
            checkAnthropicGrammar(events)
            let streamed = try accumulate(events)
            #expect(comparable(streamed) == comparable(plain))
            if model != "sim-chat" {
                #expect(streamed.content.map(\.type) == ["thinking", "text"])
            }
        }
    }

    @Test func toolsOverSeveralTurns() async throws {
        try await LiveGateway.run { gateway in
            let tools = #""tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},{"name":"get_time","input_schema":{"type":"object","properties":{}}}]"#
            // The second turn (tool results back) first: a finished stream closes its connection.
            let followUp = #"""
                {"model":"sim-tools","max_tokens":100,\#(tools),"messages":[
                 {"role":"user","content":"Call get_weather and get_time"},
                 {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo"}},{"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}]},
                 {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"Rain"},{"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"noon"}]}]}]}
                """#
            let second = try message(try await gateway.post("/v1/messages", followUp))
            #expect(second.stopReason == "end_turn")
            #expect(second.content == [.text("The tool get_weather returned: Rain\nThe tool get_time returned: noon")])
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["messages"]?[1]?["tool_calls"]?[0]?["function"]?["arguments"] == ["city": "Oslo"])
            #expect(sent["messages"]?[2]?["tool_name"] == "get_weather")
            #expect(sent["messages"]?[3]?["tool_name"] == "get_time")

            let first = try await gateway.post(
                "/v1/messages", body("sim-tools", "," + tools, stream: true, content: #""Call get_weather and get_time""#))
            let events = try events(first)
            checkAnthropicGrammar(events)
            let turn = try accumulate(events)
            #expect(turn.stopReason == "tool_use")
            #expect(turn.content.map(\.type) == ["tool_use", "tool_use"])
            guard case .toolUse(let weatherID, "get_weather", let input) = turn.content[0],
                case .toolUse(let timeID, "get_time", _) = turn.content[1]
            else {
                Issue.record("unexpected blocks \(turn.content)")
                return
            }
            #expect(weatherID != timeID)
            #expect(input == ["city": "Call get_weather and get_time"])
        }
    }

    @Test func toolChoiceNamesOneToolOrNone() async throws {
        try await LiveGateway.run { gateway in
            let tools = #""tools":[{"name":"a","input_schema":{"type":"object","properties":{}}},{"name":"b","input_schema":{"type":"object","properties":{}}}]"#
            let only = try message(try await gateway.post(
                "/v1/messages", body("sim-tools", ",\(tools),\"tool_choice\":{\"type\":\"tool\",\"name\":\"b\"}")))
            #expect(only.content.map(\.type) == ["tool_use"])
            if case .toolUse(_, let name, _) = only.content.first { #expect(name == "b") }
            let none = try message(try await gateway.post(
                "/v1/messages", body("sim-tools", ",\(tools),\"tool_choice\":{\"type\":\"none\"}")))
            #expect(none.content == [.text("You said: Hello there")])
            #expect(gateway.upstreamRequests("/api/chat").last?["tools"] == nil)
        }
    }

    @Test func thinkingOnWithBudgetAndOff() async throws {
        try await LiveGateway.run { gateway in
            let on = try message(try await gateway.post(
                "/v1/messages", body("sim-think", #","thinking":{"type":"enabled","budget_tokens":2048}"#, maxTokens: 4096)))
            #expect(gateway.upstreamRequests("/api/chat").last?["think"] == "low")
            #expect(on.content.first == .thinking(
                thinking: "The user said: Hello there.", signature: AnthropicThinkingSignature.make(for: "The user said: Hello there.")))
            let off = try message(try await gateway.post("/v1/messages", body("sim-think", #","thinking":{"type":"disabled"}"#)))
            #expect(gateway.upstreamRequests("/api/chat").last?["think"] == false)
            #expect(off.content == [.text("You said: Hello there")])
            let hidden = try message(try await gateway.post("/v1/messages", body("sim-think", #","exclude_reasoning":true"#)))
            #expect(hidden.content == [.text("You said: Hello there")])
        }
    }

    @Test func thinkingSentBackGoesUpstream() async throws {
        try await LiveGateway.run { gateway in
            let history = #"[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"Greeting.","signature":"x"},{"type":"text","text":"Hello!"}]},{"role":"user","content":"Again"}]"#
            let response = try await gateway.post(
                "/v1/messages", #"{"model":"sim-think","max_tokens":100,"messages":\#(history)}"#)
            #expect(response.status == .ok)
            let sent = try #require(gateway.upstreamRequests("/api/chat").last)
            #expect(sent["messages"]?[1] == ["role": "assistant", "content": "Hello!", "thinking": "Greeting."])
        }
    }

    @Test func base64ImagesReachTheModel() async throws {
        try await LiveGateway.run { gateway in
            let png = Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).base64EncodedString()
            let content = #"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"\#(png)"}},{"type":"text","text":"What?"}]"#
            let answer = try message(try await gateway.post("/v1/messages", body("sim-vision", content: content)))
            guard case .text(let text) = answer.content.first else {
                Issue.record("no text")
                return
            }
            #expect(text.hasPrefix("Image 1: 7 bytes"))
            #expect(gateway.upstreamRequests("/api/chat").last?["messages"]?[0]?["images"] == [.string(png)])
        }
    }

    @Test func privateImageURLIsRefused() async throws {
        try await LiveGateway.run { gateway in
            let content = #"[{"type":"image","source":{"type":"url","url":"http://127.0.0.1:1/x.png"}}]"#
            let response = try await gateway.post("/v1/messages", body("sim-vision", content: content))
            #expect(response.status == .badRequest)
            let detail = try error(response).error
            #expect(detail.type == "invalid_request_error")
            #expect(detail.message.contains("private"))
            #expect(gateway.upstreamRequests("/api/chat").isEmpty)
        }
    }

    @Test func stopSequenceIsReportedStreamedOrNot() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post(
                    "/v1/messages", body("sim-chat", #","stop_sequences":["zzz"," there"]"#, stream: stream))
                let answer = stream ? try accumulate(try events(response)) : try message(response)
                #expect(answer.content == [.text("You said: Hello")])
                #expect(answer.stopReason == "stop_sequence" && answer.stopSequence == " there")
            }
            #expect(gateway.upstreamRequests("/api/chat").last?["options"]?["stop"] == nil)
        }
    }

    @Test func stopSequenceCancelsTheGeneration() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/messages",
                body("sim-chat", #","stop_sequences":["dolor"],"options":{"sim_tokens":400,"sim_token_interval_ms":5}"#, stream: true))
            let answer = try accumulate(try events(response))
            #expect(answer.stopSequence == "dolor")
            #expect(answer.content == [.text("Lorem ipsum ")])
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
        }
    }

    @Test func maxTokensCutsTheAnswer() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post("/v1/messages", body("sim-chat", stream: stream, maxTokens: 2))
                let answer = stream ? try accumulate(try events(response)) : try message(response)
                #expect(answer.stopReason == "max_tokens")
                #expect(answer.usage.outputTokens == 2)
                #expect(answer.content == [.text("You said")])
            }
        }
    }

    @Test func countTokensIsOllamasCount() async throws {
        try await LiveGateway.run { gateway in
            let request = #"{"model":"sim-chat","system":"Be kind.","messages":[{"role":"user","content":"Hello there"}]}"#
            for prefix in ["", "/anthropic"] {
                let response = try await gateway.post(prefix + "/v1/messages/count_tokens", request)
                #expect(response.status == .ok)
                #expect(response.headers[AnthropicTokenCountHeader.name] == "exact")
                let count = try JSONDecoder().decode(AnthropicTokenCount.self, from: Data(buffer: response.body))
                let answered = try message(try await gateway.post(prefix + "/v1/messages", body("sim-chat", #","system":"Be kind.""#)))
                #expect(count.inputTokens == answered.usage.inputTokens)
            }
            let sent = try #require(gateway.upstreamRequests("/api/chat").first)
            #expect(sent["options"]?["num_predict"] == 1)
            #expect(sent["stream"] == false)
        }
    }

    @Test func countTokensEstimatesWhenOllamaCannotCount() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/messages/count_tokens",
                #"{"model":"sim-chat","options":{"sim_fault":"http_500"},"messages":[{"role":"user","content":"Hello there"}]}"#)
            #expect(response.status == .ok)
            #expect(response.headers[AnthropicTokenCountHeader.name] == "estimate")
            let count = try JSONDecoder().decode(AnthropicTokenCount.self, from: Data(buffer: response.body))
            #expect(count.inputTokens == 4 + 3)
            let missing = try await gateway.post(
                "/v1/messages/count_tokens", #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#)
            #expect(missing.status == .notFound)
        }
    }

    @Test func credentialsHeadersAreAccepted() async throws {
        try await LiveGateway.run { gateway in
            for headers: HTTPFields in [
                [.contentType: "application/json", HTTPField.Name("x-api-key")!: "sk-ant-test", HTTPField.Name("anthropic-version")!: "2023-06-01",
                 HTTPField.Name("anthropic-beta")!: "made-up-2099-01-01"],
                [.contentType: "application/json", .authorization: "Bearer sk-test"],
            ] {
                let response = try await gateway.client.execute(
                    uri: "/anthropic/v1/messages", method: .post, headers: headers, body: ByteBuffer(string: body("sim-chat")))
                #expect(response.status == .ok)
            }
        }
    }

    // MARK: - Failures

    @Test func requestErrors() async throws {
        try await LiveGateway.run({ $0.maxBodyBytes = 4096 }) { gateway in
            let cases: [(String, Int, String)] = [
                ("{not json", 400, "invalid_request_error"),
                (#"{"model":"sim-chat","messages":[{"role":"user","content":"x"}]}"#, 400, "invalid_request_error"),
                (body("sim-chat", #","thinking":{"type":"enabled","budget_tokens":2000}"#), 400, "invalid_request_error"),
                (body("nope"), 404, "not_found_error"),
                (body("sim-chat", content: "\"" + String(repeating: "x", count: 8192) + "\""), 413, "request_too_large"),
            ]
            for (request, status, type) in cases {
                let response = try await gateway.post("/v1/messages", request)
                #expect(Int(response.status.code) == status, "\(request.prefix(60))")
                let detail = try error(response)
                #expect(detail.type == "error" && detail.error.type == type, "\(request.prefix(60))")
            }
            let streamed = try await gateway.post("/v1/messages", body("nope", stream: true))
            #expect(streamed.status == .notFound)
            #expect(try error(streamed).error.message.contains("'nope'"))
            // Only the thinking request reached Ollama (which refused it): a missing max_tokens, an
            // unknown model (the registry knows Ollama's models) and an oversized body never do.
            #expect(gateway.upstreamRequests("/api/chat").count == 1)
        }
    }

    @Test("Ollama failures before the first byte", arguments: [
        ("http_500", 502, "api_error"), ("http_503", 529, "overloaded_error"),
    ])
    func upstreamStatus(fault: String, status: Int, type: String) async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post(
                    "/v1/messages", body("sim-chat", #","options":{"sim_fault":"\#(fault)"}"#, stream: stream))
                #expect(Int(response.status.code) == status)
                #expect(try error(response).error.type == type)
            }
        }
    }

    @Test func unreachableOllamaIs502() async throws {
        let app = try await buildApplication(
            configuration: TestGateway.configuration(upstream: TestGateway.deadUpstream), logger: TestGateway.logger)
        try await app.test(.live) { client in
            let response = try await client.execute(
                uri: "/v1/messages", method: .post, body: ByteBuffer(string: body("sim-chat", stream: true)))
            #expect(response.status == .badGateway)
            let detail = try error(response).error
            #expect(detail.type == "api_error")
            #expect(detail.message.contains("Ollama is not reachable"), "\(detail.message)")
            #expect(!detail.message.contains("127.0.0.1:9"))
        }
    }

    @Test("failures mid-stream end with an error event", arguments: ["error_mid_stream", "no_done", "drop_mid_stream"])
    func midStream(fault: String) async throws {
        try await LiveGateway.run { gateway in
            // Unstreamed, the gateway reads Ollama's answer as a stream only when it has stop sequences
            // to watch; otherwise Ollama answers whole, and its failure is its HTTP status (`no_done`
            // is a streaming fault only).
            for stops in [#","stop_sequences":["zzz"]"#, ""] where !(stops.isEmpty && fault == "no_done") {
                let plain = try await gateway.post(
                    "/v1/messages", body("sim-chat", stops + #","options":{"sim_fault":"\#(fault)","sim_fault_after":2}"#))
                #expect(plain.status == .badGateway, "\(stops)")
                #expect(try error(plain).error.type == "api_error")
            }
            let streamed = gateway.upstreamRequests("/api/chat").map { $0["stream"]?.boolValue }
            #expect(streamed == (fault == "no_done" ? [true] : [true, false]), "Ollama asked to stream only to watch for stops")
            let response = try await gateway.post(
                "/v1/messages", body("sim-chat", #","options":{"sim_fault":"\#(fault)","sim_fault_after":2}"#, stream: true))
            #expect(response.status == .ok)
            let events = try events(response)
            guard case .error(let detail) = events.last else {
                Issue.record("the stream did not end with an error: \(events.map(\.type))")
                return
            }
            #expect(detail.type == "api_error")
            #expect(!detail.message.isEmpty)
            #expect(events.first?.type == "message_start")
            #expect(events.contains { $0.type == "content_block_delta" }, "output before the failure was relayed")
            #expect(!events.contains(.messageStop))
        }
    }

    @Test func deadlinesAreTimeoutErrors() async throws {
        try await LiveGateway.run({ $0.streamIdleTimeout = .milliseconds(400) }) { gateway in
            let started = ContinuousClock.now
            let beforeFirstByte = try await gateway.post(
                "/v1/messages",
                body("sim-chat", #","timeout_ms":300,"options":{"sim_fault":"stall"}"#))
            #expect(beforeFirstByte.status == .gatewayTimeout)
            #expect(try error(beforeFirstByte).error.type == "timeout_error")
            let stalled = try await gateway.post("/v1/messages", body("sim-chat", #","options":{"sim_fault":"stall"}"#, stream: true))
            guard case .error(let detail) = try events(stalled).last else {
                Issue.record("no error event")
                return
            }
            #expect(detail.type == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(60), "a timeout, not the model, ended it")
            #expect(await gateway.sim.recorder.waitForDisconnects(2, timeout: .seconds(3)))
        }
    }

    @Test func pingsWhileTheModelIsSilent() async throws {
        try await LiveGateway.run({ $0.streamPingInterval = .milliseconds(100) }) { gateway in
            let response = try await gateway.post(
                "/v1/messages",
                body("sim-chat", #","options":{"sim_fault":"slow_first_token","sim_delay_ms":700}"#, stream: true))
            let events = try events(response)
            checkAnthropicGrammar(events)
            let pings = events.filter { $0 == .ping }.count
            // About one per interval while the model is silent (a loaded machine stretches the silence).
            #expect(pings >= 3 && pings <= 50, "\(pings) pings")
            #expect(events[1] == .ping, "the pings come before the first block")
            #expect(try accumulate(events).content == [.text("You said: Hello there")])
        }
    }

    @Test("a model that loads past the request's deadline: pings, then a timeout error event, and Ollama's request cancelled")
    func loadPastTheDeadline() async throws {
        try await LiveGateway.run(simulator: SimulatorConfiguration(loadTime: .seconds(30)), { $0.streamPingInterval = .milliseconds(100) }) {
            gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/messages", body("sim-chat", #","timeout_ms":700"#, stream: true))
            #expect(response.status == .ok)
            let events = try events(response)
            #expect(events.first?.type == "message_start")
            #expect(events.contains(.ping))
            guard case .error(let detail) = events.last else {
                Issue.record("no error event: \(events.map(\.type))")
                return
            }
            #expect(detail.type == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(10), "the deadline, not the load, ended it")
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(5)))
        }
    }

    @Test("a client that leaves cancels Ollama's request: while the model answers, and while it still loads", arguments: [
        false, true,
    ])
    func clientDisconnectCancelsUpstream(whileLoading: Bool) async throws {
        // The stalled model never answers: the stream commits (`message_start`) after one ping interval.
        // A model that loads for 30 s has not answered either: the relay is still waiting for Ollama's head.
        let simulator = whileLoading ? SimulatorConfiguration(loadTime: .seconds(30)) : SimulatorConfiguration()
        try await LiveGateway.run(simulator: simulator, { $0.streamPingInterval = .milliseconds(200) }) { gateway in
            let port = try #require(gateway.client.port)
            try await withHTTPClient { http in
                do {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/messages")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: body("sim-chat", #","options":{"sim_fault":"stall"}"#, stream: true)))
                    let response = try await http.execute(request, timeout: .seconds(30))
                    #expect(response.status == .ok)
                    var iterator = response.body.makeAsyncIterator()
                    let first = try await iterator.next()
                    #expect(first.map { String(buffer: $0).contains("message_start") } == true)
                    // Leaving without reading the rest closes the connection.
                }
                let left = ContinuousClock.now
                // At once: the connection's close is seen; the bound leaves room for a loaded machine.
                #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
                #expect(ContinuousClock.now - left < .seconds(3))
            }
        }
    }
}
