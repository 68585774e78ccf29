import AsyncHTTPClient
import Foundation
import Gateway
import GatewayStore
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@Suite("A client that goes away", .timeLimit(.minutes(1)))
struct ClientDisconnectTests {
    /// Reads the first event of a stream, then drops the connection; the simulator must see its own
    /// connection closed promptly, whatever the model was doing.
    @Test("cancels the upstream request", arguments: ["", #","options":{"sim_fault":"stall","sim_fault_after":2}"#])
    func cancelsUpstream(extra: String) async throws {
        let simulator = SimulatorConfiguration(tokenInterval: .milliseconds(50), answerTokens: 400)
        try await LiveGateway.run(simulator: simulator) { gateway in
            let port = try #require(gateway.client.port)
            // Shutting the client down closes its connection mid-stream.
            try await withHTTPClient { http in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Talk"}]\#(extra)}"#))
                let response = try await http.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok)
                var iterator = response.body.makeAsyncIterator()
                let first = try await iterator.next()
                #expect(first != nil)
            }
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
            #expect(gateway.sim.recorder.requests(path: "/api/chat").count == 1)
        }
    }
}

@Suite("An abandoned stream is accounted", .timeLimit(.minutes(1)))
struct AbandonedStreamAccountingTests {
    @Test func theTokensProducedUntilThenCount() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let issued = try await store.apiKeys.create(APIKeySettings(name: "walker"))
        let simulator = SimulatorConfiguration(tokenInterval: .milliseconds(30), answerTokens: 200)
        try await LiveGateway.run(simulator: simulator, { $0.dataDirectory = dataDirectory }) { gateway in
            let port = try #require(gateway.client.port)
            try await withHTTPClient { http in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(issued.secret.value)")
                request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Talk"}]}"#))
                let response = try await http.execute(request, timeout: .seconds(30))
                var iterator = response.body.makeAsyncIterator()
                var received = 0
                while received < 5, let chunk = try await iterator.next() {
                    received += String(buffer: chunk).components(separatedBy: "data: ").count - 1
                }
            }
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
            var used = 0
            for _ in 0..<40 {
                used = try await store.apiKeys.get(id: issued.record.id)?.tokensUsed ?? 0
                if used > 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(used >= 4 && used < 200, "\(used) tokens: what was produced before the client left")
            let logged = try #require(try await store.usage.log(UsageLogQuery(limit: 10)).entries.first?.record)
            #expect(logged.cancelled && logged.streamed)
            #expect(logged.completionTokens == used)
        }
        try await database.shutdown()
    }
}
