import AsyncHTTPClient
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import NIOPosix

/// Builds the gateway's application against a given upstream, as the executable does.
enum TestGateway {
    static let logger: Logger = {
        var logger = Logger(label: "gateway-test")
        logger.logLevel = .warning
        return logger
    }()

    static func configuration(upstream: String, _ adjust: (inout GatewayConfiguration) -> Void = { _ in }) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.ollamaURL = upstream
        configuration.port = 0
        // Generous: on a loaded machine a connection to the simulator can wait in the pool a while.
        configuration.upstreamConnectTimeout = .seconds(5)
        configuration.requireAPIKey = false
        // bcrypt at its production cost would make every test's admin bootstrap slow.
        configuration.admin.passwordHashCost = 4
        configuration.dataDirectory = FileManagerTemp.directory()
        adjust(&configuration)
        return configuration
    }

    /// An address where nothing listens: connections are refused at once.
    static let deadUpstream = "http://127.0.0.1:9"
}

import Foundation

enum FileManagerTemp {
    static func directory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-test-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// An HTTP client of a test's own, shut down however the body ends: one dropped without its
/// shutdown traps in debug builds and ends the whole test process, not just the failing test.
func withHTTPClient<Value>(_ body: (HTTPClient) async throws -> Value) async throws -> Value {
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    let value: Value
    do {
        value = try await body(http)
    } catch {
        try? await http.shutdown()
        throw error
    }
    try await http.shutdown()
    return value
}
