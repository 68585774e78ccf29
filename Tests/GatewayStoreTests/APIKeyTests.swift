import Foundation
import SQLKit
import Testing

@testable import GatewayStore

@Suite("API key secrets")
struct APIKeySecretTests {
    @Test func format() throws {
        let secret = APIKeySecret.generate()
        #expect(secret.value.hasPrefix("sk-"))
        #expect(secret.value.count == 3 + 43)  // 32 bytes in base62
        #expect(secret.visiblePrefix.count == 3 + 8)
        #expect(secret.value.hasPrefix(secret.visiblePrefix))
        #expect(secret.hash.count == 64)
        #expect(secret.hash == SecretHash.sha256Hex(secret.value))
        #expect(secret.matches(hash: secret.hash))
        #expect(!secret.matches(hash: APIKeySecret.generate().hash))
        #expect(!"\(secret)".contains(secret.value))
        #expect(APIKeySecret(presented: secret.value)?.value == secret.value)
    }

    @Test func uniqueness() {
        let secrets = Set((0..<1000).map { _ in APIKeySecret.generate().value })
        #expect(secrets.count == 1000)
    }

    @Test func rejectsMalformed() {
        #expect(APIKeySecret(presented: "") == nil)
        #expect(APIKeySecret(presented: "sk-short") == nil)
        #expect(APIKeySecret(presented: "pk-" + String(repeating: "a", count: 43)) == nil)
        #expect(APIKeySecret(presented: "sk-" + String(repeating: "-", count: 43)) == nil)
        #expect(APIKeySecret(presented: "sk-" + String(repeating: "a", count: 43)) != nil)
    }

    @Test func base62() {
        #expect(Base62.encode([0, 0]) == "000")
        #expect(Base62.encode([0, 61]) == "00z")
        #expect(Base62.encode([0, 62]) == "010")
        #expect(Base62.encode([UInt8](repeating: 255, count: 32)).count == 43)
        #expect(Base62.length(forByteCount: 32) == 43)
    }

    @Test func constantTimeEquals() {
        #expect(SecretHash.constantTimeEquals("abc", "abc"))
        #expect(!SecretHash.constantTimeEquals("abc", "abd"))
        #expect(!SecretHash.constantTimeEquals("abc", "abcd"))
        #expect(SecretHash.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func wildcardModels() {
        var record = APIKeyRecord(
            id: "key_x", name: "x", prefix: "sk-x", allowedModels: [], enabled: true, expiresAt: nil,
            limits: .unlimited, tokensUsed: 0, createdAt: referenceTime, updatedAt: referenceTime)
        #expect(record.allows(model: "anything"))
        record.allowedModels = ["llama*", "qwen3:8b", "*-embed*"]
        #expect(record.allows(model: "llama3.1:8b"))
        #expect(record.allows(model: "llama"))
        #expect(record.allows(model: "qwen3:8b"))
        #expect(!record.allows(model: "qwen3:32b"))
        #expect(record.allows(model: "nomic-embed-text"))
        #expect(!record.allows(model: "mistral"))
    }
}

@Suite("API keys")
struct APIKeyRepositoryTests {
    static let limits = APIKeyLimits(requestsPerMinute: 60, tokensPerMinute: 10_000, tokenQuota: 1_000_000, maxConcurrentRequests: 4)

    @Test("create, then look up by secret", arguments: TestEngine.available)
    func createAndFind(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let keys = testStore(database).apiKeys
            let issued = try await keys.create(
                APIKeySettings(name: "  ci  ", allowedModels: ["llama*"], limits: Self.limits), now: referenceTime)
            #expect(issued.record.id.hasPrefix("key_"))
            #expect(issued.record.name == "ci")
            #expect(issued.record.prefix == issued.secret.visiblePrefix)
            #expect(issued.record.limits == Self.limits)
            #expect(issued.record.createdAt == referenceTime)
            #expect(issued.record.tokensUsed == 0)
            #expect(issued.record.status(at: referenceTime) == .active)

            let found = try #require(try await keys.find(secret: issued.secret.value))
            #expect(found == issued.record)
            #expect(try await keys.get(id: issued.record.id) == issued.record)
            #expect(try await keys.find(secret: APIKeySecret.generate().value) == nil)
            #expect(try await keys.find(secret: "sk-nonsense") == nil)
            #expect(try await keys.list().map(\.id) == [issued.record.id])
        }
    }

    @Test("secrets are stored only as hashes", arguments: TestEngine.available)
    func noPlaintext(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let keys = testStore(database).apiKeys
            let issued = try await keys.create(APIKeySettings(name: "k"))
            let rotated = try await keys.rotate(id: issued.record.id)
            let hidden = [issued.secret, rotated.secret].map { String($0.value.dropFirst($0.visiblePrefix.count)) }
            let rows = try await database.sql.raw(
                "SELECT id, name, key_hash, key_prefix, allowed_models FROM api_keys"
            ).all()
            #expect(rows.count == 1)
            for row in rows {
                for column in ["id", "name", "key_hash", "key_prefix", "allowed_models"] {
                    let text = try row.decode(column: column, as: String?.self) ?? ""
                    for secret in hidden { #expect(!text.contains(secret), "column \(column) holds a secret") }
                }
                #expect(try row.decode(column: "key_hash", as: String.self) == rotated.secret.hash)
            }
            if engine == .sqlite, let path = database.configuration.sqliteFilePath {
                for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                    for secret in hidden { #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(file) holds a secret") }
                }
            }
        }
    }

    @Test("rotation: new secret, same id, limits and usage", arguments: TestEngine.available)
    func rotate(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let keys = testStore(database).apiKeys
            let issued = try await keys.create(APIKeySettings(name: "app", limits: Self.limits), now: referenceTime)
            try await keys.recordUse(id: issued.record.id, tokens: 1234, at: referenceTime.addingTimeInterval(5))
            let later = referenceTime.addingTimeInterval(60)
            let rotated = try await keys.rotate(id: issued.record.id, now: later)

            #expect(rotated.secret.value != issued.secret.value)
            #expect(rotated.record.id == issued.record.id)
            #expect(rotated.record.limits == Self.limits)
            #expect(rotated.record.tokensUsed == 1234)
            #expect(rotated.record.lastUsedAt == referenceTime.addingTimeInterval(5))
            #expect(rotated.record.createdAt == referenceTime)
            #expect(rotated.record.rotatedAt == later)
            #expect(rotated.record.prefix == rotated.secret.visiblePrefix)
            #expect(try await keys.find(secret: issued.secret.value) == nil)
            #expect(try await keys.find(secret: rotated.secret.value)?.id == issued.record.id)
            await #expect(throws: StoreError.notFound("API key key_missing")) {
                try await keys.rotate(id: "key_missing")
            }
        }
    }

    @Test("revocation is final", arguments: TestEngine.available)
    func revoke(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let keys = testStore(database).apiKeys
            let issued = try await keys.create(APIKeySettings(name: "gone"), now: referenceTime)
            let keep = try await keys.create(APIKeySettings(name: "kept"), now: referenceTime)
            let revoked = try await keys.revoke(id: issued.record.id, now: referenceTime.addingTimeInterval(1))
            #expect(revoked.revokedAt == referenceTime.addingTimeInterval(1))
            #expect(!revoked.enabled)
            #expect(revoked.status() == .revoked)
            #expect(try await keys.find(secret: issued.secret.value) == nil)

            // Neither re-enabling nor rotating brings it back; revoking again keeps the first time.
            var settings = revoked.settings
            settings.enabled = true
            await #expect(throws: StoreError.conflict("API key \(issued.record.id) is revoked")) {
                try await keys.update(id: issued.record.id, settings: settings)
            }
            await #expect(throws: StoreError.self) { try await keys.rotate(id: issued.record.id) }
            #expect(try await keys.revoke(id: issued.record.id, now: referenceTime.addingTimeInterval(9)).revokedAt
                == referenceTime.addingTimeInterval(1))
            #expect(try await keys.find(secret: issued.secret.value) == nil)

            #expect(try await keys.list().map(\.id) == [keep.record.id])
            #expect(Set(try await keys.list(includeRevoked: true).map(\.id)) == [keep.record.id, issued.record.id])
            #expect(try await keys.delete(id: issued.record.id))
            #expect(!(try await keys.delete(id: issued.record.id)))
        }
    }

    @Test("update, expiry, disabling and quota", arguments: TestEngine.available)
    func updateAndStatus(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let keys = testStore(database).apiKeys
            let issued = try await keys.create(APIKeySettings(name: "a"), now: referenceTime)
            let expiry = referenceTime.addingTimeInterval(3600)
            let updated = try await keys.update(
                id: issued.record.id,
                settings: APIKeySettings(
                    name: "b", allowedModels: ["qwen3:8b", "llama*"], enabled: true, expiresAt: expiry,
                    limits: APIKeyLimits(tokenQuota: 100)),
                now: referenceTime.addingTimeInterval(10))
            #expect(updated.name == "b")
            #expect(updated.allowedModels == ["qwen3:8b", "llama*"])
            #expect(updated.expiresAt == expiry)
            #expect(updated.limits == APIKeyLimits(tokenQuota: 100))
            #expect(updated.updatedAt == referenceTime.addingTimeInterval(10))
            #expect(try await keys.get(id: issued.record.id) == updated)

            #expect(updated.status(at: referenceTime) == .active)
            #expect(updated.status(at: expiry) == .expired)
            // The secret still finds an expired key; callers decide with `status`.
            #expect(try await keys.find(secret: issued.secret.value)?.status(at: expiry) == .expired)

            try await keys.recordUse(id: issued.record.id, tokens: 60, at: referenceTime)
            try await keys.recordUse(id: issued.record.id, tokens: 40, at: referenceTime.addingTimeInterval(-30))
            let used = try #require(try await keys.get(id: issued.record.id))
            #expect(used.tokensUsed == 100)
            #expect(used.lastUsedAt == referenceTime)  // an older report does not move it back
            #expect(used.status(at: referenceTime) == .quotaExhausted)
            #expect(used.remainingTokenQuota == 0)
            #expect(try await keys.resetUsage(id: issued.record.id).tokensUsed == 0)

            var disabled = updated.settings
            disabled.enabled = false
            disabled.expiresAt = nil
            let off = try await keys.update(id: issued.record.id, settings: disabled)
            #expect(off.status(at: referenceTime) == .disabled)
            #expect(off.expiresAt == nil)

            await #expect(throws: StoreError.self) {
                try await keys.update(id: issued.record.id, settings: APIKeySettings(name: "   "))
            }
            await #expect(throws: StoreError.self) {
                try await keys.create(APIKeySettings(name: "x", limits: APIKeyLimits(requestsPerMinute: 0)))
            }
            await #expect(throws: StoreError.notFound("API key key_nope")) {
                try await keys.update(id: "key_nope", settings: APIKeySettings(name: "x"))
            }
        }
    }

    @Test("concurrent usage reports add up", arguments: TestEngine.available)
    func concurrentUse(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let keys = testStore(database).apiKeys
            let issued = try await keys.create(APIKeySettings(name: "busy"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask { try await keys.recordUse(id: issued.record.id, tokens: index) }
                }
                try await group.waitForAll()
            }
            #expect(try await keys.get(id: issued.record.id)?.tokensUsed == (0..<40).reduce(0, +))
        }
    }
}
