import AsyncHTTPClient
import Foundation
import GatewayAPI
import Logging
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@testable import Gateway

/// A streamed request awaited in steps (`PendingStream`, `UpstreamExchange`): the wait of one task
/// ends and the request goes on, another task takes its answer, and whoever lets go of it cancels it.
@Suite("Pending streams", .timeLimit(.minutes(1)))
struct PendingStreamLiveTests {
    /// A client in front of one simulator, through a pool as the gateway's is.
    static func client(of sim: RunningSimulator) -> (OllamaClient, BackendPool) {
        let runtime = RuntimeSettings(.init(ollamaURL: sim.baseURL, reasoningFormat: .reasoningContent))
        let pool = BackendPool(backends: [Backend(name: "only", url: sim.baseURL)], tuning: BackendTuning()) { backend in
            OllamaClient(http: HTTPClient.shared, runtime: runtime, logger: TestGateway.logger, backendURL: backend.url)
        }
        var client = OllamaClient(http: HTTPClient.shared, runtime: runtime, logger: TestGateway.logger)
        client.pool = pool
        return (client, pool)
    }

    static func chat(_ text: String) -> OllamaChatRequest {
        OllamaChatRequest(model: "sim-chat", messages: [OllamaMessage(role: "user", content: text)])
    }

    static func text(of lines: OllamaLineStream<OllamaChatLine>) async throws -> String {
        var text = ""
        for try await batch in lines {
            for line in batch { text += line.chunk.message?.content ?? "" }
        }
        return text
    }

    @Test("a wait that ends before the model is loaded leaves the request going: another task takes its answer")
    func handedOver() async throws {
        try await withOllamaSimulator(SimulatorConfiguration(loadTime: .milliseconds(600))) { sim in
            let (client, pool) = Self.client(of: sim)
            var pending = try client.pendingStreamChat(Self.chat("Hello there"), deadline: .now() + .seconds(20))
            #expect(try await pending.lines(until: .now() + .milliseconds(100)) == nil)
            #expect(pool.statuses().first?.inFlight == 1)
            let waiting = pending
            // Another task, as the relay is.
            let text = try await Task {
                var pending = waiting
                return try await Self.text(of: pending.lines())
            }.value
            #expect(text == "You said: Hello there")
            #expect(sim.recorder.requests(path: "/api/chat").count == 1, "one request, not one per wait")
            #expect(pool.statuses().first?.inFlight == 0)
        }
    }

    @Test("a long answer read slowly arrives whole: Ollama is read at the reader's pace, and resumed")
    func backPressure() async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            let (client, _) = Self.client(of: sim)
            var request = Self.chat("long")
            request.options = ["sim_tokens": 4000]
            var pending = try client.pendingStreamChat(request, deadline: .now() + .seconds(30))
            let lines = try #require(try await pending.lines(until: .now() + .seconds(10)))
            var tokens = 0
            var last: OllamaChatChunk?
            for try await batch in lines {
                // Slower than the simulator writes: the body parts pile up until the reader catches up.
                try await Task.sleep(for: .milliseconds(2))
                for line in batch {
                    if line.isLast { last = line.chunk } else { tokens += 1 }
                }
            }
            #expect(tokens == 4000)
            #expect(last?.done == true)
        }
    }

    @Test("an answer that comes within the wait is handed out at once, a refusal with its status")
    func quickAnswers() async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            let (client, _) = Self.client(of: sim)
            var pending = try client.pendingStreamChat(Self.chat("quick"), deadline: .now() + .seconds(20))
            let lines = try #require(try await pending.lines(until: .now() + .seconds(10)))
            #expect(try await Self.text(of: lines) == "You said: quick")

            var unknown = Self.chat("x")
            unknown.model = "nope"
            var refused = try client.pendingStreamChat(unknown, deadline: .now() + .seconds(20))
            let error = await #expect(throws: GatewayError.self) { try await refused.lines(until: .now() + .seconds(10)) }
            #expect(error?.kind == .notFound)
        }
    }

    @Test("let go of before Ollama answered: the request is cancelled and leaves the pool's count")
    func droppedIsCancelled() async throws {
        try await withOllamaSimulator(SimulatorConfiguration(loadTime: .seconds(30))) { sim in
            let (client, pool) = Self.client(of: sim)
            do {
                var pending = try client.pendingStreamChat(Self.chat("never"), deadline: .now() + .seconds(20))
                #expect(try await pending.lines(until: .now() + .milliseconds(200)) == nil)
                #expect(pool.statuses().first?.inFlight == 1)
            }
            #expect(await sim.recorder.waitForDisconnects(1, timeout: .seconds(5)))
            #expect(pool.statuses().first?.inFlight == 0)
        }
    }

    @Test("an answer taken and let go of unread cancels the request")
    func takenUnreadIsCancelled() async throws {
        // The stalled stream answers with its head, then writes nothing.
        try await withOllamaSimulator(SimulatorConfiguration(faults: ["sim-chat": .stall])) { sim in
            let (client, _) = Self.client(of: sim)
            do {
                var pending = try client.pendingStreamChat(Self.chat("never"), deadline: .now() + .seconds(20))
                let lines = try await pending.lines(until: .now() + .seconds(10))
                #expect(lines != nil)
            }
            #expect(await sim.recorder.waitForDisconnects(1, timeout: .seconds(5)))
        }
    }

    @Test("an HTTP client that has shut down fails the wait instead of leaving it hanging")
    func clientShutDown() async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            try await http.shutdown()
            let runtime = RuntimeSettings(.init(ollamaURL: sim.baseURL, reasoningFormat: .reasoningContent))
            let client = OllamaClient(http: http, runtime: runtime, logger: TestGateway.logger)
            var pending = try client.pendingStreamChat(Self.chat("x"), deadline: .now() + .seconds(20))
            await #expect(throws: CancellationError.self) { try await pending.lines() }
        }
    }

    @Test("a waiting task that is cancelled cancels the request")
    func cancelledWait() async throws {
        try await withOllamaSimulator(SimulatorConfiguration(loadTime: .seconds(30))) { sim in
            let (client, pool) = Self.client(of: sim)
            let pending = try client.pendingStreamChat(Self.chat("never"), deadline: .now() + .seconds(20))
            let waiter = Task {
                var pending = pending
                return try await pending.lines()
            }
            try await Task.sleep(for: .milliseconds(200))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(await sim.recorder.waitForDisconnects(1, timeout: .seconds(5)))
            #expect(pool.statuses().first?.inFlight == 0)
        }
    }
}
