import Foundation
import Gateway
import Hummingbird
import NIOCore
import NIOPosix
import Testing

/// A gateway that cannot listen stops cleanly: its database was already open, and the services
/// that use it are cancelled at the same moment as it shuts down.
@Suite("Start-up failures", .timeLimit(.minutes(2)))
struct StartupFailureTests {
    @Test func aPortInUseStopsTheGatewayCleanlyEveryTime() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(taken.localAddress?.port)
        do {
            // Half of the tries crashed before (a SQLite connection opened during the shutdown).
            for _ in 0..<10 {
                let configuration = TestGateway.configuration(upstream: TestGateway.deadUpstream) { $0.port = port }
                let app = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
                await #expect(throws: (any Error).self) { try await app.runService() }
            }
        } catch {
            try await taken.close()
            throw error
        }
        try await taken.close()
    }
}
