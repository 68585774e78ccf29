import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Admin API: keys")
struct AdminKeysTests {
    @Test(arguments: AdminEngine.available)
    func keysLifecycle(engine: AdminEngine) async throws {
        try await AdminTests.withSignedIn(engine) { admin, location in
            let created = try await admin.send(
                .post, "/admin/api/keys",
                json: #"{"name":" ci ","models":["llama*","qwen3"],"rpm":60,"tpm":10000,"quota":1000000,"max_concurrent":2,"expires_in":"30d"}"#)
            #expect(created.status == .created, "\(created.text)")
            let body = try created.json()
            let secret = try #require(body["secret"]?.stringValue)
            #expect(secret.hasPrefix("sk-") && secret.count == 46)
            let key = try #require(body["key"])
            let id = try #require(key["id"]?.stringValue)
            #expect(id.hasPrefix("key_"))
            #expect(key["name"] == "ci")
            #expect(key["models"] == ["llama*", "qwen3"])
            #expect(key["rpm"] == 60 && key["tpm"] == 10000 && key["quota"] == 1_000_000 && key["max_concurrent"] == 2)
            #expect(key["status"] == "active")
            #expect(key["prefix"]?.stringValue == String(secret.prefix(11)))
            let expires = try #require(key["expires_at"]?.stringValue.flatMap(Timestamps.parse))
            #expect(abs(expires.timeIntervalSinceNow - 30 * 86_400) < 60)
            #expect(key["secret"] == nil && key["key_hash"] == nil)

            // The secret authenticates (the store finds it), and is never shown again.
            let found = try await location.withStore { try await $0.apiKeys.find(secret: secret) }
            #expect(found?.id == id)
            let list = try await admin.get("/admin/api/keys")
            #expect(list.status == .ok)
            #expect(!list.text.contains(secret))
            #expect(!list.text.contains(SecretHash.sha256Hex(secret)))
            #expect(try list.json()["keys"]?.arrayValue?.count == 1)
            let one = try await admin.get("/admin/api/keys/\(id)")
            #expect(one.status == .ok)
            #expect(!one.text.contains(secret))

            // PATCH changes only what it names; null lifts a limit.
            let patched = try await admin.send(
                .patch, "/admin/api/keys/\(id)", json: #"{"rpm":null,"name":"ci-2","enabled":false,"expires_at":null}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            let patchedKey = try patched.json()
            #expect(patchedKey["rpm"] == .null && patchedKey["tpm"] == 10000 && patchedKey["name"] == "ci-2")
            #expect(patchedKey["status"] == "disabled" && patchedKey["expires_at"] == .null)

            // Rotation: a new secret, the same id and limits.
            let rotated = try await admin.send(.post, "/admin/api/keys/\(id)/rotate")
            #expect(rotated.status == .ok)
            let newSecret = try #require(try rotated.json()["secret"]?.stringValue)
            #expect(newSecret != secret && newSecret.hasPrefix("sk-"))
            #expect(try rotated.json()["key"]?["id"]?.stringValue == id)
            #expect(try rotated.json()["key"]?["tpm"] == 10000)
            let afterRotation = try await location.withStore { store in
                (try await store.apiKeys.find(secret: secret), try await store.apiKeys.find(secret: newSecret))
            }
            #expect(afterRotation.0 == nil && afterRotation.1?.id == id)

            // Revocation: by POST …/revoke or DELETE; revoked keys are listed on request only.
            let revoked = try await admin.send(.post, "/admin/api/keys/\(id)/revoke")
            #expect(revoked.status == .ok)
            #expect(try revoked.json()["status"] == "revoked")
            #expect(try await admin.get("/admin/api/keys").json()["keys"]?.arrayValue?.isEmpty == true)
            #expect(try await admin.get("/admin/api/keys?include_revoked=true").json()["keys"]?.arrayValue?.count == 1)
            let patchRevoked = try await admin.send(.patch, "/admin/api/keys/\(id)", json: #"{"rpm":5}"#)
            #expect(patchRevoked.status == .conflict)
            #expect(try await admin.send(.post, "/admin/api/keys/\(id)/rotate").status == .conflict)

            let other = try await admin.send(.post, "/admin/api/keys", json: #"{"name":"other"}"#)
            let otherID = try #require(try other.json()["key"]?["id"]?.stringValue)
            let deleted = try await admin.send(.delete, "/admin/api/keys/\(otherID)")
            #expect(deleted.status == .ok)
            #expect(try deleted.json()["status"] == "revoked")

            // Every action is in the audit log, without secrets.
            let audit = try await admin.get("/admin/api/audit?limit=500")
            for secretText in [secret, newSecret, AdminTests.password] { #expect(!audit.text.contains(secretText)) }
            let actions = try audit.json()["entries"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []
            for action in ["key.create", "key.update", "key.rotate", "key.revoke", "login.success", "password.change"] {
                #expect(actions.contains(action), "\(action)")
            }
            let update = try #require(try audit.json()["entries"]?.arrayValue?.first { $0["action"] == "key.update" })
            #expect(update["target"]?.stringValue == id)
            #expect(update["actor"]?["name"] == "admin")
            #expect(update["details"]?["changed"] == ["enabled", "expires_at", "name", "rpm"])
        }
    }

    @Test(arguments: AdminEngine.available)
    func unknownKeysAre404(engine: AdminEngine) async throws {
        try await AdminTests.withSignedIn(engine) { admin, _ in
            for (method, path, json) in [
                (HTTPRequest.Method.get, "/admin/api/keys/key_missing", nil), (.patch, "/admin/api/keys/key_missing", #"{"rpm":1}"#),
                (.post, "/admin/api/keys/key_missing/rotate", nil), (.post, "/admin/api/keys/key_missing/revoke", nil),
                (.delete, "/admin/api/keys/key_missing", nil),
            ] as [(HTTPRequest.Method, String, String?)] {
                let response = try await admin.send(method, path, json: json)
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(response.errorType == "not_found")
                #expect(response.errorMessage?.contains("key_missing") == true)
            }
        }
    }

    @Test func keyValidationErrorsSayWhy() async throws {
        try await AdminTests.withSignedIn(.sqlite) { admin, _ in
            let cases: [(String, String)] = [
                (#"{}"#, "'name' is required"),
                (#"{"name":"   "}"#, "'name'"),
                (#"{"name":"a","rpm":0}"#, "'rpm' must be a positive integer"),
                (#"{"name":"a","tpm":-5}"#, "'tpm'"),
                (#"{"name":"a","rpm":"sixty"}"#, "rpm"),
                (#"{"name":"a","models":"llama"}"#, "models"),
                (#"{"name":"a","models":[""]}"#, "'models'"),
                (#"{"name":"a","expires_in":"30 days"}"#, "'expires_in'"),
                (#"{"name":"a","expires_at":"tomorrow"}"#, "'expires_at'"),
                (#"{"name":"a","expires_at":"2001-01-01T00:00:00Z"}"#, "in the future"),
                (#"{"name":"a","expires_at":"2031-01-01T00:00:00Z","expires_in":"1d"}"#, "not both"),
                (#"{"name":"a","max_concurent":2}"#, "Unknown field 'max_concurent'"),
                (#"[1]"#, "JSON object"),
                (#"{"name":"a""#, "not valid JSON"),
            ]
            for (body, reason) in cases {
                let response = try await admin.send(.post, "/admin/api/keys", json: body)
                #expect(response.status == .badRequest, "\(body) → \(response.text)")
                #expect(response.errorType == "invalid_request")
                #expect(response.errorMessage?.contains(reason) == true, "\(body) → \(response.text)")
            }
            let empty = try await admin.send(.post, "/admin/api/keys")
            #expect(empty.status == .badRequest)
            let dated = try await admin.send(.post, "/admin/api/keys", json: #"{"name":"a","expires_at":"2031-01-01T00:00:00Z"}"#)
            #expect(dated.status == .created)
            #expect(try dated.json()["key"]?["expires_at"] == "2031-01-01T00:00:00.000Z")
            #expect(try await admin.get("/admin/api/keys?include_revoked=maybe").status == .badRequest)
        }
    }
}

@Suite("Key changes reach the API routes")
struct AdminKeyChangesReachTheAPITests {
    /// The key cache lives 10 s by default; a change made through this instance's admin API applies at once.
    @Test func revokingAndRotatingApplyAtOnce() async throws {
        try await AdminTests.withSignedIn(.sqlite, { $0.requireAPIKey = true }) { admin, _ in
            let created = try await admin.send(.post, "/admin/api/keys", json: #"{"name":"app"}"#).json()
            let secret = try #require(created["secret"]?.stringValue)
            let id = try #require(created["key"]?["id"]?.stringValue)
            func status(_ key: String) async throws -> HTTPResponse.Status {
                try await admin.client.execute(
                    uri: "/v1/models", method: .get, headers: [.authorization: "Bearer \(key)"]
                ).status
            }
            // No Ollama behind this gateway: an authenticated listing says so (503), a refused key is a 401.
            #expect(try await status(secret) == .serviceUnavailable)
            let rotated = try await admin.send(.post, "/admin/api/keys/\(id)/rotate").json()
            let newSecret = try #require(rotated["secret"]?.stringValue)
            #expect(try await status(secret) == .unauthorized)
            #expect(try await status(newSecret) == .serviceUnavailable)
            _ = try await admin.send(.post, "/admin/api/keys/\(id)/revoke")
            #expect(try await status(newSecret) == .unauthorized)
        }
    }
}
