import Foundation
import Gateway
import NIOCore
import NIOPosix
import OllamaSim
import Testing

/// Every streaming route, with a request body that streams from `sim-chat`; `options` are the
/// simulator's controls (faults), merged into the body.
struct StreamingRoute: Sendable, CustomTestStringConvertible {
    var path: String
    var body: @Sendable (_ options: String) -> String
    /// Text at the end of a complete stream's body.
    var ending: String
    /// The route sends heartbeats while the model is silent (SSE); the native NDJSON routes do not.
    var heartbeats: Bool

    var testDescription: String { path }

    static let all: [StreamingRoute] = [
        StreamingRoute(
            path: "/v1/chat/completions",
            body: { #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Hi"}],"options":{\#($0)}}"# },
            ending: "data: [DONE]", heartbeats: true),
        StreamingRoute(
            path: "/v1/completions",
            body: { #"{"model":"sim-chat","stream":true,"prompt":"Hi","options":{\#($0)}}"# },
            ending: "data: [DONE]", heartbeats: true),
        StreamingRoute(
            path: "/v1/messages",
            body: {
                #"{"model":"sim-chat","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"Hi"}],"options":{\#($0)}}"#
            },
            ending: "event: message_stop", heartbeats: true),
        StreamingRoute(
            path: "/api/chat",
            body: { #"{"model":"sim-chat","messages":[{"role":"user","content":"Hi"}],"options":{\#($0)}}"# },
            ending: #""done":true"#, heartbeats: false),
        StreamingRoute(
            path: "/api/generate",
            body: { #"{"model":"sim-chat","prompt":"Hi","options":{\#($0)}}"# },
            ending: #""done":true"#, heartbeats: false),
    ]

    func request(options: String = "") -> String {
        let json = body(options)
        return "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(json.utf8.count)\r\n\r\n\(json)"
    }
}

/// One client connection, written and read by hand, so a test knows which connection each
/// request went over (an HTTP client's pool would hide it).
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func open(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    /// Sends `request`, then reads until the text read ends with `end` (or contains it, with
    /// `anywhere`); nil when the server closed the connection first.
    static func exchange(
        _ request: String, until end: String, anywhere: Bool = false,
        inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) async throws -> String? {
        try await outbound.write(ByteBuffer(string: request))
        var text = ""
        while let chunk = try await inbound.next() {
            text += String(buffer: chunk)
            if anywhere ? text.contains(end) : text.hasSuffix(end) { return text }
        }
        return nil
    }
}

@Suite("Streams and their connections", .timeLimit(.minutes(2)))
struct StreamConnectionTests {
    /// A complete stream leaves the connection open: the next request goes over the same socket,
    /// and both answers are whole.
    @Test("two streams in a row on one connection", arguments: StreamingRoute.all)
    func keepAlive(route: StreamingRoute) async throws {
        try await LiveGateway.run { gateway in
            let connection = try await RawConnection.open(port: try #require(gateway.client.port))
            try await connection.channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                for round in 1...2 {
                    // The end of a chunked body: the last, empty chunk.
                    let reply = try await RawConnection.exchange(
                        route.request(), until: "\r\n0\r\n\r\n", inbound: &iterator, outbound: outbound)
                    let text = try #require(reply, "round \(round): the server closed the connection")
                    #expect(text.hasPrefix("HTTP/1.1 200"), "round \(round): \(text.prefix(200))")
                    #expect(!text.lowercased().contains("connection: close"), "round \(round)")
                    #expect(text.contains(route.ending), "round \(round): \(text.suffix(300))")
                }
            }
            #expect(gateway.sim.recorder.requests(path: route.path.hasPrefix("/v1/completions") || route.path == "/api/generate" ? "/api/generate" : "/api/chat").count == 2)
        }
    }

    /// A client that leaves mid-stream — here while the model is silent, so no write can fail —
    /// has Ollama's request cancelled at once: the connection's input closing is enough.
    @Test("a client that leaves cancels Ollama's request", arguments: StreamingRoute.all)
    func disconnect(route: StreamingRoute) async throws {
        // No heartbeat for the test's length: only the input closing can tell.
        try await LiveGateway.run({ $0.streamPingInterval = .seconds(60) }) { gateway in
            let connection = try await RawConnection.open(port: try #require(gateway.client.port))
            try await connection.channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                // The first line of model output: the stream is under way, then the model stalls.
                let reply = try await RawConnection.exchange(
                    route.request(options: #""sim_fault":"stall","sim_fault_after":2"#), until: "You", anywhere: true,
                    inbound: &iterator, outbound: outbound)
                #expect(reply?.hasPrefix("HTTP/1.1 200") == true, "\(reply ?? "closed")")
            }
            // Leaving the scope closed the connection mid-stream.
            let left = ContinuousClock.now
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(5)))
            // At once; the bound leaves room for a loaded machine.
            #expect(ContinuousClock.now - left < .seconds(3), "noticed after \(ContinuousClock.now - left)")
        }
    }

    /// Heartbeats go out while the model is silent, in each surface's own form, and none on the
    /// native routes.
    @Test("heartbeats while the model is silent", arguments: StreamingRoute.all)
    func heartbeats(route: StreamingRoute) async throws {
        try await LiveGateway.run({
            $0.streamPingInterval = .milliseconds(100)
            $0.streamIdleTimeout = .milliseconds(2000)
        }) { gateway in
            let response = try await gateway.post(route.path, route.body(#""sim_fault":"stall","sim_fault_after":2"#))
            let text = String(buffer: response.body)
            let expected = route.path == "/v1/messages" ? "event: ping\n" : ": keep-alive\n\n"
            let count = text.components(separatedBy: expected).count - 1
            if route.heartbeats {
                // About one per interval; a loaded machine delays timers, so fewer are required.
                #expect(count >= 2, "\(count) heartbeats in \(text)")
            } else {
                #expect(!text.contains("keep-alive") && !text.contains("ping"), "\(text)")
            }
            // The idle timeout still ends a silent stream: heartbeats are not Ollama's activity.
            #expect(text.contains("Ollama sent nothing for 2 s"), "\(text.suffix(300))")
        }
    }
}
