import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@testable import Gateway

/// A gateway in front of several simulators (and, where a test says so, addresses where nothing listens).
struct FleetGateway: Sendable {
    let sims: [RunningSimulator]
    let client: any TestClientProtocol

    /// An address where nothing listens: connections are refused at once.
    static let deadURL = "http://127.0.0.1:1"

    /// Starts the simulators, then a gateway whose backends `backends` makes of them.
    static func run(
        _ simulators: [SimulatorConfiguration],
        backends: @escaping @Sendable ([RunningSimulator]) -> [Backend],
        _ adjust: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (FleetGateway) async throws -> Void
    ) async throws {
        try await withSimulators(simulators[...], running: []) { sims in
            let configuration = TestGateway.configuration(upstream: sims[0].baseURL) { configuration in
                configuration.backends = backends(sims)
                configuration.backendTuning.probeInterval = .milliseconds(200)
                // Generous: on a loaded machine a probe that times out would take a healthy backend out.
                configuration.backendTuning.probeTimeout = .seconds(10)
                adjust(&configuration)
            }
            let app = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
            try await app.test(.live) { client in
                try await body(FleetGateway(sims: sims, client: client))
            }
        }
    }

    private static func withSimulators(
        _ configurations: ArraySlice<SimulatorConfiguration>, running: [RunningSimulator],
        _ body: ([RunningSimulator]) async throws -> Void
    ) async throws {
        guard let first = configurations.first else { return try await body(running) }
        try await withOllamaSimulator(first) { sim in
            try await withSimulators(configurations.dropFirst(), running: running + [sim], body)
        }
    }

    func post(_ path: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    func chat(_ text: String, model: String = "sim-chat", headers: HTTPFields = [:]) async throws -> TestResponse {
        try await post(
            "/v1/chat/completions", #"{"model":"\#(model)","messages":[{"role":"user","content":"\#(text)"}]}"#, headers: headers)
    }

    /// How many chat requests each simulator received.
    var chats: [Int] { sims.map { $0.recorder.requests(path: "/api/chat").count } }

    func metrics() async throws -> String {
        String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
    }

    /// Waits until the gateway's view of the backends (read from `/metrics`) satisfies `condition`.
    func waitForMetrics(timeout: Duration = .seconds(5), _ condition: (String) -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(try await metrics()) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Loads a model on a simulator directly (as another client of that Ollama would).
    static func preload(_ model: String, on sim: RunningSimulator) async throws {
        var request = HTTPClientRequest(url: sim.baseURL + "/api/chat")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: #"{"model":"\#(model)","messages":[],"keep_alive":"10m"}"#))
        _ = try await HTTPClient.shared.execute(request, timeout: .seconds(10)).body.collect(upTo: 1 << 16)
    }
}

func backend(_ name: String, _ sim: RunningSimulator, priority: Int = 0) -> Backend {
    Backend(name: name, url: sim.baseURL, priority: priority)
}

@Suite("Several Ollama servers", .timeLimit(.minutes(2)))
struct BackendsLiveTests {
    static func tuning(failureThreshold: Int, coolDown: Duration) -> BackendTuning {
        var tuning = BackendTuning()
        tuning.probeInterval = .milliseconds(200)
        tuning.probeTimeout = .seconds(10)
        tuning.failureThreshold = failureThreshold
        tuning.coolDown = coolDown
        return tuning
    }

    @Test("requests go to the server that has the model loaded: no load time")
    func loadedFirst() async throws {
        let slowLoads = SimulatorConfiguration(loadTime: .milliseconds(400))
        try await FleetGateway.run([slowLoads, slowLoads], backends: { [backend("a", $0[0]), backend("b", $0[1])] }) { fleet in
            try await FleetGateway.preload("sim-chat", on: fleet.sims[1])
            let preloads = fleet.chats
            // Reading /api/ps through the gateway tells it (as its next probe would) that b has it loaded.
            #expect(try await fleet.client.execute(uri: "/api/ps", method: .get).status == .ok)
            for turn in 0..<6 {
                let response = try await fleet.post(
                    "/api/chat", #"{"model":"sim-chat","stream":false,"messages":[{"role":"user","content":"question \#(turn)"}]}"#)
                #expect(response.status == .ok)
                // The simulator reports a warm start (no load) as 40 µs, a cold one as its load time.
                let answer = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
                #expect(answer["load_duration"] == 40_000, "no load time: \(answer["load_duration"].map { "\($0)" } ?? "none")")
            }
            #expect(zip(fleet.chats, preloads).map { $0 - $1 } == [0, 6])
        }
    }

    @Test("a server that refuses connections is skipped, and taken out after repeated failures")
    func downIsSkipped() async throws {
        try await FleetGateway.run(
            [SimulatorConfiguration()],
            backends: { [Backend(name: "down", url: FleetGateway.deadURL), backend("up", $0[0])] },
            { $0.backendTuning.probeInterval = .seconds(60) }
        ) { fleet in
            for turn in 0..<8 {
                let response = try await fleet.chat("hello \(turn)")
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            #expect(fleet.chats == [8])
            let text = try await fleet.metrics()
            #expect(text.contains(#"gateway_backend_up{backend="down"} 0"#), "\(text)")
            #expect(text.contains(#"gateway_backend_requests_total{backend="up"} 8"#), "\(text)")
            let ready = try await fleet.client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .ok)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: ready.body))
            let states = body["backends"]?.arrayValue?.map { "\($0["name"]?.stringValue ?? ""):\($0["status"]?.stringValue ?? "")" }
            #expect(states == ["down:unavailable", "up:ok"])
        }
    }

    @Test("a slow server that has not answered within the first-byte timeout is left for the next one")
    func slowFailsOver() async throws {
        try await FleetGateway.run(
            [SimulatorConfiguration(faults: ["sim-chat": .slowFirstToken]), SimulatorConfiguration()],
            backends: { [backend("slow", $0[0], priority: 0), backend("fast", $0[1], priority: 1)] },
            { $0.backendTuning.firstByteTimeout = .milliseconds(300) }
        ) { fleet in
            // Served by the fast one: the slow one would have answered, after 2 s, had it been waited for.
            #expect(try await fleet.chat("hurry").status == .ok)
            #expect(fleet.chats[1] == 1)
            let text = try await fleet.metrics()
            #expect(text.contains(#"gateway_backend_requests_total{backend="fast"} 1"#), "\(text)")
        }
    }

    @Test("an Anthropic stream that pings while a slow server loads moves on to the next one, in the same stream")
    func slowFailsOverAfterTheStreamCommitted() async throws {
        try await FleetGateway.run(
            [SimulatorConfiguration(faults: ["sim-chat": .slowFirstToken]), SimulatorConfiguration()],
            backends: { [backend("slow", $0[0], priority: 0), backend("fast", $0[1], priority: 1)] },
            { configuration in
                configuration.backendTuning.firstByteTimeout = .milliseconds(600)
                configuration.streamPingInterval = .milliseconds(100)
            }
        ) { fleet in
            let response = try await fleet.post(
                "/v1/messages",
                #"{"model":"sim-chat","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hurry"}]}"#)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            // The handler gave up waiting after one ping interval: the stream began, and pinged while
            // the relay waited for the slow server, then for the fast one.
            let ping = try #require(text.range(of: "event: ping"))
            let delta = try #require(text.range(of: "content_block_delta"))
            #expect(ping.lowerBound < delta.lowerBound, "\(text)")
            #expect(text.contains(#""text":" hurry""#), "the answer: \(text)")
            #expect(text.contains("message_stop"), "\(text)")
            #expect(fleet.chats == [1, 1])
            let metrics = try await fleet.metrics()
            #expect(metrics.contains(#"gateway_backend_requests_total{backend="fast"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"gateway_backend_in_flight{backend="slow"} 0"#), "\(metrics)")
        }
    }

    @Test("a flapping server: failures go elsewhere, it is cooled down, then probed back in")
    func flapping() async throws {
        try await FleetGateway.run(
            [SimulatorConfiguration(), SimulatorConfiguration()],
            backends: { [backend("flappy", $0[0], priority: 0), backend("steady", $0[1], priority: 1)] },
            // A cool-down long enough that six requests on a loaded machine (the whole suite runs at
            // once) end within it; 4 s were not always.
            { $0.backendTuning = Self.tuning(failureThreshold: 2, coolDown: .seconds(10)) }
        ) { fleet in
            #expect(try await fleet.chat("one").status == .ok)
            #expect(fleet.chats == [1, 0])
            fleet.sims[0].setFault(.http500, forModel: "sim-chat")
            for turn in 0..<6 {
                #expect(try await fleet.chat("turn \(turn)").status == .ok)
            }
            // Two failures took it out for the cool-down: nothing more was sent to it.
            let flappyChats = fleet.chats[0]
            #expect(flappyChats == 1 + 2, "\(fleet.chats)")
            #expect(fleet.chats[1] == 6)
            #expect(try await fleet.metrics().contains(#"gateway_backend_up{backend="flappy"} 0"#))
            fleet.sims[0].setFault(nil, forModel: "sim-chat")
            // At the end of the cool-down it is tried again, and serves.
            let back = try await fleet.waitForMetrics(timeout: .seconds(30)) { text in
                text.contains(#"gateway_backend_up{backend="flappy"} 1"#)
            }
            #expect(back)
            #expect(try await fleet.chat("back").status == .ok)
            #expect(fleet.chats[0] == flappyChats + 1)
        }
    }

    @Test("a stream that fails after its first byte is not retried: it ends with the error event")
    func midStreamNotRetried() async throws {
        try await FleetGateway.run(
            [SimulatorConfiguration(faults: ["sim-chat": .errorMidStream]), SimulatorConfiguration()],
            backends: { [backend("broken", $0[0], priority: 0), backend("spare", $0[1], priority: 1)] }
        ) { fleet in
            let port = try #require(fleet.client.port)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"a b c d e f"}]}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(text.contains("error"), "\(text)")
            #expect(fleet.chats == [1, 0])
        }
    }

    @Test("none left: 503 naming the model, in each API's format")
    func noneLeft() async throws {
        let busy = SimulatorConfiguration(faults: ["sim-chat": .http503])
        try await FleetGateway.run([busy, busy], backends: { [backend("a", $0[0]), backend("b", $0[1])] }) { fleet in
            let openAI = try await fleet.chat("x")
            #expect(openAI.status == .serviceUnavailable)
            let error = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: openAI.body))["error"]
            #expect(error?["code"] == "no_backend_available")
            #expect(error?["param"] == "model")
            #expect(error?["message"]?.stringValue?.contains("sim-chat") == true)

            let anthropic = try await fleet.post(
                "/v1/messages", #"{"model":"sim-chat","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(anthropic.status == .serviceUnavailable)
            let anthropicBody = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: anthropic.body))
            #expect(anthropicBody["type"] == "error")
            #expect(anthropicBody["error"]?["message"]?.stringValue?.contains("sim-chat") == true)

            let native = try await fleet.post("/api/chat", #"{"model":"sim-chat","stream":false,"messages":[{"role":"user","content":"x"}]}"#)
            #expect(native.status == .serviceUnavailable)
            let nativeBody = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: native.body))
            #expect(nativeBody["error"]?.stringValue?.contains("sim-chat") == true)
            // Each request tried both, once.
            #expect(fleet.chats == [3, 3])
        }
    }

    @Test("a conversation keeps its server: by X-Session-Id, or by its start")
    func stickiness() async throws {
        let three = [SimulatorConfiguration(), SimulatorConfiguration(), SimulatorConfiguration()]
        try await FleetGateway.run(three, backends: { sims in sims.enumerated().map { backend("s\($0.offset)", $0.element) } }) { fleet in
            // Loaded everywhere: only stickiness tells them apart.
            for sim in fleet.sims { try await FleetGateway.preload("sim-chat", on: sim) }
            let preloads = fleet.chats
            #expect(try await fleet.client.execute(uri: "/api/ps", method: .get).status == .ok)
            for turn in 0..<6 {
                let response = try await fleet.chat("turn \(turn)", headers: [RequestRouting.sessionHeader: "conversation-1"])
                #expect(response.status == .ok)
            }
            #expect(zip(fleet.chats, preloads).map { $0 - $1 }.sorted() == [0, 0, 6], "\(fleet.chats)")
            // Without a header, a conversation is known by its first messages.
            let before = fleet.chats
            for turn in 0..<4 {
                let body = #"{"model":"sim-chat","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"turn \#(turn)"}]}"#
                #expect(try await fleet.post("/v1/chat/completions", body).status == .ok)
            }
            let added = zip(fleet.chats, before).map { $0 - $1 }
            #expect(added.sorted() == [0, 0, 4], "\(added)")
            // Different conversations spread over the servers.
            for session in 0..<30 {
                _ = try await fleet.chat("hi", headers: [RequestRouting.sessionHeader: "spread-\(session)"])
            }
            #expect(fleet.chats.allSatisfy { $0 > 0 }, "\(fleet.chats)")
        }
    }

    @Test("the model list is the union; each request goes to a server that has its model")
    func union() async throws {
        let chatOnly = SimulatorConfiguration(models: SimulatedModel.builtIn.filter { $0.name.hasPrefix("sim-chat") })
        let embedOnly = SimulatorConfiguration(models: SimulatedModel.builtIn.filter { $0.name.hasPrefix("sim-embed") })
        try await FleetGateway.run([chatOnly, embedOnly], backends: { [backend("chat", $0[0]), backend("embed", $0[1])] }) { fleet in
            let tags = try JSONDecoder().decode(
                OllamaTagsResponse.self, from: Data(buffer: try await fleet.client.execute(uri: "/api/tags", method: .get).body))
            #expect(tags.models.contains { $0.name.hasPrefix("sim-chat") } && tags.models.contains { $0.name.hasPrefix("sim-embed") })
            #expect(tags.models.count == 2, "\(tags.models.map(\.name))")
            let models = try JSONDecoder().decode(
                JSONValue.self, from: Data(buffer: try await fleet.client.execute(uri: "/v1/models", method: .get).body))
            let ids = models["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids.contains { $0.hasPrefix("sim-chat") } && ids.contains { $0.hasPrefix("sim-embed") } && ids.count == 2, "\(ids)")
            for _ in 0..<3 {
                #expect(try await fleet.chat("x").status == .ok)
                #expect(try await fleet.post("/v1/embeddings", #"{"model":"sim-embed","input":"x"}"#).status == .ok)
            }
            #expect(fleet.chats == [3, 0])
            #expect(fleet.sims.map { $0.recorder.requests(path: "/api/embed").count } == [0, 3])

            try await FleetGateway.preload("sim-chat", on: fleet.sims[0])
            let ps = try JSONDecoder().decode(
                OllamaPsResponse.self, from: Data(buffer: try await fleet.client.execute(uri: "/api/ps", method: .get).body))
            #expect(ps.models.map(\.name).contains("sim-chat:latest"))
        }
    }
}
