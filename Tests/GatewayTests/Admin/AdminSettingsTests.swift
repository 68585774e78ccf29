import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OllamaSim
import Testing

@Suite("Admin API: settings, models, audit log")
struct AdminSettingsTests {
    @Test(arguments: AdminEngine.available)
    func settingsApplyAtOncePersistAndWinOverTheConfiguration(engine: AdminEngine) async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            let location = try AdminTestLocation.make(engine)
            let simURL = sim.baseURL
            try await AdminTests.withGateway(location) { client in
                var admin = client
                try await admin.loginChangingDefault()
                let initial = try await admin.get("/admin/api/settings").json()
                #expect(initial["ollama_url"]?.stringValue == TestGateway.deadUpstream)
                #expect(initial["sources"]?["ollama_url"] == "configuration")
                #expect(initial["defaults"] == [:])
                #expect(try await admin.get("/health/ready").status == .serviceUnavailable)

                for (body, reason) in [
                    (#"{"ollama_url":"ftp://x"}"#, "http(s)"),
                    (#"{"ollama_url":"http://user:pw@host:11434"}"#, "credentials"),
                    (#"{"ollama_url":42}"#, "ollama_url"),
                    (#"{"defaults":{"num_ctx":"big"}}"#, "defaults.num_ctx"),
                    (#"{"defaults":{"think":"very"}}"#, "think"),
                    (#"{"defaults":[1]}"#, "defaults"),
                    (#"{"reasoning_format":"xml"}"#, "reasoning_format"),
                    (#"{"ollama_urll":"http://x"}"#, "Unknown field"),
                ] {
                    let response = try await admin.send(.patch, "/admin/api/settings", json: body)
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(response.errorMessage?.contains(reason) == true, "\(body) → \(response.text)")
                }
                // A refused change saves nothing, even its valid parts.
                let mixed = try await admin.send(
                    .patch, "/admin/api/settings", json: #"{"reasoning_format":"both","defaults":{"num_ctx":"x"}}"#)
                #expect(mixed.status == .badRequest)
                #expect(try await admin.get("/admin/api/settings").json()["reasoning_format"] == "reasoning_content")

                let changed = try await admin.send(
                    .patch, "/admin/api/settings",
                    json: #"{"ollama_url":"\#(simURL)/","defaults":{"num_ctx":8192,"think":"low","mystery":1},"reasoning_format":"both"}"#)
                #expect(changed.status == .ok, "\(changed.text)")
                let body = try changed.json()
                #expect(body["ollama_url"]?.stringValue == simURL)
                #expect(body["defaults"]?["num_ctx"] == 8192)
                #expect(body["reasoning_format"] == "both")
                #expect(body["sources"]?["ollama_url"] == "database")
                #expect(body["warnings"]?.arrayValue?.first?.stringValue?.contains("mystery") == true)
                // Applied at once: the gateway now talks to the simulator.
                #expect(try await admin.get("/health/ready").status == .ok)
                let audit = try await AdminTests.auditEntries(admin, query: "&action=settings.update")
                #expect(audit.count == 1)
                #expect(audit.first?["details"]?["reasoning_format"] == "both")
            }
            // A restart keeps the saved values over the configuration's.
            try await AdminTests.withGateway(location) { client in
                var admin = client
                try #require(try await admin.login("admin", AdminTests.password).status == .ok)
                let settings = try await admin.get("/admin/api/settings").json()
                #expect(settings["ollama_url"]?.stringValue == simURL)
                #expect(settings["reasoning_format"] == "both")
                #expect(try await admin.get("/health/ready").status == .ok)
                // null returns to the configuration's value.
                let reset = try await admin.send(.patch, "/admin/api/settings", json: #"{"ollama_url":null,"defaults":null}"#)
                #expect(try reset.json()["ollama_url"]?.stringValue == TestGateway.deadUpstream)
                #expect(try reset.json()["sources"]?["ollama_url"] == "configuration")
                #expect(try reset.json()["defaults"] == [:])
                #expect(try await admin.get("/health/ready").status == .serviceUnavailable)
            }
            try await location.remove()
        }
    }

    @Test(arguments: AdminEngine.available)
    func modelsListUpdateAndRefresh(engine: AdminEngine) async throws {
        try await withOllamaSimulator(SimulatorConfiguration()) { sim in
            try await AdminTests.withSignedIn(engine, upstream: sim.baseURL) { admin, _ in
                let refreshed = try await admin.send(.post, "/admin/api/models/refresh")
                #expect(refreshed.status == .ok, "\(refreshed.text)")
                #expect((try refreshed.json()["models"]?.intValue ?? 0) > 0)
                let models = try #require(try await admin.get("/admin/api/models").json()["models"]?.arrayValue)
                let chat = try #require(models.first { $0["name"] == "sim-chat:latest" })
                #expect(chat["available"] == true && chat["enabled"] == true && chat["callable"] == true)
                #expect(chat["capabilities"]?.arrayValue?.contains("completion") == true)

                let bad = try await admin.send(.put, "/admin/api/models/sim-chat", json: #"{"overrides":{"num_ctx":"big"}}"#)
                #expect(bad.status == .badRequest)
                #expect(bad.errorMessage?.contains("overrides.num_ctx") == true)
                let badAlias = try await admin.send(.put, "/admin/api/models/sim-chat", json: #"{"aliases":[""]}"#)
                #expect(badAlias.status == .badRequest)

                let updated = try await admin.send(
                    .put, "/admin/api/models/sim-chat",
                    json: #"{"display_name":"Chat","aliases":["fast"],"enabled":true,"overrides":{"num_ctx":4096,"wobble":1}}"#)
                #expect(updated.status == .ok, "\(updated.text)")
                let model = try #require(try updated.json()["model"])
                #expect(model["name"] == "sim-chat:latest")
                #expect(model["display_name"] == "Chat" && model["aliases"] == ["fast"])
                #expect(model["overrides"]?["num_ctx"] == 4096)
                #expect(try updated.json()["warnings"]?.arrayValue?.first?.stringValue?.contains("wobble") == true)

                // An alias that belongs to another model is refused.
                let taken = try await admin.send(.put, "/admin/api/models/sim-think", json: #"{"aliases":["fast"]}"#)
                #expect(taken.status == .badRequest)

                // A model Ollama does not have (yet) is kept, shown unavailable; names with slashes work.
                let future = try await admin.send(.put, "/admin/api/models/hf.co/org/model:Q4", json: #"{"enabled":false}"#)
                #expect(future.status == .ok, "\(future.text)")
                #expect(try future.json()["model"]?["available"] == false)
                #expect(try future.json()["model"]?["name"] == "hf.co/org/model:Q4")

                let actions = try await AdminTests.auditEntries(admin).compactMap { $0["action"]?.stringValue }
                #expect(actions.filter { $0 == "model.update" }.count == 2)
                #expect(actions.contains("models.refresh"))
            }
        }
    }

    @Test func refreshWithoutOllamaIs502() async throws {
        try await AdminTests.withSignedIn(.sqlite) { admin, _ in
            let response = try await admin.send(.post, "/admin/api/models/refresh")
            #expect(response.status == .badGateway)
            #expect(response.errorType == "upstream_unavailable")
            let audit = try await AdminTests.auditEntries(admin, query: "&action=models.refresh")
            #expect(audit.first?["details"]?["result"] == "failed")
        }
    }

    @Test(arguments: AdminEngine.available)
    func auditLogFiltersAndPages(engine: AdminEngine) async throws {
        try await AdminTests.withSignedIn(engine) { admin, _ in
            for index in 0..<5 {
                let response = try await admin.send(.post, "/admin/api/keys", json: #"{"name":"k\#(index)"}"#)
                try #require(response.status == .created)
            }
            let first = try await admin.get("/admin/api/audit?action=key.create&limit=2").json()
            #expect(first["entries"]?.arrayValue?.count == 2)
            #expect(first["entries"]?[0]?["details"]?["name"] == "k4")
            let cursor = try #require(first["next_cursor"]?.stringValue)
            let second = try await admin.get("/admin/api/audit?action=key.create&limit=2&cursor=\(cursor)").json()
            #expect(second["entries"]?[0]?["details"]?["name"] == "k2")
            let third = try await admin.get(
                "/admin/api/audit?action=key.create&limit=2&cursor=\(try #require(second["next_cursor"]?.stringValue))").json()
            #expect(third["entries"]?.arrayValue?.count == 1)
            #expect(third["next_cursor"] == .null)

            let byActor = try await admin.get("/admin/api/audit?actor=admin&actor_kind=account").json()
            #expect(byActor["entries"]?.arrayValue?.count == 7)  // login, password change, five keys
            let future = try await admin.get("/admin/api/audit?since=2999-01-01T00:00:00Z").json()
            #expect(future["entries"]?.arrayValue?.isEmpty == true)
            let past = try await admin.get("/admin/api/audit?until=2000-01-01T00:00:00Z").json()
            #expect(past["entries"]?.arrayValue?.isEmpty == true)
            let entry = try #require(first["entries"]?[0])
            #expect(entry["client_address"] == "127.0.0.1")
            #expect(entry["occurred_at"]?.stringValue.flatMap(Timestamps.parse) != nil)

            for query in ["limit=0", "limit=501", "limit=x", "since=yesterday", "cursor=abc", "actor_kind=robot", "sort=asc"] {
                let response = try await admin.get("/admin/api/audit?\(query)")
                #expect(response.status == .badRequest, "\(query)")
            }
        }
    }
}
