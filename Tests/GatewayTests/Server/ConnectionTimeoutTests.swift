import AsyncHTTPClient
import Foundation
import Gateway
import HummingbirdTesting
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@testable import Gateway

@Suite("When a client connection is closed")
struct ConnectionClockTests {
    let timeouts: ConnectionTimeouts = {
        var limits = ServerLimits()
        limits.idleTimeout = .seconds(60)
        limits.headerTimeout = .seconds(10)
        limits.bodyTimeout = .seconds(120)
        return ConnectionTimeouts(limits)
    }()
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    @Test func idleThenHeadThenBodyThenResponding() {
        var clock = ConnectionClock(timeouts: timeouts, now: start)
        #expect(clock.deadline == start + .seconds(60))
        clock.bytesArrived(now: start + .seconds(5))
        #expect(clock.deadline == start + .seconds(15))
        // More bytes of the same head do not extend it.
        clock.bytesArrived(now: start + .seconds(9))
        #expect(clock.deadline == start + .seconds(15))
        clock.headRead(now: start + .seconds(9))
        #expect(clock.deadline == start + .seconds(129))
        clock.bytesArrived(now: start + .seconds(20))
        #expect(clock.deadline == start + .seconds(129))
        clock.endRead()
        // Writing the response (a stream) is never cut by these timeouts.
        #expect(clock.deadline == nil)
        clock.responseEnded(now: start + .seconds(500))
        #expect(clock.deadline == start + .seconds(560))
    }

    @Test func aPipelinedHeadIsTimedFromTheEndOfThePreviousResponse() {
        var clock = ConnectionClock(timeouts: timeouts, now: start)
        clock.headRead(now: start)
        clock.endRead()
        clock.bytesArrived(now: start + .seconds(1))
        #expect(clock.deadline == nil)
        clock.responseEnded(now: start + .seconds(300))
        #expect(clock.deadline == start + .seconds(310))
    }

    @Test func aShutdownShortensTheBodyDeadlineToTheDrain() {
        var clock = ConnectionClock(timeouts: timeouts, now: start)
        clock.headRead(now: start)
        clock.shutdownBegan(now: start + .seconds(1))
        #expect(clock.deadline == start + .seconds(31))
        clock.endRead()
        #expect(clock.deadline == nil)
    }

    @Test func aResponseSentBeforeTheBodyKeepsTheBodyDeadline() {
        var clock = ConnectionClock(timeouts: timeouts, now: start)
        clock.headRead(now: start)
        clock.responseEnded(now: start + .seconds(1))
        #expect(clock.deadline == start + .seconds(120))
    }
}

@Suite("Idle, slow and too many client connections", .timeLimit(.minutes(2)))
struct ConnectionTimeoutLiveTests {
    static func short(_ configuration: inout GatewayConfiguration) {
        configuration.server.idleTimeout = .milliseconds(600)
        configuration.server.headerTimeout = .milliseconds(900)
        configuration.server.bodyTimeout = .milliseconds(1200)
    }

    func withGateway(
        _ adjust: @Sendable @escaping (inout GatewayConfiguration) -> Void = short, _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let app = try await buildApplication(
            configuration: TestGateway.configuration(upstream: TestGateway.deadUpstream, adjust), logger: TestGateway.logger)
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    @Test func idleConnectionsAreClosed() async throws {
        try await withGateway { port async throws in
            let replies = try await withThrowingTaskGroup(of: RawReply.self) { group in
                for _ in 0..<20 { group.addTask { try await RawHTTP.exchange(port: port, timeout: .seconds(10)) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for reply in replies {
                #expect(reply.closedByServer)
                #expect(reply.elapsed >= .milliseconds(500) && reply.elapsed < .seconds(8), "\(reply.elapsed)")
            }
        }
    }

    @Test func aKeptAliveConnectionIsClosedAfterItsLastResponse() async throws {
        try await withGateway { port async throws in
            let reply = try await RawHTTP.exchange(
                port: port, ["GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n"], timeout: .seconds(10))
            #expect(reply.statusLine.hasPrefix("HTTP/1.1 200"))
            #expect(reply.closedByServer)
        }
    }

    @Test func aHeadThatTrickles() async throws {
        // Bytes arriving turn the idle timeout (1 s) into the head's (6 s from its first byte).
        try await withGateway({ $0.server.idleTimeout = .seconds(1); $0.server.headerTimeout = .seconds(6) }) { port async throws in
            let inTime = try await RawHTTP.exchange(
                port: port, ["GET /health/live HTTP/1.1\r\n", "Host: localhost\r\n", "Connection: close\r\n\r\n"],
                pause: .milliseconds(800), timeout: .seconds(20))
            #expect(inTime.statusLine.hasPrefix("HTTP/1.1 200"), "\(inTime.text)")
        }
        try await withGateway { port async throws in
            // A head that never ends is closed at the header timeout (900 ms), with no answer.
            let stalled = try await RawHTTP.exchange(
                port: port, ["GET /health/live HTTP/1.1\r\n", "Host: localhost\r\n"], pause: .milliseconds(100),
                timeout: .seconds(10))
            #expect(stalled.closedByServer)
            #expect(stalled.text.isEmpty)
            #expect(stalled.elapsed >= .milliseconds(800) && stalled.elapsed < .seconds(8), "\(stalled.elapsed)")
        }
    }

    @Test func aBodyThatNeverEnds() async throws {
        try await withGateway { port async throws in
            let reply = try await RawHTTP.exchange(
                port: port,
                ["POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{\"model\":"],
                timeout: .seconds(10))
            #expect(reply.closedByServer)
            #expect(reply.elapsed >= .milliseconds(1100) && reply.elapsed < .seconds(8), "\(reply.elapsed)")
        }
    }

    @Test func aStreamLongerThanTheTimeoutsIsNotCut() async throws {
        let simulator = SimulatorConfiguration(tokenInterval: .milliseconds(100), answerTokens: 25)
        try await LiveGateway.run(simulator: simulator, Self.short) { gateway in
            // A connection of its own, opened when the request goes: the test client's, opened
            // earlier, may already have idled past 600 ms on a loaded machine.
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            do {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(gateway.client.port))/v1/chat/completions")
                request.method = .POST
                request.body = .bytes(ByteBuffer(
                    string: #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Talk"}]}"#))
                let started = ContinuousClock.now
                let response = try await http.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok)
                let body = try await response.body.collect(upTo: 1 << 20)
                #expect(ContinuousClock.now - started > .milliseconds(1500))
                #expect(SSEEvents(body).dataLines.last == "[DONE]")
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    @Test func goodRequestsAreServedWhileConnectionsStall() async throws {
        // Timeouts of 2 s, not the suite's 600-900 ms: on a loaded machine the good request's own bytes
        // could wait that long to be read, and the test is about the cap, not about them.
        try await withGateway({
            $0.server.idleTimeout = .seconds(2)
            $0.server.headerTimeout = .seconds(2)
            $0.server.maxConnections = 16
        }) { port async throws in
            try await withThrowingTaskGroup(of: RawReply.self) { group in
                // More stalled heads than the cap: the excess waits to be accepted.
                for _ in 0..<40 {
                    group.addTask {
                        try await RawHTTP.exchange(port: port, ["POST /v1/chat/completions HTTP/1.1\r\n"], timeout: .seconds(30))
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
                do {
                    let started = ContinuousClock.now
                    let response = try await http.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/live"), timeout: .seconds(30))
                    #expect(response.status == .ok)
                    #expect(ContinuousClock.now - started < .seconds(25))
                } catch {
                    // A client dropped without shutting down ends the whole test process.
                    try await http.shutdown()
                    throw error
                }
                try await http.shutdown()
                for try await stalled in group {
                    #expect(stalled.closedByServer)
                    #expect(stalled.text.isEmpty)
                }
            }
        }
    }

    @Test func theCapFollowsTheOpenFileLimit() {
        #expect(FileDescriptorLimit.connectionsFitting(1024) == 480)
        #expect(FileDescriptorLimit.connectionsFitting(10) == 16)
        #expect(FileDescriptorLimit.current != nil)
    }
}
