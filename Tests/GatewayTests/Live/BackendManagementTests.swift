import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

@testable import Gateway

/// Model management with several backends: one named with `?backend=`, else every enabled one in turn.
@Suite("Model management across backends", .timeLimit(.minutes(1)))
struct BackendManagementTests {
    final class Calls: Sendable {
        let value = Mutex<[String]>([])
        var all: [String] { value.withLock { $0 } }
    }

    /// A minimal Ollama for the management routes: pull streams two progress lines (or fails), delete answers 200.
    static func fakeOllama(_ name: String, calls: Calls, pullFails: Bool = false) -> some ApplicationProtocol {
        let router = Router()
        router.post("/api/pull") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 16)
            calls.value.withLock { $0.append("\(name) pull") }
            if pullFails {
                return Response(
                    status: .internalServerError, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":"disk full"}"#)))
            }
            let lines = #"{"status":"pulling manifest \#(name)"}"# + "\n" + #"{"status":"success"}"# + "\n"
            return Response(
                status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(string: lines)))
        }
        router.delete("/api/delete") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 16)
            calls.value.withLock { $0.append("\(name) delete") }
            return Response(status: .ok)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func withFleet(
        pullFailsOnB: Bool = false, _ body: @Sendable (any TestClientProtocol, Calls) async throws -> Void
    ) async throws {
        let calls = Calls()
        try await Self.fakeOllama("a", calls: calls).test(.live) { a in
            try await Self.fakeOllama("b", calls: calls, pullFails: pullFailsOnB).test(.live) { b in
                let portA = try #require(a.port)
                let portB = try #require(b.port)
                let configuration = TestGateway.configuration(upstream: "http://127.0.0.1:\(portA)") {
                    $0.allowModelManagement = true
                    $0.backends = [
                        Backend(name: "a", url: "http://127.0.0.1:\(portA)"), Backend(name: "b", url: "http://127.0.0.1:\(portB)"),
                    ]
                }
                let app = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
                try await app.test(.live) { client in try await body(client, calls) }
            }
        }
    }

    @Test("without a backend name, every backend; with one, only it; an unknown name is a 400")
    func deleteEverywhereOrOnOne() async throws {
        try await withFleet { client, calls in
            let all = try await client.execute(
                uri: "/api/delete", method: .delete, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"model":"x"}"#))
            #expect(all.status == .ok)
            #expect(calls.all == ["a delete", "b delete"])
            let one = try await client.execute(
                uri: "/api/delete?backend=b", method: .delete, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"model":"x"}"#))
            #expect(one.status == .ok)
            #expect(calls.all == ["a delete", "b delete", "b delete"])
            let unknown = try await client.execute(
                uri: "/api/delete?backend=nope", method: .delete, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"model":"x"}"#))
            #expect(unknown.status == .badRequest)
            let error = try JSONDecoder().decode(OllamaErrorBody.self, from: Data(buffer: unknown.body))
            #expect(error.error.contains("nope"))
            #expect(calls.all.count == 3)
        }
    }

    @Test("a streamed pull shows each backend's progress in turn; a failing one ends it with Ollama's error line")
    func pullEverywhere() async throws {
        try await withFleet { client, calls in
            let response = try await client.execute(
                uri: "/api/pull", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"model":"x"}"#))
            #expect(response.status == .ok)
            let lines = String(buffer: response.body).split(separator: "\n")
            #expect(lines == [#"{"status":"pulling manifest a"}"#, #"{"status":"success"}"#, #"{"status":"pulling manifest b"}"#, #"{"status":"success"}"#])
            #expect(calls.all == ["a pull", "b pull"])
        }
        try await withFleet(pullFailsOnB: true) { client, _ in
            let response = try await client.execute(
                uri: "/api/pull", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"model":"x"}"#))
            #expect(response.status == .ok)
            let lines = String(buffer: response.body).split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.last?.contains("disk full") == true, "\(lines)")
        }
    }
}
