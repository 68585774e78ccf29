import Foundation
import GatewayAPI
import GatewayStore
import Logging
import Testing

@testable import Gateway

@Suite("Stored responses: retention")
struct ResponsesRetentionTests {
    @Test func retentionIsThirtyDaysUnlessSet() async throws {
        let defaults = try await GatewayConfiguration.load(environmentFile: "/nonexistent/.env")
        #expect(defaults.responsesRetentionDays == 30)
        let set = try await GatewayConfiguration.load(
            overrides: ["RESPONSES_RETENTION_DAYS": "7"], environmentFile: "/nonexistent/.env")
        #expect(set.responsesRetentionDays == 7)
        #expect(GatewayConfiguration.environmentNames.contains("RESPONSES_RETENTION_DAYS"))
        for bad in ["0", "-1", "x"] {
            await #expect(throws: ConfigurationError.self) {
                try await GatewayConfiguration.load(
                    overrides: ["RESPONSES_RETENTION_DAYS": bad], environmentFile: "/nonexistent/.env")
            }
        }
    }

    @Test func theMaintenanceServiceRemovesExpiredResponses() async throws {
        let configuration = TestGateway.configuration(upstream: TestGateway.deadUpstream)
        let database = try await GatewayDatabase.open(
            .sqlite(dataDirectory: configuration.dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let now = Date()
        func save(_ id: String, daysAgo: Double) async throws {
            let created = Int(now.timeIntervalSince1970 - daysAgo * 86_400)
            try await store.responses.save(StoredResponse(
                owner: "", response: ResponseObject(id: id, createdAt: created, status: "completed", model: "m"),
                inputItems: []))
        }
        try await save("resp_old", daysAgo: 8)
        try await save("resp_new", daysAgo: 6)
        let service = AdminMaintenanceService(
            store: store,
            settings: PersistedRuntimeSettings(
                repository: store.settings, runtime: RuntimeSettings(configuration: configuration), configuration: configuration),
            throttle: LoginThrottle(attempts: store.loginAttempts, configuration: configuration.admin),
            interval: .seconds(30), responsesRetention: .seconds(7 * 86_400), logger: TestGateway.logger)
        #expect(try await service.pruneResponses(now: now) == 1)
        #expect(try await store.responses.get(id: "resp_old", owner: "") == nil)
        #expect(try await store.responses.get(id: "resp_new", owner: "") != nil)
        try await database.shutdown()
    }
}
