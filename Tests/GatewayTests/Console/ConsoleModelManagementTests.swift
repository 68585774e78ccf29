import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// What the fake Ollama received.
final class FakeOllamaLog: Sendable {
    let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

@Suite("Admin console: pulling and deleting models")
struct ConsoleModelManagementTests {
    /// An Ollama stand-in with one model, `/api/pull` progress lines and `/api/delete`.
    static func withFakeOllama(_ body: @Sendable (String, FakeOllamaLog) async throws -> Void) async throws {
        let received = FakeOllamaLog()
        let deleted = FakeOllamaLog()
        let router = Router()
        router.get("/api/version") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"version":"0.9.0"}"#))) }
        router.get("/api/tags") { _, _ -> Response in
            let models = !deleted.all.isEmpty ? "" : #"{"name":"fake:latest","model":"fake:latest","size":10,"digest":"abc","details":{}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"models":[\#(models)]}"#)))
        }
        router.post("/api/pull") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 10_000)
            received.append("pull " + String(buffer: body))
            let lines = [
                #"{"status":"pulling manifest"}"#, #"{"status":"downloading","digest":"sha256:1","total":100,"completed":40}"#,
                #"{"status":"downloading","digest":"sha256:1","total":100,"completed":100}"#, #"{"status":"success"}"#,
            ]
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(string: lines.joined(separator: "\n") + "\n")))
        }
        router.delete("/api/delete") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 10_000)
            received.append("delete " + String(buffer: body))
            deleted.append("deleted")
            return Response(status: .ok)
        }
        let upstream = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await upstream.test(.live) { client in
            try await body("http://127.0.0.1:\(try #require(client.port))", received)
        }
    }

    @Test func withoutAllowModelManagementThereIsNoPullOrDelete() async throws {
        try await Self.withFakeOllama { url, received in
            try await ConsoleTests.withConsole(upstream: url) { start, _ in
                var browser = start
                let models = try await browser.get("/admin/models")
                #expect(models.text.contains("fake:latest"))
                #expect(!models.text.contains("pull-form"))
                #expect(!(try await browser.get("/admin/models/edit?name=fake:latest")).text.contains("Delete from Ollama"))
                let pull = try await browser.post("/admin/models/pull", [("name", "llama3.2")])
                #expect(pull.status == .forbidden)
                #expect(pull.text.contains("ALLOW_MODEL_MANAGEMENT=true"))
                #expect(try await browser.get("/admin/models/delete?name=fake:latest").status == .forbidden)
                let delete = try await browser.post("/admin/models/delete?name=fake:latest")
                #expect(delete.status == .forbidden)
                #expect(received.all.isEmpty)
            }
        }
    }

    @Test func pullStreamsOllamasProgressAndDeleteAsksFirst() async throws {
        try await Self.withFakeOllama { url, received in
            try await ConsoleTests.withConsole(upstream: url, { $0.allowModelManagement = true }) { start, location in
                var browser = start
                let models = try await browser.get("/admin/models")
                #expect(models.text.contains("id=\"pull-form\""))
                #expect(models.text.contains("<progress id=\"pull-bar\""))
                let blank = try await browser.post("/admin/models/pull", [("name", " ")])
                #expect(blank.status == .badRequest)
                #expect(blank.text.contains("Name the model to pull"))
                let pull = try await browser.post("/admin/models/pull", [("name", "llama3.2")])
                #expect(pull.status == .ok)
                #expect(pull.headers[.contentType] == "application/x-ndjson")
                #expect(pull.text.contains(#""completed":40"#))
                #expect(pull.text.contains(#"{"status":"success"}"#))
                #expect(received.all.contains { $0.hasPrefix("pull ") && $0.contains(#""model":"llama3.2""#) })

                let edit = try await browser.get("/admin/models/edit?name=fake:latest")
                #expect(edit.text.contains("Delete from Ollama"))
                let confirm = try await browser.get("/admin/models/delete?name=fake:latest")
                #expect(confirm.status == .ok)
                #expect(confirm.text.contains("Delete the model"))
                let deleted = try await browser.post("/admin/models/delete?name=fake%3Alatest")
                #expect(deleted.status == .seeOther)
                #expect(deleted.headers[.location] == "/admin/models?notice=model-deleted")
                #expect(received.all.contains { $0 == #"delete {"model":"fake:latest"}"# })
                let after = try await browser.get("/admin/models?notice=model-deleted")
                #expect(after.text.contains("The model has been deleted."))
                #expect(!after.text.contains("fake:latest"))
                #expect(try await browser.get("/admin/models/delete?name=fake:latest").status == .notFound)
                let audit = try await location.withStore { store in try await store.auditLog.query(.init()).entries.map(\.event.action) }
                #expect(audit.contains("model.pull") && audit.contains("model.delete"))
            }
        }
    }
}
