import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import HummingbirdTesting
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@Suite("OpenAI legacy completions against ollama-sim", .timeLimit(.minutes(2)))
struct OpenAICompletionsLiveTests {
    func completion(_ model: String, _ prompt: String = #""Hello there""#, _ extra: String = "", stream: Bool = false)
        -> String
    {
        #"{"model":"\#(model)","prompt":\#(prompt),"stream":\#(stream)\#(extra)}"#
    }

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    func openAIError(_ response: TestResponse) throws -> OpenAIErrorBody.Detail {
        try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
    }

    /// The streamed text of each choice, by index.
    func texts(_ chunks: [JSONValue]) -> [Int: String] {
        var texts: [Int: String] = [:]
        for choice in chunks.flatMap({ $0["choices"]?.arrayValue ?? [] }) {
            guard let index = choice["index"]?.intValue else { continue }
            texts[index, default: ""] += choice["text"]?.stringValue ?? ""
        }
        return texts
    }

    @Test func nonStreaming() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/completions", completion("sim-chat"))
            #expect(response.status == .ok)
            let body = try json(response)
            #expect(body["object"] == "text_completion")
            #expect(body["id"]?.stringValue?.hasPrefix("cmpl-") == true)
            #expect(body["model"] == "sim-chat")
            #expect(body["choices"]?[0]?["text"] == "You said: Hello there")
            #expect(body["choices"]?[0]?["index"] == 0)
            #expect(body["choices"]?[0]?["logprobs"] == .null)
            #expect(body["choices"]?[0]?["finish_reason"] == "stop")
            let usage = try #require(body["usage"])
            #expect((usage["prompt_tokens"]?.intValue ?? 0) > 0)
            #expect((usage["completion_tokens"]?.intValue ?? 0) > 0)
            let sent = gateway.upstreamRequests("/api/generate")
            #expect(sent.count == 1)
            #expect(sent.first?["prompt"] == "Hello there")
            #expect(sent.first?["stream"] == false)
            #expect(sent.first?["options"] == nil, "no sampling defaults forced")
        }
    }

    @Test func streamingMatchesNonStreaming() async throws {
        try await LiveGateway.run { gateway in
            let whole = try json(try await gateway.post("/v1/completions", completion("sim-chat")))
            let response = try await gateway.post(
                "/v1/completions",
                completion("sim-chat", #""Hello there""#, #","stream_options":{"include_usage":true}"#, stream: true))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = SSEEvents(response.body)
            #expect(events.dataLines.last == "[DONE]")
            let chunks = events.json
            #expect(Set(chunks.compactMap { $0["id"]?.stringValue }).count == 1)
            #expect(chunks.allSatisfy { $0["object"] == "text_completion" && $0["model"] == "sim-chat" })
            #expect(chunks.first?["id"]?.stringValue?.hasPrefix("cmpl-") == true)
            #expect(texts(chunks)[0] == whole["choices"]?[0]?["text"]?.stringValue)
            let usage = try #require(chunks.last)
            #expect(usage["choices"] == .array([]))
            #expect(usage["usage"] == whole["usage"])
            let finish = chunks[chunks.count - 2]
            #expect(finish["choices"]?[0]?["finish_reason"] == "stop")
            #expect(chunks.dropLast(2).allSatisfy { $0["choices"]?[0]?["finish_reason"] == .null })
            #expect(chunks.dropLast().allSatisfy { $0["usage"] == nil })
            #expect(gateway.upstreamRequests("/api/generate").last?["stream"] == true)
        }
    }

    @Test func echoPrependsThePrompt() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post(
                    "/v1/completions", completion("sim-chat", #""Hi""#, #","echo":true"#, stream: stream))
                let text =
                    stream
                    ? texts(SSEEvents(response.body).json)[0]
                    : try json(response)["choices"]?[0]?["text"]?.stringValue
                #expect(text == "HiYou said: Hi")
            }
        }
    }

    @Test func suffixFillsTheMiddle() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/completions", completion("sim-code", #""def add(a, b):""#, #","suffix":"return c""#))
            #expect(response.status == .ok)
            let text = try json(response)["choices"]?[0]?["text"]?.stringValue
            #expect(text?.hasPrefix("/* infill:") == true)
            #expect(gateway.upstreamRequests("/api/generate").last?["suffix"] == "return c")

            // A model without `insert` (its capabilities read from Ollama): refused before Ollama is called.
            let calls = gateway.upstreamRequests("/api/generate").count
            let refused = try await gateway.post(
                "/v1/completions", completion("sim-chat", #""x""#, #","suffix":"y""#))
            #expect(refused.status == .badRequest)
            #expect(try openAIError(refused).param == "suffix")
            #expect(gateway.upstreamRequests("/api/generate").count == calls)
        }
    }

    @Test func stopSequences() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/completions", completion("sim-chat", #""Hello there""#, #","stop":"there""#))
            let body = try json(response)
            #expect(body["choices"]?[0]?["text"] == "You said: Hello ")
            #expect(body["choices"]?[0]?["finish_reason"] == "stop")
            #expect(gateway.upstreamRequests("/api/generate").last?["options"]?["stop"] == ["there"])
        }
    }

    @Test func maxTokensGivesLength() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post(
                    "/v1/completions",
                    completion(
                        "sim-chat", #""Write a long story""#, #","max_tokens":2,"stream_options":{"include_usage":true}"#,
                        stream: stream))
                let chunks = stream ? SSEEvents(response.body).json : [try json(response)]
                let finish = chunks.flatMap { $0["choices"]?.arrayValue ?? [] }.compactMap { $0["finish_reason"]?.stringValue }
                #expect(finish == ["length"])
                #expect(chunks.last?["usage"]?["completion_tokens"] == 2)
                #expect(gateway.upstreamRequests("/api/generate").last?["options"]?["num_predict"] == 2)
            }
        }
    }

    @Test func arrayOfPrompts() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/completions", completion("sim-chat", #"["First","Second one"]"#))
            let body = try json(response)
            let choices = try #require(body["choices"]?.arrayValue)
            #expect(choices.map { $0["index"]?.intValue } == [0, 1])
            #expect(choices.map { $0["text"]?.stringValue } == ["You said: First", "You said: Second one"])
            let sent = gateway.upstreamRequests("/api/generate")
            #expect(sent.map { $0["prompt"] } == ["First", "Second one"])

            let streamed = try await gateway.post(
                "/v1/completions",
                completion(
                    "sim-chat", #"["First","Second one"]"#, #","stream_options":{"include_usage":true}"#, stream: true))
            let events = SSEEvents(streamed.body)
            #expect(events.dataLines.last == "[DONE]")
            let chunks = events.json
            #expect(texts(chunks) == [0: "You said: First", 1: "You said: Second one"])
            let finishes = chunks.flatMap { $0["choices"]?.arrayValue ?? [] }.filter { $0["finish_reason"] != .null }
            #expect(finishes.map { $0["index"]?.intValue } == [0, 1])
            // Usage is summed over the prompts, as in the non-streamed answer.
            #expect(chunks.last?["usage"] == body["usage"])
            #expect(gateway.sim.recorder.requests(path: "/api/generate").count == 4)
        }
    }

    /// One request per gateway: the test client does not reconnect after a streamed response.
    @Test("thinking is not part of the text", arguments: ["sim-think", "sim-r1"], [false, true])
    func thinkingIsNotPartOfTheText(model: String, stream: Bool) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/completions", completion(model, #""Hi""#, stream: stream))
            let text =
                stream
                ? texts(SSEEvents(response.body).json)[0]
                : try json(response)["choices"]?[0]?["text"]?.stringValue
            #expect(text == "You said: Hi")
        }
    }

    @Test func ollamaControlsGoUpstream() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/completions",
                completion(
                    "sim-think", #""Hi""#,
                    #","num_ctx":2048,"keep_alive":"2m","think":false,"temperature":0.25,"extra_body":{"top_k":7}"#))
            #expect(response.status == .ok)
            let sent = try #require(gateway.upstreamRequests("/api/generate").last)
            #expect(sent["options"] == ["num_ctx": 2048, "temperature": 0.25, "top_k": 7])
            #expect(sent["keep_alive"] == "2m")
            #expect(sent["think"] == false)
        }
    }

    @Test("client mistakes are 400s before Ollama", arguments: [
        (#","n":2"#, "n"), (#","best_of":2"#, "best_of"), (#","logprobs":2"#, "logprobs"), (#","max_tokens":0"#, "max_tokens"),
    ])
    func clientMistakes(extra: String, param: String) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post("/v1/completions", completion("sim-chat", #""x""#, extra))
            #expect(response.status == .badRequest)
            #expect(try openAIError(response).param == param)
            #expect(gateway.sim.recorder.requests(path: "/api/generate").isEmpty)
        }
    }

    @Test func tokenPromptIsRefused() async throws {
        try await LiveGateway.run { gateway in
            for prompt in ["[1,2,3]", "[[1],[2]]"] {
                let response = try await gateway.post("/v1/completions", completion("sim-chat", prompt))
                #expect(response.status == .badRequest)
                #expect(try openAIError(response).param == "prompt")
            }
        }
    }

    @Test func embeddingModelIsRefused() async throws {
        // The registry knows sim-embed embeds only: refused before Ollama.
        try await withCapabilities { client, sim in
            let response = try await client.execute(
                uri: "/v1/completions", method: .post, body: ByteBuffer(string: completion("sim-embed")))
            #expect(response.status == .badRequest)
            #expect(try openAIError(response).param == "model")
            #expect(sim.recorder.requests(path: "/api/generate").isEmpty)
        }
    }

    @Test func unknownModelIs404() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post("/v1/completions", completion("nope", stream: stream))
                #expect(response.status == .notFound)
                let error = try openAIError(response)
                #expect(error.code == "model_not_found")
                #expect(error.message.contains("'nope'"))
            }
        }
    }

    @Test("failures before streaming", arguments: [("http_500", 502), ("http_503", 503)])
    func upstreamStatus(fault: String, status: Int) async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let response = try await gateway.post(
                    "/v1/completions",
                    completion("sim-chat", #""x""#, #","options":{"sim_fault":"\#(fault)"}"#, stream: stream))
                #expect(Int(response.status.code) == status)
                #expect(try openAIError(response).message.isEmpty == false)
            }
        }
    }

    @Test("failures mid-stream end with an error event", arguments: ["error_mid_stream", "no_done", "drop_mid_stream"])
    func midStream(fault: String) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/completions",
                completion("sim-chat", #""Tell me more""#, #","options":{"sim_fault":"\#(fault)"}"#, stream: true))
            #expect(response.status == .ok)
            let events = SSEEvents(response.body)
            let last = try #require(events.json.last)
            #expect(last["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(!events.dataLines.contains("[DONE]"))
            #expect(events.json.count > 1, "chunks before the failure were relayed")
        }
    }

    @Test func nonStreamedFailureAfterHeadersIs502() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/completions", completion("sim-chat", #""x""#, #","options":{"sim_fault":"error_mid_stream"}"#))
            #expect(response.status == .badGateway)
        }
    }

    @Test func deadlineBeforeFirstTokenIs504() async throws {
        try await LiveGateway.run { gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/completions",
                completion("sim-chat", #""x""#, #","timeout_ms":300,"options":{"sim_fault":"slow_first_token","sim_delay_ms":20000}"#))
            #expect(response.status == .gatewayTimeout)
            #expect(try openAIError(response).type == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(60), "the deadline, not the model, ended it")
        }
    }

    /// Like Ollama, the simulator sends its headers with the first token: a deadline passed before
    /// it is a 504 even for a stream.
    @Test func deadlineBeforeAStreamStartsIs504() async throws {
        try await LiveGateway.run { gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/completions",
                completion(
                    "sim-chat", #""x""#, #","timeout_ms":300,"options":{"sim_fault":"slow_first_token","sim_delay_ms":20000}"#,
                    stream: true))
            #expect(response.status == .gatewayTimeout)
            #expect(try openAIError(response).type == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(60), "the deadline, not the model, ended it")
        }
    }

    @Test func stalledStreamEndsWithTimeoutEvent() async throws {
        try await LiveGateway.run({ $0.streamIdleTimeout = .milliseconds(400) }) { gateway in
            let started = ContinuousClock.now
            let response = try await gateway.post(
                "/v1/completions", completion("sim-chat", #""x""#, #","options":{"sim_fault":"stall"}"#, stream: true))
            let last = try #require(SSEEvents(response.body).json.last)
            #expect(last["error"]?["type"] == "timeout_error")
            #expect(ContinuousClock.now - started < .seconds(60), "a timeout, not the model, ended it")
            // The gateway closes its upstream connection, but the simulator only sees a half-closed socket
            // while it stalls and does not always count it (the chat route's test shows the same).
            await withKnownIssue("ollama-sim misses a half-closed connection during a stall", isIntermittent: true) {
                #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
            }
        }
    }

    @Test func clientDisconnectCancelsUpstream() async throws {
        let simulator = SimulatorConfiguration(tokenInterval: .milliseconds(50), answerTokens: 400)
        try await LiveGateway.run(simulator: simulator) { gateway in
            let port = try #require(gateway.client.port)
            // Shutting the client down closes its connection mid-stream.
            try await withHTTPClient { http in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/completions")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: completion("sim-chat", #"["Talk","More"]"#, stream: true)))
                let response = try await http.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok)
                var iterator = response.body.makeAsyncIterator()
                #expect(try await iterator.next() != nil)
            }
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
            // The second prompt is never sent.
            #expect(gateway.sim.recorder.requests(path: "/api/generate").count == 1)
        }
    }
}
