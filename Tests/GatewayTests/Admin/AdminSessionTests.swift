import Foundation
@testable import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Admin sign-in, sessions, CSRF and throttling")
struct AdminSessionTests {
    @Test(arguments: AdminEngine.available)
    func loginSetsAStrictHttpOnlyCookieAndReturnsTheCSRFToken(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(engine) { client, _ in
            var admin = client
            let response = try await admin.login("admin", "admin")
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["must_change_password"] == .bool(true))
            #expect(body["csrf_token"]?.stringValue?.count ?? 0 >= 40)
            let cookie = try #require(AdminClient.cookie(named: "gateway_session", in: response))
            #expect(cookie.attributes.contains("HttpOnly"))
            #expect(cookie.attributes.contains("SameSite=Strict"))
            #expect(cookie.attributes.contains("Path=/"))
            #expect(!cookie.attributes.contains("Secure"))
            #expect(response.headers[.cacheControl] == "no-store")
            // The session repeats the CSRF token for a reloaded page.
            let session = try await admin.get("/admin/api/session")
            #expect(session.status == .ok)
            #expect(try session.json()["csrf_token"]?.stringValue == admin.csrfToken)
            #expect(try session.json()["username"] == "admin")
        }
    }

    @Test func secureCookiesWhenConfigured() async throws {
        try await AdminTests.withFreshGateway(.sqlite, { $0.admin.cookieSecure = true }) { client, _ in
            let response = try await client.send(.post, "/admin/api/login", json: #"{"username":"admin","password":"admin"}"#)
            let cookie = try #require(AdminClient.cookie(named: "__Host-gateway_session", in: response))
            #expect(cookie.attributes.contains("Secure"))
            #expect(cookie.attributes.contains("Path=/"))
        }
    }

    @Test(arguments: AdminEngine.available)
    func wrongPasswordsAreRefusedAndAudited(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(engine, { $0.adminPassword = AdminTests.password }) { client, location in
            var admin = client
            let wrong = try await admin.login("admin", "admin")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.errorType == "invalid_credentials")
            #expect(wrong.headers[values: .setCookie].isEmpty)
            let unknown = try await admin.login("nobody", "whatever1")
            #expect(unknown.status == .unauthorized)
            // ADMIN_PASSWORD set: no forced change.
            let right = try await admin.login("Admin", AdminTests.password)
            #expect(right.status == .ok)
            #expect(try right.json()["must_change_password"] == .bool(false))
            let entries = try await AdminTests.auditEntries(admin, query: "&action=login.failure")
            #expect(entries.count == 2)
            #expect(entries.allSatisfy { $0["actor"]?["kind"] == "account" && $0["client_address"] == "127.0.0.1" })
            #expect(!(try await admin.get("/admin/api/audit").text.contains("admin\",\"password")))
        }
    }

    @Test(arguments: AdminEngine.available)
    func theDefaultPasswordLocksEveryOtherAction(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(engine) { client, _ in
            var admin = client
            try #require(try await admin.login("admin", "admin").status == .ok)
            for (method, path) in [(HTTPRequest.Method.get, "/admin/api/keys"), (.get, "/admin/api/settings"), (.get, "/admin/api/audit"), (.get, "/admin/api/models")] {
                let response = try await admin.send(method, path)
                #expect(response.status == .forbidden, "\(path)")
                #expect(response.errorType == "password_change_required")
                #expect(response.errorMessage?.contains("/admin/api/password") == true)
            }
            let created = try await admin.send(.post, "/admin/api/keys", json: #"{"name":"x"}"#)
            #expect(created.status == .forbidden)

            // The rules of a new password.
            for (body, reason) in [
                (#"{"current_password":"admin","new_password":"short"}"#, "at least 8"),
                (#"{"current_password":"wrong-one","new_password":"a good password"}"#, "current_password"),
                (#"{"current_password":"admin"}"#, "new_password"),
            ] {
                let response = try await admin.send(.post, "/admin/api/password", json: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorMessage?.contains(reason) == true, "\(response.text)")
            }
            let changed = try await admin.send(
                .post, "/admin/api/password", json: #"{"current_password":"admin","new_password":"a good password"}"#)
            #expect(changed.status == .ok)
            #expect(try changed.json()["must_change_password"] == .bool(false))
            #expect(try await admin.get("/admin/api/keys").status == .ok)
            #expect(try await admin.get("/admin/api/session").json()["must_change_password"] == .bool(false))
            let same = try await admin.send(
                .post, "/admin/api/password", json: #"{"current_password":"a good password","new_password":"a good password"}"#)
            #expect(same.status == .badRequest)
            let audit = try await AdminTests.auditEntries(admin, query: "&action=password.change")
            #expect(audit.count == 1)
        }
    }

    @Test(arguments: AdminEngine.available)
    func changingThePasswordEndsTheOtherSessions(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(engine, { $0.adminPassword = AdminTests.password }) { client, _ in
            var first = client
            var second = client
            try #require(try await first.login("admin", AdminTests.password).status == .ok)
            try #require(try await second.login("admin", AdminTests.password).status == .ok)
            #expect(first.sessionToken != second.sessionToken)
            let changed = try await first.send(
                .post, "/admin/api/password",
                json: #"{"current_password":"\#(AdminTests.password)","new_password":"another password"}"#)
            #expect(changed.status == .ok)
            #expect(try changed.json()["other_sessions_ended"] == .int(1))
            #expect(try await first.get("/admin/api/keys").status == .ok)
            let ended = try await second.get("/admin/api/keys")
            #expect(ended.status == .unauthorized)
            #expect(AdminClient.cookie(named: "gateway_session", in: ended)?.attributes.contains("Max-Age=0") == true)
            #expect(try await second.login("admin", AdminTests.password).status == .unauthorized)
            #expect(try await second.login("admin", "another password").status == .ok)
        }
    }

    @Test(arguments: AdminEngine.available)
    func stateChangingRequestsNeedTheCSRFTokenAndTheSameOrigin(engine: AdminEngine) async throws {
        try await AdminTests.withSignedIn(engine) { admin, _ in
            var withoutToken = admin
            withoutToken.csrfToken = nil
            let missing = try await withoutToken.send(.post, "/admin/api/keys", json: #"{"name":"a"}"#)
            #expect(missing.status == .forbidden)
            #expect(missing.errorType == "csrf_failed")
            var wrongToken = admin
            wrongToken.csrfToken = "not-the-token"
            #expect(try await wrongToken.send(.post, "/admin/api/keys", json: #"{"name":"a"}"#).status == .forbidden)
            #expect(try await wrongToken.send(.post, "/admin/api/logout").status == .forbidden)
            // Reading needs no token.
            #expect(try await withoutToken.get("/admin/api/keys").status == .ok)

            let foreign = try await admin.send(
                .post, "/admin/api/keys", json: #"{"name":"a"}"#, headers: [.origin: "https://evil.example"])
            #expect(foreign.status == .forbidden)
            #expect(foreign.errorType == "csrf_failed")
            let crossSite = try await admin.send(
                .post, "/admin/api/keys", json: #"{"name":"a"}"#, headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(crossSite.status == .forbidden)
            let foreignLogin = try await admin.send(
                .post, "/admin/api/login", json: #"{"username":"admin","password":"x"}"#, headers: [.origin: "http://evil.example"])
            #expect(foreignLogin.status == .forbidden)
            let sameOrigin = try await admin.send(
                .post, "/admin/api/keys", json: #"{"name":"a"}"#, headers: [.origin: "http://localhost"])
            #expect(sameOrigin.status == .created)
            // A form cannot send JSON: bodies of another type are refused.
            let form = try await admin.send(
                .post, "/admin/api/keys", json: "name=a", headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(form.status == .unsupportedMediaType)
        }
    }

    @Test func originMatching() {
        #expect(AdminOriginGuard.origin("http://localhost", matchesHost: "localhost"))
        #expect(AdminOriginGuard.origin("http://localhost:3000", matchesHost: "localhost:3000"))
        #expect(AdminOriginGuard.origin("https://GW.example.com", matchesHost: "gw.example.com:443"))
        #expect(AdminOriginGuard.origin("http://[::1]:3000", matchesHost: "[::1]:3000"))
        #expect(!AdminOriginGuard.origin("http://localhost:3001", matchesHost: "localhost:3000"))
        #expect(!AdminOriginGuard.origin("https://gw.example.com", matchesHost: "gw.example.com:80"))
        #expect(!AdminOriginGuard.origin("null", matchesHost: "localhost"))
        #expect(!AdminOriginGuard.origin("http://gw.example.com.evil.example", matchesHost: "gw.example.com"))
    }

    @Test(arguments: AdminEngine.available)
    func loginsAreThrottledPerAccount(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(engine, { $0.adminPassword = AdminTests.password }) { client, _ in
            var admin = client
            // A success clears the account's failures.
            for _ in 0..<4 { #expect(try await admin.login("admin", "wrong password").status == .unauthorized) }
            #expect(try await admin.login("admin", AdminTests.password).status == .ok)
            for _ in 0..<5 { #expect(try await admin.login("admin", "wrong password").status == .unauthorized) }
            let throttled = try await admin.login("admin", AdminTests.password)
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] == "900")
            #expect(throttled.errorType == "rate_limited")
            // Another account name from the same address is not blocked by this account's failures.
            #expect(try await admin.login("someone", "wrong password").status == .unauthorized)
        }
    }

    @Test(arguments: AdminEngine.available)
    func loginsAreThrottledPerAddress(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(
            engine, { $0.adminPassword = AdminTests.password; $0.admin.loginMaxFailuresPerAddress = 3 }
        ) { client, _ in
            var admin = client
            for name in ["a", "b", "c"] { #expect(try await admin.login(name, "wrong password").status == .unauthorized) }
            let throttled = try await admin.login("admin", AdminTests.password)
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.headers[.retryAfter] != nil)
        }
    }

    @Test(arguments: AdminEngine.available)
    func sessionsLiveInTheDatabaseAndSurviveARestart(engine: AdminEngine) async throws {
        let location = try AdminTestLocation.make(engine)
        let signedIn = SessionBox()
        try await AdminTests.withGateway(location, { $0.adminPassword = AdminTests.password }) { client in
            var admin = client
            try #require(try await admin.login("admin", AdminTests.password).status == .ok)
            signedIn.set(admin.sessionToken, admin.csrfToken)
        }
        try await AdminTests.withGateway(location) { client in
            var admin = client
            (admin.sessionToken, admin.csrfToken) = signedIn.get()
            let session = try await admin.get("/admin/api/session")
            #expect(session.status == .ok)
            #expect(try session.json()["username"] == "admin")
            #expect(try await admin.send(.post, "/admin/api/keys", json: #"{"name":"after restart"}"#).status == .created)
        }
        try await location.remove()
    }

    @Test(arguments: AdminEngine.available)
    func idleAndAbsoluteExpiry(engine: AdminEngine) async throws {
        try await AdminTests.withFreshGateway(engine, { $0.admin.sessionIdleTimeout = .seconds(60) }) { client, location in
            var admin = client
            try #require(try await admin.login("admin", "admin").status == .ok)
            // The configured idle timeout applies.
            let session = try await admin.get("/admin/api/session").json()
            let idle = try #require(session["idle_expires_at"]?.stringValue.flatMap(Timestamps.parse))
            #expect(abs(idle.timeIntervalSinceNow - 60) < 10)

            // Sessions created in the past, as another instance would have: one idle too long, one too old.
            let (idleToken, oldToken) = try await location.withStore { store in
                let account = try #require(try await store.adminAccounts.find(username: "admin"))
                let idleStore = GatewayStore(
                    database: store.database, sessionPolicy: SessionPolicy(idleTimeout: .seconds(60), absoluteLifetime: .seconds(3600)))
                let idle = try await idleStore.sessions.create(accountID: account.id, now: Date().addingTimeInterval(-120))
                let oldStore = GatewayStore(
                    database: store.database, sessionPolicy: SessionPolicy(idleTimeout: .seconds(86_400), absoluteLifetime: .seconds(3600)))
                let old = try await oldStore.sessions.create(accountID: account.id, now: Date().addingTimeInterval(-3601))
                return (idle.token, old.token)
            }
            for token in [idleToken, oldToken] {
                var expired = admin
                expired.sessionToken = token
                let response = try await expired.get("/admin/api/session")
                #expect(response.status == .unauthorized)
                #expect(response.errorType == "authentication_required")
            }
            #expect(try await admin.get("/admin/api/session").status == .ok)
        }
    }

    @Test(arguments: AdminEngine.available)
    func logoutEndsTheSessionAndClearsTheCookie(engine: AdminEngine) async throws {
        try await AdminTests.withSignedIn(engine) { admin, _ in
            let response = try await admin.send(.post, "/admin/api/logout")
            #expect(response.status == .noContent)
            let cookie = try #require(AdminClient.cookie(named: "gateway_session", in: response))
            #expect(cookie.value.isEmpty)
            #expect(cookie.attributes.contains("Max-Age=0"))
            #expect(try await admin.get("/admin/api/session").status == .unauthorized)
            let audit = try await admin.withoutSession().get("/admin/api/audit")
            #expect(audit.status == .unauthorized)
        }
    }

    @Test(arguments: AdminEngine.available)
    func aNewSessionAtEveryLogin(engine: AdminEngine) async throws {
        try await AdminTests.withSignedIn(engine) { admin, _ in
            var again = admin
            try #require(try await again.login("admin", AdminTests.password).status == .ok)
            #expect(again.sessionToken != admin.sessionToken)
            // The session the browser came with is gone.
            #expect(try await admin.get("/admin/api/session").status == .unauthorized)
        }
    }

    @Test(arguments: AdminEngine.available)
    func theAdminTokenAuthenticatesScripts(engine: AdminEngine) async throws {
        let token = "an-admin-token-for-automation-0123456789"
        try await AdminTests.withFreshGateway(engine, { $0.admin.token = token }) { client, _ in
            let script = client.withBearer(token)
            // No session, no CSRF token, and the default password's lock does not apply.
            let created = try await script.send(.post, "/admin/api/keys", json: #"{"name":"from a script"}"#)
            #expect(created.status == .created)
            #expect(try await script.get("/admin/api/session").json()["auth"] == "token")
            let entries = try await AdminTests.auditEntries(script, query: "&action=key.create")
            #expect(entries.first?["actor"]?["kind"] == "token")
            let wrong = try await client.withBearer(token + "x").get("/admin/api/keys")
            #expect(wrong.status == .unauthorized)
            #expect(try await client.withBearer("").get("/admin/api/keys").status == .unauthorized)
            #expect(try await client.get("/admin/api/keys").status == .unauthorized)
            // A token holder has no password to change.
            #expect(try await script.send(.post, "/admin/api/password", json: #"{"current_password":"admin","new_password":"abcdefghij"}"#).status == .forbidden)
        }
        try await AdminTests.withFreshGateway(engine) { client, _ in
            let response = try await client.withBearer(token).get("/admin/api/keys")
            #expect(response.status == .unauthorized)
            #expect(response.errorMessage?.contains("ADMIN_TOKEN") == true)
        }
    }

    @Test func noCORSOnAdminRoutes() async throws {
        try await AdminTests.withSignedIn(.sqlite) { admin, _ in
            let preflight = try await admin.send(
                .options, "/admin/api/keys",
                headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"])
            #expect(preflight.status != .ok)
            let responses = [
                preflight, try await admin.get("/admin/api/keys"),
                try await admin.send(.get, "/admin/api/keys", headers: [.origin: "https://evil.example"]),
                try await admin.send(.post, "/admin/api/login", json: "{}", headers: [.origin: "https://evil.example"]),
            ]
            for response in responses {
                #expect(!response.headers.contains { $0.name.canonicalName.hasPrefix("access-control-") })
            }
        }
    }
}

/// Thread-safe hand-over of a session between two application runs.
final class SessionBox: @unchecked Sendable {
    private var value: (String?, String?) = (nil, nil)
    private let lock = NSLock()

    func set(_ token: String?, _ csrf: String?) { lock.withLock { value = (token, csrf) } }
    func get() -> (String?, String?) { lock.withLock { value } }
}

extension AdminClient {
    func withBearer(_ token: String?) -> AdminClient {
        var copy = self
        copy.bearer = token
        copy.sessionToken = nil
        copy.csrfToken = nil
        return copy
    }

    func withoutSession() -> AdminClient {
        var copy = self
        copy.sessionToken = nil
        return copy
    }
}
