import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OllamaSim
import Testing

@Suite("Admin API: backends")
struct AdminBackendsTests {
    @Test(arguments: AdminEngine.available)
    func backendsAreManagedWithoutARestart(engine: AdminEngine) async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            let location = try AdminTestLocation.make(engine)
            let simURL = sim.baseURL
            try await AdminTests.withGateway(location) { client in
                var admin = client
                try await admin.loginChangingDefault()
                let initial = try await admin.get("/admin/api/backends").json()
                let configured = try #require(initial["backends"]?.arrayValue)
                #expect(configured.map { $0["name"] } == ["ollama"])
                #expect(configured.first?["source"] == "configuration")

                // The only backend (dead) cannot serve: a chat fails.
                let before = try await admin.send(
                    .post, "/v1/chat/completions", json: #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}]}"#)
                #expect(before.status != .ok)

                for (body, reason) in [
                    (#"{"url":"\#(simURL)"}"#, "'name' is required"),
                    (#"{"name":"sim"}"#, "'url' is required"),
                    (#"{"name":"bad name","url":"\#(simURL)"}"#, "'name'"),
                    (#"{"name":"sim","url":"ftp://x"}"#, "http(s)"),
                    (#"{"name":"sim","url":"http://u:p@x"}"#, "credentials"),
                    (#"{"name":"sim","url":"\#(simURL)","weight":0}"#, "'weight'"),
                    (#"{"name":"sim","url":"\#(simURL)","priority":-1}"#, "'priority'"),
                    (#"{"name":"sim","url":"\#(simURL)","auth_header":"no colon"}"#, "'auth_header'"),
                    (#"{"name":"sim","url":"\#(simURL)","models":[""]}"#, "'models'"),
                    (#"{"name":"sim","url":"\#(simURL)","colour":"red"}"#, "Unknown field"),
                ] {
                    let response = try await admin.send(.post, "/admin/api/backends", json: body)
                    #expect(response.status == .badRequest, "\(body) → \(response.text)")
                    #expect(response.errorMessage?.contains(reason) == true, "\(body) → \(response.text)")
                }
                let taken = try await admin.send(.post, "/admin/api/backends", json: #"{"name":"ollama","url":"\#(simURL)"}"#)
                #expect(taken.status == .conflict)

                let created = try await admin.send(
                    .post, "/admin/api/backends",
                    json: #"{"name":"sim","url":"\#(simURL)/","auth_header":"Authorization: Bearer s3cret","weight":2,"models":["sim-chat"]}"#)
                #expect(created.status == .created, "\(created.text)")
                let view = try created.json()
                #expect(view["url"]?.stringValue == simURL)
                #expect(view["source"] == "database")
                #expect(view["auth_header"] == "Authorization")
                #expect(view["state"] == "ok", "probed at once")
                #expect(view["available_models"]?.arrayValue?.contains("sim-chat:latest") == true)
                #expect(!created.text.contains("s3cret"))
                #expect(try await admin.send(.post, "/admin/api/backends", json: #"{"name":"sim","url":"\#(simURL)"}"#).status == .conflict)

                // Applied at once: the chat is served by the new backend (the only one allowed sim-chat that answers).
                let served = try await admin.send(
                    .post, "/v1/chat/completions", json: #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}]}"#)
                #expect(served.status == .ok, "\(served.text)")
                #expect(sim.recorder.requests(path: "/api/chat").count == 1)
                // The model list says which backends have each model.
                #expect(try await admin.send(.post, "/admin/api/models/refresh").status == .ok)
                let models = try await admin.get("/admin/api/models").json()
                let chat = models["models"]?.arrayValue?.first { $0["name"] == "sim-chat:latest" }
                #expect(chat?["backends"] == ["sim"])

                let patched = try await admin.send(.patch, "/admin/api/backends/sim", json: #"{"enabled":false,"auth_header":null}"#)
                #expect(patched.status == .ok, "\(patched.text)")
                #expect(try patched.json()["state"] == "disabled")
                #expect(try patched.json()["auth_header"] == .null)
                #expect(try await admin.send(.patch, "/admin/api/backends/sim", json: #"{"name":"other"}"#).status == .badRequest)
                #expect(try await admin.send(.patch, "/admin/api/backends/ollama", json: #"{"weight":3}"#).status == .conflict)
                #expect(try await admin.send(.patch, "/admin/api/backends/nope", json: #"{"weight":3}"#).status == .notFound)
                let disabled = try await admin.send(
                    .post, "/v1/chat/completions", json: #"{"model":"sim-chat","messages":[{"role":"user","content":"y"}]}"#)
                #expect(disabled.status != .ok)
                #expect(sim.recorder.requests(path: "/api/chat").count == 1)

                #expect(try await admin.send(.delete, "/admin/api/backends/ollama").status == .conflict)
                #expect(try await admin.send(.delete, "/admin/api/backends/sim").status == .noContent)
                #expect(try await admin.send(.delete, "/admin/api/backends/sim").status == .notFound)
                #expect(try await admin.get("/admin/api/backends").json()["backends"]?.arrayValue?.count == 1)

                let audit = try await AdminTests.auditEntries(admin, query: "&action=backend.create")
                #expect(audit.count == 1)
                #expect(audit.first?["details"]?["auth_header"] == "Authorization")
                let all = try await AdminTests.auditEntries(admin)
                #expect(!all.contains { "\($0)".contains("s3cret") })
                #expect(all.contains { $0["action"] == "backend.update" } && all.contains { $0["action"] == "backend.delete" })
            }
            // Stored: a restart keeps what the admin defined (here, nothing after the delete).
            let stored = try await location.withStore { try await $0.backends.list() }
            #expect(stored.isEmpty)
            try await location.remove()
        }
    }
}
