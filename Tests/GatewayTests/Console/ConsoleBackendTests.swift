import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Testing

@Suite("Admin console: backends")
struct ConsoleBackendTests {
    /// Two fake Ollamas, `a` and `b`, in the configuration.
    static func withTwoBackends(
        allowModelManagement: Bool = false,
        _ body: @Sendable (ConsoleBrowser, AdminTestLocation, (a: FakeOllamaLog, b: FakeOllamaLog), String) async throws -> Void
    ) async throws {
        try await ConsoleModelManagementTests.withFakeOllama { urlA, logA in
            try await ConsoleModelManagementTests.withFakeOllama { urlB, logB in
                try await ConsoleTests.withConsole(upstream: urlA, {
                    $0.backends = [Backend(name: "a", url: urlA), Backend(name: "b", url: urlB)]
                    $0.allowModelManagement = allowModelManagement
                }) { browser, location in
                    try await body(browser, location, (logA, logB), urlB)
                }
            }
        }
    }

    @Test func backendsAreListedWithTheirFiguresAndAddedEditedAndRemoved() async throws {
        try await Self.withTwoBackends { start, location, _, urlB in
            var browser = start
            // A request that `b` served a minute ago, and one it failed: the last hour's figures.
            try await location.withStore { store in
                let now = Date()
                try await store.usage.insert([
                    UsageRecord(
                        time: now.addingTimeInterval(-60), requestID: "r1", keyID: nil, modelRequested: "fake",
                        modelResolved: "fake:latest", endpoint: "/v1/chat/completions", streamed: false, status: 200,
                        promptTokens: 3, completionTokens: 4, latencyMs: 120, timeToFirstTokenMs: 40, backend: "b"),
                    UsageRecord(
                        time: now.addingTimeInterval(-30), requestID: "r2", keyID: nil, modelRequested: "fake",
                        modelResolved: "fake:latest", endpoint: "/v1/chat/completions", streamed: false, status: 502,
                        promptTokens: 0, completionTokens: 0, latencyMs: 80, backend: "b"),
                    // Two hours ago: not in the last hour.
                    UsageRecord(
                        time: now.addingTimeInterval(-7200), requestID: "r3", keyID: nil, modelRequested: "fake",
                        modelResolved: "fake:latest", endpoint: "/v1/chat/completions", streamed: false, status: 200,
                        promptTokens: 1, completionTokens: 1, latencyMs: 9_000, backend: "a"),
                ])
            }
            let page = try await browser.get("/admin/backends")
            #expect(page.status == .ok)
            ConsoleTests.expectSecurityHeaders(page)
            let main = ConsoleTests.main(page.text)
            #expect(main.contains("<th scope=\"row\">a<br>") && main.contains("<th scope=\"row\">b<br>"))
            #expect(main.contains("configuration"))
            // b: 2 requests, 1 error, average latency 100 ms; a: none in the last hour.
            let rowB = try #require(main.components(separatedBy: "<tr>").first { $0.contains("<th scope=\"row\">b<br>") })
            #expect(rowB.contains("2 / 1") && rowB.contains("100 ms / 40 ms"))
            let rowA = try #require(main.components(separatedBy: "<tr>").first { $0.contains("<th scope=\"row\">a<br>") })
            #expect(rowA.contains("0 / 0") && !rowA.contains("9.0 s"))
            #expect(page.text.contains("href=\"/admin/backends\""))  // in the navigation

            // A backend of the configuration cannot be edited here.
            #expect(try await browser.get("/admin/backends/edit?name=a").status == .conflict)

            // Refusals are shown beside their field, the form kept.
            let zeroWeight = try await browser.post(
                "/admin/backends", [("name", "extra"), ("url", urlB), ("weight", "0"), ("enabled", "on")])
            #expect(zeroWeight.status == .badRequest)
            #expect(zeroWeight.text.contains("id=\"f-weight-error\""))
            #expect(zeroWeight.text.contains("value=\"extra\""))
            let badURL = try await browser.post("/admin/backends", [("name", "extra"), ("url", "ftp://x"), ("enabled", "on")])
            #expect(badURL.status == .badRequest)
            #expect(badURL.text.contains("id=\"f-url-error\""))
            let taken = try await browser.post("/admin/backends", [("name", "a"), ("url", urlB), ("enabled", "on")])
            #expect(taken.status == .badRequest)
            #expect(taken.text.contains("exists already"))
            let badName = try await browser.post("/admin/backends", [("name", ConsoleTests.xssName), ("url", urlB)])
            #expect(badName.status == .badRequest)
            #expect(!badName.text.contains(ConsoleTests.xssName))

            // Added: it serves at once (probed on creation), with its header's name only ever shown.
            let created = try await browser.post(
                "/admin/backends",
                [("name", "extra"), ("url", urlB), ("auth_header", "Authorization: Bearer s3cret-value"), ("priority", "1"),
                    ("weight", "2"), ("models", "fake, other"), ("enabled", "on")])
            #expect(created.status == .seeOther)
            #expect(created.headers[.location] == "/admin/backends?notice=backend-saved")
            let listed = try await browser.get("/admin/backends?notice=backend-saved")
            #expect(listed.text.contains("The backend has been saved"))
            #expect(listed.text.contains("href=\"/admin/backends/edit?name=extra\""))
            #expect(listed.text.contains("may serve: fake, other"))
            #expect(!listed.text.contains("s3cret-value"))
            let edit = try await browser.get("/admin/backends/edit?name=extra")
            #expect(edit.status == .ok)
            #expect(edit.text.contains("Sent now: Authorization: …"))
            #expect(!edit.text.contains("s3cret-value"))

            // Edited: disabled, lower priority; the header kept when its field is left empty.
            let saved = try await browser.post(
                "/admin/backends/edit?name=extra", [("url", urlB), ("priority", "2"), ("weight", "3"), ("models", "")])
            #expect(saved.status == .seeOther)
            let stored = try await location.withStore { store in try await store.backends.list() }
            let extra = try #require(stored.first { $0.name == "extra" })
            #expect(extra.priority == 2 && extra.weight == 3 && !extra.enabled && extra.models.isEmpty)
            #expect(extra.authHeaderName == "Authorization")
            let disabledRow = try #require(
                ConsoleTests.main(try await browser.get("/admin/backends").text).components(separatedBy: "<tr>")
                    .first { $0.contains("name=extra") })
            #expect(disabledRow.contains("disabled"))
            let invalidEdit = try await browser.post("/admin/backends/edit?name=extra", [("priority", "x")])
            #expect(invalidEdit.status == .badRequest)
            #expect(invalidEdit.text.contains("id=\"f-priority-error\""))

            // Removed, after asking.
            let confirm = try await browser.get("/admin/backends/delete?name=extra")
            #expect(confirm.text.contains("Remove the backend"))
            let removed = try await browser.post("/admin/backends/delete?name=extra")
            #expect(removed.status == .seeOther)
            #expect(!(try await browser.get("/admin/backends").text.contains("name=extra")))
            #expect(try await browser.get("/admin/backends/edit?name=extra").status == .notFound)

            let audit = try await location.withStore { store in try await store.auditLog.query(.init()).entries.map(\.event) }
            #expect(audit.contains { $0.action == "backend.create" && $0.target == "extra" })
            #expect(audit.contains { $0.action == "backend.update" } && audit.contains { $0.action == "backend.delete" })
            #expect(!"\(audit)".contains("s3cret-value"))
        }
    }

    @Test func pullAndDeleteApplyToTheChosenBackendOrToEvery() async throws {
        try await Self.withTwoBackends(allowModelManagement: true) { start, _, logs, _ in
            var browser = start
            let models = try await browser.get("/admin/models")
            #expect(models.text.contains("<select id=\"f-backend\" name=\"backend\">"))
            #expect(models.text.contains("Every enabled backend"))

            let onB = try await browser.post("/admin/models/pull", [("name", "llama3.2"), ("backend", "b")])
            #expect(onB.status == .ok)
            #expect(onB.text.contains(#"{"status":"success"}"#))
            #expect(logs.a.all.filter { $0.hasPrefix("pull") }.isEmpty)
            #expect(logs.b.all.filter { $0.hasPrefix("pull") }.count == 1)

            let everywhere = try await browser.post("/admin/models/pull", [("name", "qwen3")])
            #expect(everywhere.text.components(separatedBy: #"{"status":"success"}"#).count == 3)  // both backends'
            #expect(logs.a.all.filter { $0.contains("qwen3") }.count == 1 && logs.b.all.filter { $0.contains("qwen3") }.count == 1)

            let unknown = try await browser.post("/admin/models/pull", [("name", "qwen3"), ("backend", "nope")])
            #expect(unknown.status == .badRequest || unknown.status == .notFound)

            let confirm = try await browser.get("/admin/models/delete?name=fake:latest")
            #expect(confirm.text.contains("Delete it from"))
            let deleted = try await browser.post("/admin/models/delete?name=fake%3Alatest", [("backend", "a")])
            #expect(deleted.status == .seeOther)
            #expect(logs.a.all.contains(#"delete {"model":"fake:latest"}"#))
            #expect(!logs.b.all.contains { $0.hasPrefix("delete") })
        }
    }
}
