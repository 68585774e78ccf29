import Foundation
import Testing

@testable import GatewayStore

/// What several instances (or one instance after a restart) must see alike.
@Suite("Shared state across instances and restarts")
struct SharedStateTests {
    @Test("keys, sessions and settings written by one instance are seen by another", arguments: TestEngine.available)
    func twoInstances(engine: TestEngine) async throws {
        try await withTestLocation(engine) { open in
            let first = testStore(try await open(true))
            let second = testStore(try await open(true))

            let account = try await first.adminAccounts.create(username: "ops", password: "pw")
            let session = try await first.sessions.create(accountID: account.id, now: referenceTime)
            let key = try await first.apiKeys.create(APIKeySettings(name: "shared"))
            try await first.settings.set("ollama.url", to: "http://gpu:11434")

            #expect(try await second.sessions.find(token: session.token, now: referenceTime)?.accountID == account.id)
            #expect(try await second.apiKeys.find(secret: key.secret.value)?.id == key.record.id)
            #expect(try await second.settings.get("ollama.url")?.value == "http://gpu:11434")

            // A revocation on one instance is final on the other at its next lookup.
            _ = try await second.apiKeys.revoke(id: key.record.id)
            #expect(try await first.apiKeys.find(secret: key.secret.value) == nil)
            // So is a logout.
            #expect(try await second.sessions.delete(token: session.token))
            #expect(try await first.sessions.find(token: session.token, now: referenceTime) == nil)
        }
    }

    @Test("state survives a restart", arguments: TestEngine.available)
    func restart(engine: TestEngine) async throws {
        try await withTestLocation(engine) { open in
            let before = testStore(try await open(true))
            let account = try await before.adminAccounts.create(username: "ops", password: "pw")
            let session = try await before.sessions.create(accountID: account.id, now: referenceTime)
            let key = try await before.apiKeys.create(APIKeySettings(name: "kept"))
            try await before.apiKeys.recordUse(id: key.record.id, tokens: 42)
            try await before.database.shutdown()

            let after = testStore(try await open(true))
            #expect(try await after.database.migrate() == [])
            #expect(try await after.sessions.find(token: session.token, now: referenceTime) != nil)
            #expect(try await after.apiKeys.find(secret: key.secret.value)?.tokensUsed == 42)
        }
    }

    @Test("instances bootstrapping together create one admin", arguments: TestEngine.available)
    func concurrentBootstrap(engine: TestEngine) async throws {
        try await withTestLocation(engine) { open in
            var stores: [GatewayStore] = []
            for _ in 0..<3 { stores.append(testStore(try await open(true))) }
            let results = try await withThrowingTaskGroup(of: AdminBootstrapResult.self) { group in
                for store in stores {
                    group.addTask { try await store.adminAccounts.bootstrap(initialPassword: "pw-from-env") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 != .alreadyInitialised }.count == 1)
            #expect(try await stores[0].adminAccounts.count() == 1)
            #expect(try await stores[1].adminAccounts.verify(username: "admin", password: "pw-from-env") != nil)
        }
    }
}
