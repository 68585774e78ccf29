import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import NIOCore
import NIOPosix
import OllamaSim
import ServiceLifecycle
import Testing

@Suite("A graceful shutdown's drain deadline", .timeLimit(.minutes(1)))
struct ShutdownDrainTests {
    /// A stream far longer than the deadline: at the deadline it ends with the API's error event, its
    /// usage is written as cancelled, and the server stops within the deadline and a margin.
    @Test(arguments: ["/v1/chat/completions", "/api/chat", "/v1/messages"])
    func streamsEndWithAnErrorAtTheDeadline(path: String) async throws {
        let dataDirectory = FileManagerTemp.directory()
        let simulator = SimulatorConfiguration(tokenInterval: .milliseconds(100), answerTokens: 600)
        try await withOllamaSimulator(simulator) { sim in
            let configuration = TestGateway.configuration(upstream: sim.baseURL) {
                $0.dataDirectory = dataDirectory
                $0.server.shutdownDrainTimeout = .milliseconds(1000)
            }
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let app = try await buildApplication(
                configuration: configuration, logger: TestGateway.logger, onServerRunning: { portContinuation.yield($0) })
            let group = ServiceGroup(configuration: .init(services: [app], logger: TestGateway.logger))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var portIterator = ports.makeAsyncIterator()
                let port = try #require(await portIterator.next())
                let (received, streamEnded, stopped) = try await withHTTPClient { http in
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    let maxTokens = path == "/v1/messages" ? #","max_tokens":1000"# : ""
                    request.body = .bytes(ByteBuffer(
                        string: #"{"model":"sim-chat","stream":true\#(maxTokens),"messages":[{"role":"user","content":"Talk"}]}"#))
                    let response = try await http.execute(request, timeout: .seconds(30))
                    #expect(response.status == .ok)
                    var body = response.body.makeAsyncIterator()
                    var received = ByteBuffer()
                    if let first = try await body.next() { received.writeImmutableBuffer(first) }

                    let shutdownStarted = ContinuousClock.now
                    await group.triggerGracefulShutdown()
                    while let chunk = try await body.next() { received.writeImmutableBuffer(chunk) }
                    let streamEnded = ContinuousClock.now - shutdownStarted
                    try await tasks.next()
                    let stopped = ContinuousClock.now - shutdownStarted
                    return (received, streamEnded, stopped)
                }

                let text = String(buffer: received)
                #expect(text.contains("shutting down"), "\(text.suffix(400))")
                switch path {
                case "/v1/messages": #expect(text.contains("event: error"))
                case "/api/chat": #expect(text.hasSuffix("\n") && text.split(separator: "\n").last?.contains(#""error""#) == true)
                default: #expect(text.contains(#""code":"shutting_down""#))
                }
                // The stream would run a minute: it ends at the deadline, and the server stops soon after
                // (the margin is wide for a fully parallel test run on two cores).
                #expect(streamEnded >= .milliseconds(900) && streamEnded < .seconds(20), "\(streamEnded)")
                #expect(stopped < .seconds(20), "\(stopped)")
            }
        }
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let logged = try await GatewayStore(database: database).usage.log(UsageLogQuery(limit: 10)).entries.map(\.record)
        try await database.shutdown()
        let stream = try #require(logged.first { $0.streamed }, "\(logged)")
        #expect(stream.cancelled)
        #expect(stream.completionTokens > 0)
    }
}
