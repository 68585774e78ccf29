import Foundation
@testable import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

@Suite("Admin console: sign-in, security, pages and forms")
struct ConsoleRouterTests {
    static let pages = [
        "/admin/", "/admin/keys", "/admin/models", "/admin/requests", "/admin/settings", "/admin/audit", "/admin/playground",
        "/admin/password", "/admin/keys/key_x", "/admin/requests/detail?id=x",
    ]

    @Test func pagesRedirectToTheLoginWithoutASessionAndAnAPIKeyNeverOpensThem() async throws {
        try await AdminTests.withFreshGateway(.sqlite) { admin, _ in
            var api = admin
            try await api.loginChangingDefault()
            let created = try await api.send(.post, "/admin/api/keys", json: #"{"name":"k"}"#)
            let secret = try #require(try created.json()["secret"]?.stringValue)
            var browser = ConsoleBrowser(admin.client)
            for page in Self.pages {
                for headers: HTTPFields in [[:], [.authorization: "Bearer \(secret)"], [HTTPField.Name("x-api-key")!: secret]] {
                    let response = try await browser.get(page, headers: headers)
                    #expect(response.status == .seeOther, "\(page)")
                    #expect(response.headers[.location] == "/admin/login", "\(page)")
                    ConsoleTests.expectSecurityHeaders(response)
                }
            }
            // A state-changing request without a session changes nothing.
            let post = try await browser.post("/admin/keys", [("name", "sneaky")], token: "whatever")
            #expect(post.status == .seeOther)
            #expect(try await api.get("/admin/api/keys").json()["keys"]?.arrayValue?.count == 1)
        }
    }

    @Test func theLoginFormIsProtectedThrottledAndAudited() async throws {
        try await AdminTests.withFreshGateway(.sqlite, { $0.admin.loginMaxFailuresPerAccount = 3 }) { admin, _ in
            var browser = ConsoleBrowser(admin.client)
            let page = try await browser.get("/admin/login")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            ConsoleTests.expectSecurityHeaders(page)
            #expect(page.text.contains("<label for=\"f-username\">"))
            // Without the login form's token (a form posted from elsewhere): refused before the password.
            var stranger = ConsoleBrowser(admin.client)
            let forged = try await stranger.post("/admin/login", [("username", "admin"), ("password", "admin")], token: "forged")
            #expect(forged.status == .forbidden)
            #expect(forged.headers[values: .setCookie].allSatisfy { !$0.hasPrefix("gateway_session=") || $0.contains("Max-Age=0") })
            // A foreign Origin is refused even with the right token.
            let foreign = try await browser.post(
                "/admin/login", [("username", "admin"), ("password", "admin")], headers: [.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            #expect(foreign.text.contains("another site"))
            ConsoleTests.expectSecurityHeaders(foreign)
            // A wrong password: the form again, with the message, and the name kept (escaped).
            _ = try await browser.get("/admin/login")
            let wrong = try await browser.post("/admin/login", [("username", "<b>admin</b>"), ("password", "nope-nope")])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("Wrong user name or password."))
            #expect(wrong.text.contains("value=\"&lt;b&gt;admin&lt;/b&gt;\""))
            for _ in 0..<3 {
                _ = try await browser.get("/admin/login")
                _ = try await browser.post("/admin/login", [("username", "admin"), ("password", "wrong-one")])
            }
            _ = try await browser.get("/admin/login")
            let throttled = try await browser.post("/admin/login", [("username", "admin"), ("password", "admin")])
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] != nil)
        }
    }

    @Test func theDefaultPasswordMustBeChangedOnItsOwnPageFirst() async throws {
        try await AdminTests.withFreshGateway(.sqlite) { admin, _ in
            var browser = ConsoleBrowser(admin.client)
            let login = try await browser.signIn("admin", "admin")
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/admin/password")
            let cookie = try #require(login.headers[values: .setCookie].first { $0.hasPrefix("gateway_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
            for page in ["/admin/", "/admin/keys", "/admin/settings"] {
                let locked = try await browser.get(page)
                #expect(locked.status == .seeOther, "\(page)")
                #expect(locked.headers[.location] == "/admin/password")
            }
            let forced = try await browser.get("/admin/password")
            #expect(forced.status == .ok)
            #expect(forced.text.contains("Choose a new password"))
            #expect(!forced.text.contains("aria-label=\"Main\""))
            let locked = try await browser.post("/admin/keys", [("name", "early")])
            #expect(locked.status == .seeOther)
            #expect(locked.headers[.location] == "/admin/password")

            let mismatch = try await browser.post(
                "/admin/password", [("current_password", "admin"), ("new_password", "long enough 1"), ("confirm_password", "other one 22")])
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.text.contains("The two new passwords differ."))
            #expect(mismatch.text.contains("aria-invalid=\"true\""))
            let short = try await browser.post(
                "/admin/password", [("current_password", "admin"), ("new_password", "short"), ("confirm_password", "short")])
            #expect(short.status == .badRequest)
            #expect(short.text.contains("at least 8 characters"))
            let wrongCurrent = try await browser.post(
                "/admin/password", [("current_password", "nope"), ("new_password", AdminTests.password), ("confirm_password", AdminTests.password)])
            #expect(wrongCurrent.status == .badRequest)
            #expect(wrongCurrent.text.contains("The current password is wrong."))
            let changed = try await browser.post(
                "/admin/password", [("current_password", "admin"), ("new_password", AdminTests.password), ("confirm_password", AdminTests.password)])
            #expect(changed.status == .seeOther)
            #expect(changed.headers[.location] == "/admin/?notice=password-changed")
            let overview = try await browser.get("/admin/?notice=password-changed")
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Your password has been changed."))
            // Sign out: the session ends, pages redirect again.
            let out = try await browser.post("/admin/logout")
            #expect(out.status == .seeOther)
            #expect(try await browser.get("/admin/").status == .seeOther)
            let again = try await browser.signIn("admin", AdminTests.password)
            #expect(again.headers[.location] == "/admin/")
        }
    }

    @Test func stateChangesNeedTheSessionsCSRFTokenAndThisOrigin() async throws {
        try await ConsoleTests.withConsole { start, _ in
            var browser = start
            _ = try await browser.get("/admin/keys")
            let none = try await browser.post("/admin/keys", [("name", "a")], withoutToken: true)
            #expect(none.status == .forbidden)
            #expect(none.text.contains("security token"))
            ConsoleTests.expectSecurityHeaders(none)
            let wrong = try await browser.post("/admin/keys", [("name", "a")], token: "0123456789abcdef")
            #expect(wrong.status == .forbidden)
            let foreign = try await browser.post("/admin/keys", [("name", "a")], headers: [.origin: "http://evil.example:3000"])
            #expect(foreign.status == .forbidden)
            let crossSite = try await browser.post("/admin/keys", [("name", "a")], headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            let list = try await browser.get("/admin/keys")
            #expect(!list.text.contains(">a</a>"))
            // The token as a header (the playground's fetch) is accepted like the form field.
            let header = try await browser.post(
                "/admin/keys", [("name", "by-header")], withoutToken: true, headers: [HTTPField.Name("X-CSRF-Token")!: browser.csrf!])
            #expect(header.status == .created)
            let logout = try await browser.post("/admin/logout", withoutToken: true)
            #expect(logout.status == .forbidden)
        }
    }

    @Test func keysAreCreatedWithTheSecretShownOnceEditedRotatedAndRevoked() async throws {
        try await ConsoleTests.withConsole { start, _ in
            var browser = start
            _ = try await browser.get("/admin/keys")
            let created = try await browser.post(
                "/admin/keys", [("name", ConsoleTests.xssName), ("models", "sim-*, \(ConsoleTests.xssAlias)"), ("rpm", "60"), ("expires", "30d")])
            #expect(created.status == .created)
            ConsoleTests.expectSecurityHeaders(created)
            #expect(created.headers[.cacheControl] == "no-store")
            let page = created.text
            let secretStart = try #require(page.range(of: "<code id=\"new-secret\" class=\"secret-value\">"))
            let secret = String(page[secretStart.upperBound...].prefix { $0 != "<" })
            #expect(secret.hasPrefix("sk-"))
            #expect(page.contains("data-copy=\"new-secret\""))
            #expect(page.contains("Authorization: Bearer \(secret)"))
            #expect(page.contains("from openai import OpenAI"))
            #expect(!page.contains("<script>alert"))
            #expect(page.contains("&lt;script&gt;alert(&#39;key&#39;)&lt;/script&gt;"))

            let list = try await browser.get("/admin/keys")
            #expect(list.status == .ok)
            #expect(!list.text.contains(secret))
            #expect(list.text.contains(String(secret.prefix(11)) + "…"))
            #expect(!list.text.contains("<script>alert"))
            #expect(!list.text.contains("<img src=x"))
            #expect(list.text.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
            let link = try #require(list.text.range(of: "href=\"/admin/keys/key_"))
            let id = String(list.text[list.text.index(link.lowerBound, offsetBy: 18)...].prefix { $0 != "\"" })

            let detail = try await browser.get("/admin/keys/\(id)")
            #expect(detail.status == .ok)
            #expect(!detail.text.contains(secret))
            #expect(detail.text.contains("Requests per day"))
            #expect(detail.text.contains("<svg"))

            // Validation errors beside their fields, the form kept.
            let bad = try await browser.post(
                "/admin/keys/\(id)", [("name", "renamed"), ("rpm", "-5"), ("enabled", "on"), ("current_expires", "")])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("Requests per minute must be a positive whole number"))
            #expect(bad.text.contains("id=\"f-rpm-error\""))
            let past = try await browser.post("/admin/keys", [("name", "x"), ("expires", "2001-01-01T00:00:00Z")])
            #expect(past.status == .badRequest)
            #expect(past.text.contains("&#39;expires_at&#39; must be in the future."))
            #expect(past.text.contains("id=\"f-expires-error\""))
            let nameless = try await browser.post("/admin/keys", [("name", "  ")])
            #expect(nameless.status == .badRequest)

            let saved = try await browser.post(
                "/admin/keys/\(id)", [("name", "renamed"), ("models", ""), ("rpm", "5"), ("tpm", ""), ("enabled", "on"), ("expires", ""), ("current_expires", "")])
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/admin/keys/\(id)?notice=key-updated")
            let edited = try await browser.get("/admin/keys/\(id)?notice=key-updated")
            #expect(edited.text.contains("The key has been saved."))
            #expect(edited.text.contains("Key “renamed”"))
            #expect(edited.text.contains("name=\"rpm\" type=\"number\" value=\"5\""))

            let rotated = try await browser.post("/admin/keys/\(id)/rotate")
            #expect(rotated.status == .ok)
            #expect(rotated.text.contains("The previous secret of this key has stopped working."))
            #expect(!rotated.text.contains(secret))

            let confirm = try await browser.get("/admin/keys/\(id)/revoke")
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains("This cannot be undone"))
            let revoked = try await browser.post("/admin/keys/\(id)/revoke")
            #expect(revoked.status == .seeOther)
            #expect(revoked.headers[.location] == "/admin/keys?notice=key-revoked")
            let after = try await browser.get("/admin/keys/\(id)")
            #expect(after.text.contains("revoked"))
            #expect(!after.text.contains("action=\"/admin/keys/\(id)\""))
            let refused = try await browser.post("/admin/keys/\(id)", [("name", "again"), ("enabled", "on")])
            #expect(refused.status == .conflict)
            let unknown = try await browser.get("/admin/keys/key_nope")
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("There is no API key"))
        }
    }

    @Test func modelsAreListedAndEditedWithValidationWarningsAndAnEffectivePreview() async throws {
        try await withOllamaSimulator { sim in
            try await ConsoleTests.withConsole(upstream: sim.baseURL) { start, _ in
                var browser = start
                let list = try await browser.get("/admin/models")
                #expect(list.status == .ok)
                #expect(list.text.contains("sim-chat:latest"))
                _ = try await browser.post("/admin/settings", [("ollama_url", sim.baseURL), ("defaults", #"{"num_ctx": 4096}"#), ("reasoning_format", "reasoning_content")])
                let edit = try await browser.get("/admin/models/edit?name=sim-chat")
                #expect(edit.status == .ok)
                #expect(edit.text.contains("Model sim-chat:latest"))
                let url = "/admin/models/edit?name=sim-chat%3Alatest"
                let form = { (overrides: String, aliases: String) -> [(String, String)] in
                    [("display_name", ""), ("aliases", aliases), ("enabled", "on"), ("overrides", overrides)]
                }
                let invalid = try await browser.post(url, form(#"{"num_ctx": 8192"#, ""))
                #expect(invalid.status == .badRequest)
                #expect(invalid.text.contains("This is not valid JSON"))
                #expect(invalid.text.contains("id=\"f-overrides-error\""))
                #expect(invalid.text.contains("{&quot;num_ctx&quot;: 8192</textarea>"))
                let wrongType = try await browser.post(url, form(#"{"num_ctx": "big"}"#, ""))
                #expect(wrongType.status == .badRequest)
                #expect(wrongType.text.contains("num_ctx"))
                let array = try await browser.post(url, form("[1]", ""))
                #expect(array.status == .badRequest)
                #expect(array.text.contains("must be a JSON object"))
                let warned = try await browser.post(url, form(#"{"num_ctx": 8192, "frobnicate": 1}"#, ConsoleTests.xssAlias))
                #expect(warned.status == .ok)
                #expect(warned.text.contains("&#39;frobnicate&#39; is not an Ollama option"))
                #expect(warned.text.contains("id=\"f-overrides-warnings\""))
                // The preview: the override wins over the default.
                #expect(warned.text.contains("<code>num_ctx</code></th><td><code>8192</code></td><td>model override</td>"))
                let clean = try await browser.post(url, form(#"{"num_ctx": 8192}"#, "chatty"))
                #expect(clean.status == .seeOther)
                #expect(clean.headers[.location] == "/admin/models/edit?name=sim-chat%3Alatest&notice=model-saved")
                _ = try await browser.post(url, form(#"{}"#, ConsoleTests.xssAlias))
                let after = try await browser.get("/admin/models")
                #expect(!after.text.contains("<img src=x"))
                #expect(after.text.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
                let preview = try await browser.get(url)
                #expect(preview.text.contains("<code>num_ctx</code></th><td><code>4096</code></td><td>gateway default</td>"))
                let missing = try await browser.get("/admin/models/edit?name=nothing-here")
                #expect(missing.status == .notFound)
                let refreshed = try await browser.post("/admin/models/refresh")
                #expect(refreshed.status == .seeOther)
            }
        }
    }

    @Test func theOverviewRequestsAndAuditPagesShowTheUsageLogEscaped() async throws {
        try await ConsoleTests.withConsole { start, location in
            var browser = start
            let now = Date()
            var records: [UsageRecord] = []
            for index in 0..<60 {
                let model: String = index == 0 ? ConsoleTests.xssAlias : "sim-chat"
                let status: Int = index % 10 == 0 ? 500 : 200
                let time = now.addingTimeInterval(-Double(index) * 60)
                records.append(UsageRecord(
                    time: time, requestID: "req-\(index)", keyID: nil, modelRequested: model, modelResolved: nil,
                    endpoint: "/v1/chat/completions", streamed: index % 2 == 0, status: status, promptTokens: 10,
                    completionTokens: 20, latencyMs: 100 + Double(index), timeToFirstTokenMs: 30))
            }
            let seeded = records
            try await location.withStore { store in try await store.usage.insert(seeded) }
            let overview = try await browser.get("/admin/?range=1h")
            #expect(overview.status == .ok)
            ConsoleTests.expectSecurityHeaders(overview)
            #expect(overview.text.contains("unreachable"))
            #expect(overview.text.contains("<span class=\"stat-value\">60</span>"))
            #expect(overview.text.contains("<span class=\"stat-label\">Latency p95</span>"))
            #expect(overview.text.contains("<svg viewBox"))
            #expect(!overview.text.contains("<img src=x"))
            for range in ["24h", "30d", "bogus"] {
                #expect(try await browser.get("/admin/?range=\(range)").status == .ok)
            }

            let requests = try await browser.get("/admin/requests")
            #expect(requests.status == .ok)
            #expect(!requests.text.contains("<img src=x"))
            #expect(requests.text.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
            #expect(requests.text.contains("Older requests"))
            let errors = try await browser.get("/admin/requests?status=5xx")
            #expect(errors.text.components(separatedBy: "badge bad\">500").count - 1 == 6)
            let badStatus = try await browser.get("/admin/requests?status=teapot")
            #expect(badStatus.status == .badRequest)
            #expect(badStatus.text.contains("Give an HTTP status"))
            let badCursor = try await browser.get("/admin/requests?cursor=nope")
            #expect(badCursor.status == .badRequest)
            let nextLink = try #require(requests.text.range(of: "cursor="))
            let cursor = String(requests.text[nextLink.upperBound...].prefix { $0 != "\"" && $0 != "&" })
            let second = try await browser.get("/admin/requests?range=24h&cursor=\(cursor)")
            #expect(second.status == .ok)
            #expect(second.text.contains("id=req-59\""))
            #expect(!second.text.contains("id=req-0\""))
            let detail = try await browser.get("/admin/requests/detail?id=req-0")
            #expect(detail.status == .ok)
            #expect(detail.text.contains("<code>req-0</code>"))
            #expect(!detail.text.contains("<img src=x"))
            #expect(try await browser.get("/admin/requests/detail?id=none").status == .notFound)
            let csv = try await browser.get("/admin/requests/export?format=csv&status=5xx")
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(csv.text.split(whereSeparator: \.isNewline).count == 7)
            let json = try await browser.get("/admin/requests/export?format=json")
            #expect(try json.json().arrayValue?.count == 60)
            #expect(try await browser.get("/admin/requests/export?format=xml").status == .badRequest)

            let audit = try await browser.get("/admin/audit?action=password.change")
            #expect(audit.status == .ok)
            #expect(audit.text.contains("<code>password.change</code>"))
            #expect(!audit.text.contains("login.success</code>"))
            #expect(try await browser.get("/admin/audit?cursor=bad").status == .ok)
        }
    }

    @Test func settingsShowTheirSourceSaveResetAndTestTheConnection() async throws {
        try await ConsoleTests.withConsole { start, _ in
            var browser = start
            let page = try await browser.get("/admin/settings")
            #expect(page.status == .ok)
            #expect(page.text.contains("From the configuration"))
            let bad = try await browser.post(
                "/admin/settings", [("ollama_url", "ftp://x"), ("defaults", "{}"), ("reasoning_format", "reasoning_content")])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("id=\"f-ollama_url-error\""))
            let badJSON = try await browser.post(
                "/admin/settings", [("ollama_url", TestGateway.deadUpstream), ("defaults", "{"), ("reasoning_format", "reasoning_content")])
            #expect(badJSON.status == .badRequest)
            #expect(badJSON.text.contains("id=\"f-defaults-error\""))
            let saved = try await browser.post(
                "/admin/settings", [("ollama_url", "http://127.0.0.1:10"), ("defaults", "{}"), ("reasoning_format", "both")])
            #expect(saved.status == .seeOther)
            let after = try await browser.get("/admin/settings")
            #expect(after.text.contains("value=\"http://127.0.0.1:10\""))
            #expect(after.text.contains("Return to the configured value"))
            #expect(after.text.contains("<option value=\"both\" selected>"))
            let reset = try await browser.post("/admin/settings/reset", [("name", "ollama_url")])
            #expect(reset.status == .seeOther)
            #expect(try await browser.get("/admin/settings").text.contains("value=\"\(TestGateway.deadUpstream)\""))
            let unknown = try await browser.post("/admin/settings/reset", [("name", "nope")])
            #expect(unknown.status == .badRequest)
            let test = try await browser.post(
                "/admin/settings/test", [("ollama_url", TestGateway.deadUpstream), ("defaults", "{}"), ("reasoning_format", "both")])
            #expect(test.status == .ok)
            #expect(test.text.contains("unreachable"))
        }
    }

    @Test func assetsAreServedFromTheBinaryAndAPIRoutesGetNoConsoleHeaders() async throws {
        try await AdminTests.withFreshGateway(.sqlite) { admin, _ in
            var browser = ConsoleBrowser(admin.client)
            let css = try await browser.get("/admin/assets/console.css?v=1")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(css.text.contains("prefers-color-scheme: dark"))
            #expect(css.text.contains(":focus-visible"))
            let js = try await browser.get("/admin/assets/console.js")
            #expect(js.status == .ok)
            #expect(js.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(!js.text.contains("innerHTML"))
            #expect(!js.text.contains("eval("))
            let api = try await browser.get("/v1/models", headers: [.origin: "https://evil.example"])
            #expect(api.headers[HTTPField.Name("Content-Security-Policy")!] == nil)
            #expect(api.headers[.accessControlAllowOrigin] == nil)
        }
    }
}

@Suite("Admin console playground")
struct ConsolePlaygroundTests {
    @Test func thePlaygroundStreamsThroughTheGatewayAndIsAccountedWithoutAKey() async throws {
        try await withOllamaSimulator { sim in
            try await ConsoleTests.withConsole(upstream: sim.baseURL) { start, location in
                var browser = start
                let page = try await browser.get("/admin/playground")
                #expect(page.status == .ok)
                #expect(page.text.contains("<option value=\"sim-chat:latest\">") || page.text.contains("sim-chat"))
                let body = #"{"model":"sim-chat","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello there"}]}"#
                var headers: HTTPFields = [.contentType: "application/json", .cookie: browser.cookieHeader]
                let refused = try await browser.client.execute(uri: "/admin/playground/chat", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(refused.status == .forbidden)
                headers[HTTPField.Name("X-CSRF-Token")!] = browser.csrf!
                headers[.authorization] = "Bearer sk-not-a-key"
                // Errors in the OpenAI format, as the playground shows them.
                let unknown = try await browser.client.execute(
                    uri: "/admin/playground/chat", method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#))
                #expect(unknown.status == .notFound)
                #expect(try unknown.json()["error"]?["message"]?.stringValue != nil)
                let answer = try await browser.client.execute(uri: "/admin/playground/chat", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(answer.status == .ok)
                let events = SSEEvents(answer.body).json
                #expect(events.contains { $0["usage"]?["completion_tokens"]?.intValue ?? 0 > 0 })
                #expect(events.contains { $0["choices"]?[0]?["delta"]?["content"]?.stringValue != nil })
                // Accounted: the usage log has it, with no key, under the playground's route. The refused
                // request before it is logged too, and may be written in an earlier batch: wait for this one.
                let served = { (entry: UsageLogEntry) in
                    entry.record.keyID == nil && entry.record.status == 200 && entry.record.completionTokens > 0
                }
                var logged: [UsageLogEntry] = []
                for _ in 0..<50 where !logged.contains(where: served) {
                    try await Task.sleep(for: .milliseconds(100))
                    logged = try await location.withStore { store in
                        try await store.usage.log(UsageLogQuery(filter: UsageFilter(endpoint: "/admin/playground/chat"))).entries
                    }
                }
                #expect(logged.contains(where: served))
            }
        }
    }
}

@Suite("Admin console: escaping and formatting")
struct ConsoleFormattingTests {
    @Test func interpolatedTextIsEscapedAndOnlyLiteralsAreMarkup() {
        let name = ConsoleTests.xssAlias + "&'"
        let html: HTML = "<td title=\"\(name)\">\(name)</td>"
        #expect(html.markup == "<td title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;\">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;</td>")
        let nested: HTML = "<p>\(html)</p>"
        #expect(nested.markup == "<p>" + html.markup + "</p>")
        #expect(ConsoleURL.key("key_a/../b?c=\"d\"") == "/admin/keys/key_a%2F..%2Fb%3Fc%3D%22d%22")
        #expect(ConsoleURL.with("/admin/requests", [("model", "a&b c"), ("key", nil), ("status", "")]) == "/admin/requests?model=a%26b%20c")
    }

    @Test func numbersTimesAndUnloadTimes() throws {
        #expect(ConsoleFormat.number(0) == "0")
        #expect(ConsoleFormat.number(1_234_567) == "1,234,567")
        #expect(ConsoleFormat.number(-1000) == "-1,000")
        #expect(ConsoleFormat.compact(12_345) == "12.3k")
        #expect(ConsoleFormat.milliseconds(nil) == "–")
        #expect(ConsoleFormat.milliseconds(12_500) == "12.5 s")
        #expect(ConsoleFormat.time(Date(timeIntervalSince1970: 0)) == "1970-01-01 00:00:00 UTC")
        let now = try Date.ISO8601FormatStyle().parse("2026-12-06T09:00:00Z")
        #expect(ConsoleController.unloadTime("2026-12-06T09:04:00.324727774Z", now: now) == "in 4 min")
        #expect(ConsoleController.unloadTime("2026-12-06T02:30:00.5-07:00", now: now) == "in 30 min")
        #expect(ConsoleController.unloadTime("2318-01-01T00:00:00Z", now: now) == "never (kept loaded)")
        #expect(ConsoleController.unloadTime("soon", now: now) == "soon")
        #expect(ConsoleController.unloadTime(nil, now: now) == "–")
    }
}
