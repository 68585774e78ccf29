import AsyncHTTPClient
import Foundation
import Gateway
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
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            do {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Talk"}]\#(extra)}"#))
                let response = try await http.execute(request, timeout: .seconds(10))
                #expect(response.status == .ok)
                var iterator = response.body.makeAsyncIterator()
                let first = try await iterator.next()
                #expect(first != nil)
            }
            // Leaving the scope drops the body: the connection is closed mid-stream.
            try await http.shutdown()
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(2)))
            #expect(gateway.sim.recorder.requests(path: "/api/chat").count == 1)
        }
    }
}
