import Foundation
import GatewayStore
import Testing

@testable import Gateway

/// The key cache reloads a key from the store every `cacheLifetime`; the stored token count lags
/// behind the usage recorder's next flush, so a reload must keep what this instance still owes it.
@Suite("API key cache and the token quota")
struct KeyCacheQuotaTests {
    @Test func aReloadKeepsTokensTheStoreHasNotYetCounted() async throws {
        let location = try AdminTestLocation.make(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: location.dataDirectory) }
        try await location.withStore { store in
            let issued = try await store.apiKeys.create(
                APIKeySettings(name: "quota", limits: APIKeyLimits(tokenQuota: 5)))
            let authenticator = APIKeyAuthenticator(
                keys: store.apiKeys, cacheLifetime: .milliseconds(1), logger: TestGateway.logger)
            let key = try await authenticator.authenticate(issued.secret.value)
            authenticator.noteTokens(12, forKey: key.id)
            try await Task.sleep(for: .milliseconds(5))

            // Reloaded before the recorder wrote the 12 tokens: still exhausted.
            await #expect(throws: GatewayError.self) { try await authenticator.authenticate(issued.secret.value) }
            #expect(authenticator.tokensUsed(by: key) == 12)

            // The recorder writes them: the stored count has them, nothing is counted twice.
            try await store.apiKeys.recordUse(id: key.id, tokens: 12)
            authenticator.noteTokensStored(12, forKey: key.id)
            try await Task.sleep(for: .milliseconds(5))
            await #expect(throws: GatewayError.self) { try await authenticator.authenticate(issued.secret.value) }
            #expect(authenticator.tokensUsed(by: key) == 12)

            // An administrator's change empties the cache; what is owed survives it.
            authenticator.noteTokens(3, forKey: key.id)
            authenticator.invalidate()
            await #expect(throws: GatewayError.self) { try await authenticator.authenticate(issued.secret.value) }
            #expect(authenticator.tokensUsed(by: key) == 15)
        }
    }
}
