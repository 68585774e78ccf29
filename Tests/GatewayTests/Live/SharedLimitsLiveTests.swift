import Foundation
import Gateway
import GatewayStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

/// Several gateway instances on one PostgreSQL share a key's limits; on SQLite there is one instance.
@Suite("Limits shared by instances", .timeLimit(.minutes(2)))
struct SharedLimitsLiveTests {
    @Test(arguments: AdminEngine.available.filter { $0 == .postgres })
    func requestsPerMinuteHoldAcrossTwoInstances(engine: AdminEngine) async throws {
        let location = try AdminTestLocation.make(engine)
        do {
            try await withOllamaSimulator(SimulatorConfiguration()) { sim in
                let issued = try await location.withStore {
                    try await $0.apiKeys.create(APIKeySettings(name: "shared", limits: APIKeyLimits(requestsPerMinute: 6)))
                }
                let configuration = TestGateway.configuration(upstream: sim.baseURL) {
                    location.configure(&$0)
                    $0.requireAPIKey = true
                }
                let first = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
                let second = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
                try await first.test(.live) { one in
                    try await second.test(.live) { two in
                        let startMinute = Int(Date().timeIntervalSince1970) / 60
                        var statuses: [HTTPResponse.Status] = []
                        for index in 0..<10 {
                            let client = index % 2 == 0 ? one : two
                            let response = try await client.execute(
                                uri: "/v1/chat/completions", method: .post,
                                headers: [.authorization: "Bearer \(issued.secret.value)"],
                                body: ByteBuffer(string: #"{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}"#))
                            statuses.append(response.status)
                        }
                        let admitted = statuses.filter { $0 == .ok }.count
                        // One shared window of 6 (at most 6 in each if the minute turned during the run).
                        if Int(Date().timeIntervalSince1970) / 60 == startMinute {
                            #expect(admitted == 6, "\(statuses)")
                        } else {
                            #expect((6...10).contains(admitted), "\(statuses)")
                        }
                        #expect(statuses.filter { $0 == .tooManyRequests }.count == 10 - admitted)
                    }
                }
            }
        } catch {
            try? await location.remove()
            throw error
        }
        try await location.remove()
    }
}
