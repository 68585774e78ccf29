import AsyncHTTPClient
import Foundation
import GatewayAPI
import NIOCore
import OllamaSim
import Testing

@Suite("Failure modes")
struct FaultTests {
    static func chat(_ options: JSONValue, stream: Bool = true, model: String = "sim-chat") -> JSONValue {
        ["model": .string(model), "messages": userMessages("one two three four five six"), "options": options, "stream": .bool(stream)]
    }

    @Test func httpStatusFaults() async throws {
        try await withSim { _, http in
            let crash = try await http.post("/api/chat", json: Self.chat(["sim_fault": "http_500"]))
            #expect(crash.status == 500)
            #expect(crash.errorMessage == "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, check ollama server logs for details")
            let busy = try await http.post("/api/generate", json: ["model": "sim-chat", "prompt": "x", "options": ["sim_fault": "http_503"], "stream": false])
            #expect(busy.status == 503)
            #expect(busy.errorMessage == "server busy, please try again.  maximum pending requests exceeded")
            let unknown = try await http.post("/api/chat", json: Self.chat(["sim_fault": "explode"]))
            #expect(unknown.status == 400)
        }
    }

    @Test func errorMidStreamEndsWithAnErrorLineAndNoDone() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/chat", json: Self.chat(["sim_fault": "error_mid_stream", "sim_fault_after": 2]))
            #expect(response.status == 200)
            let lines = try response.lines()
            #expect(lines.count == 3)
            #expect(lines[0]["message"]?["content"] == "You")
            #expect(lines.last?["error"] != nil)
            #expect(!lines.contains { $0["done"] == true })
            let single = try await http.post("/api/chat", json: Self.chat(["sim_fault": "error_mid_stream"], stream: false))
            #expect(single.status == 500)
        }
    }

    @Test func noDoneEndsCleanlyWithoutTheDoneLine() async throws {
        try await withSim { _, http in
            let lines = try await http.post("/api/chat", json: Self.chat(["sim_fault": "no_done"])).lines()
            #expect(JSONValue.joined(lines) { $0["message"]?["content"]?.stringValue } == "You said: one two three four five six")
            #expect(lines.allSatisfy { $0["done"] == false })
            let single = try await http.post("/api/chat", json: Self.chat(["sim_fault": "no_done"], stream: false))
            #expect(single.json?["done"] == false)
            #expect(single.json?["done_reason"] == nil)
        }
    }

    @Test func slowFirstTokenAndPacing() async throws {
        try await withSim { _, http in
            let clock = ContinuousClock()
            let start = clock.now
            let slow = try await http.post("/api/chat", json: Self.chat(["sim_fault": "slow_first_token", "sim_delay_ms": 300]))
            #expect(clock.now - start >= .milliseconds(300))
            #expect(try slow.lines().last?["done"] == true)

            let pacedStart = clock.now
            let paced = try await http.post("/api/chat", json: Self.chat(["sim_tokens": 5, "sim_token_interval_ms": 40]))
            #expect(clock.now - pacedStart >= .milliseconds(160))
            let lines = try paced.lines()
            #expect(lines.count == 6)
            #expect(JSONValue.joined(lines) { $0["message"]?["content"]?.stringValue } == "Lorem ipsum dolor sit amet")
            #expect(lines.last?["eval_count"] == 5)
        }
    }

    @Test func dropMidStreamIsAClientError() async throws {
        try await withSim { sim, _ in
            var request = HTTPClientRequest(url: sim.baseURL + "/api/chat")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","messages":[{"role":"user","content":"a b c d e f"}],"options":{"sim_fault":"drop_mid_stream","sim_fault_after":2}}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(response.status == .ok)
            var received = ""
            await #expect(throws: (any Error).self) {
                for try await buffer in response.body {
                    received += String(buffer: buffer)
                }
            }
            #expect(received.hasPrefix(#"{"model":"sim-chat""#))
            #expect(!received.contains(#""done":true"#))
            #expect(sim.recorder.disconnects == 0)
        }
    }

    @Test func stallNoticesTheClientLeaving() async throws {
        try await withSim { sim, _ in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: sim.baseURL + "/api/chat")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","messages":[{"role":"user","content":"a b c d e f"}],"options":{"sim_fault":"stall"}}"#))
            let response = try await client.execute(request, timeout: .seconds(5))
            var iterator = response.body.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first.map { String(buffer: $0) }?.contains("\"You\"") == true)
            try await client.shutdown()  // closes the connection mid-stream
            #expect(await sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
        }
    }

    @Test func cancellingAPacedStreamCountsADisconnect() async throws {
        try await withSim { sim, _ in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            var request = HTTPClientRequest(url: sim.baseURL + "/api/generate")
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","prompt":"x","options":{"sim_tokens":200,"sim_token_interval_ms":20}}"#))
            let response = try await client.execute(request, timeout: .seconds(5))
            var iterator = response.body.makeAsyncIterator()
            _ = try await iterator.next()
            try await client.shutdown()
            #expect(await sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
        }
    }

    @Test func perModelFaultsFromConfigurationRuntimeAndHTTP() async throws {
        try await withSim(SimulatorConfiguration(faults: ["sim-think": .http503])) { sim, http in
            let configured = try await http.post("/api/chat", json: Self.chat([:], model: "sim-think:latest"))
            #expect(configured.status == 503)

            sim.setFault(.http500, forModel: "sim-chat:latest")
            #expect(try await http.post("/api/chat", json: Self.chat([:])).status == 500)
            // A request's own sim_fault wins over the model's.
            #expect(try await http.post("/api/chat", json: Self.chat(["sim_fault": "no_done"])).status == 200)
            sim.setFault(nil, forModel: "sim-chat")
            #expect(try await http.post("/api/chat", json: Self.chat([:])).status == 200)

            let set = try await http.post("/sim/faults", json: ["model": "sim-tools", "fault": "http_500"])
            #expect(set.status == 200)
            #expect(try await http.post("/api/chat", json: Self.chat([:], model: "sim-tools")).status == 500)
            _ = try await http.post("/sim/faults", json: ["model": "sim-tools", "fault": nil])
            #expect(try await http.post("/api/chat", json: Self.chat([:], model: "sim-tools")).status == 200)
            #expect(try await http.post("/sim/faults", json: ["model": "sim-tools", "fault": "nope"]).status == 400)

            // Embeddings honour the scheduling faults too.
            _ = try await http.post("/sim/faults", json: ["model": "sim-embed", "fault": "http_503"])
            #expect(try await http.post("/api/embed", json: ["model": "sim-embed", "input": "x"]).status == 503)
        }
    }

    @Test func recorderKeepsRequestsAndResets() async throws {
        try await withSim { sim, http in
            _ = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("recorded"), "stream": false])
            _ = try await http.get("/api/tags")
            let chats = sim.recorder.requests(path: "/api/chat")
            #expect(chats.count == 1)
            #expect(chats[0].method == "POST")
            #expect(chats[0].body?["messages"]?.arrayValue?.first?["content"] == "recorded")
            #expect(sim.recorder.requests.map(\.path) == ["/api/chat", "/api/tags"])

            let listed = try await http.get("/sim/requests")
            #expect(listed.json?["requests"]?.arrayValue?.count == 2)
            #expect(listed.json?["requests"]?.arrayValue?.first?["body"]?["model"] == "sim-chat")
            #expect(try await http.post("/sim/reset", "{}").status == 200)
            #expect(sim.recorder.requests.isEmpty)
        }
    }

    @Test func benchmarkModeAnswersCannedTokens() async throws {
        try await withSim(SimulatorConfiguration(answerTokens: 12)) { _, http in
            for model in ["sim-chat", "sim-think", "sim-tools"] {
                let lines = try await http.post("/api/chat", json: ["model": .string(model), "messages": userMessages("x")]).lines()
                #expect(lines.count == 13)
                #expect(lines.last?["eval_count"] == 12)
            }
            let generate = try await http.post("/api/generate", json: ["model": "sim-chat", "prompt": "x", "stream": false])
            #expect(generate.json?["response"]?.stringValue?.hasPrefix("Lorem ipsum") == true)
            #expect(generate.json?["eval_count"] == 12)
        }
    }
}
