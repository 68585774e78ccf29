import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Testing

@testable import Gateway

/// Requests reserve the tokens they may use before Ollama is called, so requests admitted together
/// cannot all spend the same remaining budget of a key.
@Suite("Token reservations")
struct TokenReservationTests {
    static func key(tpm: Int? = nil, quota: Int? = nil) throws -> AuthenticatedKey {
        // The record's initializer is the store's; a stored record's JSON makes one here.
        let limits: [String: JSONValue] = ["tpm": tpm.map(JSONValue.int) ?? .null, "token_quota": quota.map(JSONValue.int) ?? .null]
        let json = #"{"id":"k1","name":"k","prefix":"sk-test","allowed_models":[],"enabled":true,"tokens_used":0,"#
            + #""created_at":0,"updated_at":0,"limits":"# + JSONWire.text(limits) + "}"
        return AuthenticatedKey(record: try JSONDecoder().decode(APIKeyRecord.self, from: Data(json.utf8)))
    }

    @Test func tokensPerMinuteCountsWhatRequestsInFlightReserved() throws {
        let limiter = KeyLimiter(shared: nil)
        let key = try Self.key(tpm: 100)
        #expect(try limiter.reserve(key, tokens: 60, windowTokens: 0, quotaUsed: { 0 }) == 60)
        #expect(throws: GatewayError.self) { try limiter.reserve(key, tokens: 60, windowTokens: 0, quotaUsed: { 0 }) }
        #expect(try limiter.reserve(key, tokens: 40, windowTokens: 0, quotaUsed: { 0 }) == 40)
        limiter.release(reservation: 60, ofKey: key.id)
        limiter.release(reservation: 40, ofKey: key.id)
        #expect(try limiter.reserve(key, tokens: 100, windowTokens: 0, quotaUsed: { 0 }) == 100)
    }

    @Test func aRequestLargerThanTheLimitRunsWhenNothingElseIs() throws {
        let limiter = KeyLimiter(shared: nil)
        let key = try Self.key(tpm: 100)
        #expect(try limiter.reserve(key, tokens: 4096, windowTokens: 0, quotaUsed: { 0 }) == 4096)
        let refusal = #expect(throws: GatewayError.self) {
            try limiter.reserve(key, tokens: 1, windowTokens: 0, quotaUsed: { 0 })
        }
        #expect(refusal?.kind == .rateLimited)
        #expect(refusal?.headers[.retryAfter].flatMap(Int.init) != nil)
        #expect(refusal?.message.contains("max_tokens") == true)
    }

    @Test func tokensAlreadyCountedInTheMinuteCount() throws {
        let limiter = KeyLimiter(shared: nil)
        let key = try Self.key(tpm: 100)
        // The window already holds 90 tokens: a request that may use 20 more waits for the next minute.
        limiter.finish(key, tokens: 90)
        #expect(throws: GatewayError.self) { try limiter.reserve(key, tokens: 20, windowTokens: 0, quotaUsed: { 0 }) }
        #expect(try limiter.reserve(key, tokens: 10, windowTokens: 0, quotaUsed: { 0 }) == 10)
    }

    @Test func quotaCountsReservationsAndSaysWhyThereIsNoRetryAfter() throws {
        let limiter = KeyLimiter(shared: nil)
        let key = try Self.key(quota: 300)
        #expect(try limiter.reserve(key, tokens: 200, windowTokens: 0, quotaUsed: { 50 }) == 200)
        let busy = #expect(throws: GatewayError.self) {
            try limiter.reserve(key, tokens: 100, windowTokens: 0, quotaUsed: { 50 })
        }
        #expect(busy?.headers[.retryAfter] == "1", "in-flight reservations come back soon")
        limiter.release(reservation: 200, ofKey: key.id)
        let spent = #expect(throws: GatewayError.self) {
            try limiter.reserve(key, tokens: 1, windowTokens: 0, quotaUsed: { 300 })
        }
        #expect(spent?.code == "insufficient_quota")
        #expect(spent?.headers[.retryAfter] == nil)
        #expect(spent?.message.contains("does not renew") == true)
    }

    @Test func keysWithoutTokenLimitsReserveNothing() throws {
        let limiter = KeyLimiter(shared: nil)
        #expect(try limiter.reserve(try Self.key(), tokens: 1 << 40, windowTokens: 0, quotaUsed: { 0 }) == 0)
    }

    @Test func theEstimateUsesMaxTokensElseTheContext() {
        let model = ResolvedModel(requestedName: "m", upstreamName: "m", contextLength: 8192)
        var parameters = ParameterLayer()
        #expect(TokenReservation.tokens(promptBytes: 400, parameters: parameters, model: model) == 100 + 8192)
        parameters.options["num_predict"] = .int(50)
        #expect(TokenReservation.tokens(promptBytes: 400, parameters: parameters, model: model) == 150)
        #expect(TokenReservation.tokens(promptBytes: 400, parameters: parameters, model: model, generates: false) == 100)
        parameters.options["num_ctx"] = .int(1000)
        #expect(TokenReservation.tokens(promptBytes: 1 << 30, parameters: parameters, model: model) == 1050)
        parameters.options["num_predict"] = .int(-1)
        #expect(
            TokenReservation.tokens(
                promptBytes: 0, parameters: parameters, model: ResolvedModel(requestedName: "m", upstreamName: "m")) == 1000)
    }
}
