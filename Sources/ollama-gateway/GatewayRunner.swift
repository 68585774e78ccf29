import Foundation
import Gateway
import Hummingbird
import Logging
import ServiceLifecycle

/// Starts the gateway with its services until SIGINT/SIGTERM, then shuts down gracefully.
enum GatewayRunner {
    static func run(_ configuration: GatewayConfiguration) async throws {
        var logger = Logger(label: "ollama-gateway")
        logger.logLevel = configuration.logLevel
        var configuration = configuration
        let extraServices = demoServices(&configuration, logger: logger)
        let host = configuration.host
        let app = try await buildApplication(
            configuration: configuration, logger: logger, extraServices: extraServices,
            onServerRunning: { port in
                // Scripts read the port from this line (useful with --port 0).
                FileHandle.standardOutput.write(Data("ollama-gateway listening on http://\(host):\(port)\n".utf8))
            })
        try await app.runService()
    }
}
