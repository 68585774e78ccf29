import Foundation
import Gateway
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Starts the gateway with its services until SIGINT/SIGTERM, then shuts down gracefully.
enum GatewayRunner {
    static func run(_ configuration: GatewayConfiguration) async throws {
        // Swift concurrency's jobs run on NIO's event loops (see EventLoopExecutor).
        let onEventLoops = EventLoopExecutor.install()
        // Process-wide, so that every logger (the libraries' too) writes in the chosen format.
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in format.makeHandler(label: label) }
        var logger = Logger(label: "ollama-gateway")
        logger.logLevel = configuration.logLevel
        // Before anything is opened: a taken port is said in plain words, and nothing is left half started.
        try PortCheck.ensureFree(
            host: configuration.host, port: configuration.port, purpose: "The gateway", setting: "--port (PORT)")
        if configuration.demo {
            try PortCheck.ensureFree(
                host: "127.0.0.1", port: configuration.demoSimulatorPort, purpose: "The demo simulator",
                setting: "DEMO_SIM_PORT (a second gateway in demo mode needs its own)")
        }
        if !onEventLoops {
            logger.warning("Swift concurrency's jobs run on its own threads: another global executor hook is installed")
        }
        // systemd's default soft limit (1,024 files) is below what a few hundred idle clients take.
        if let files = FileDescriptorLimit.raiseToHardLimit() {
            logger.info("open-file limit", metadata: ["rlimit_nofile": "\(files)"])
        }
        var configuration = configuration
        let extraServices = demoServices(&configuration, logger: logger)
        let host = configuration.host
        let app = try await buildApplication(
            configuration: configuration, logger: logger, extraServices: extraServices,
            onServerRunning: { port in
                // Scripts read the port from this line (useful with --port 0); with LOG_FORMAT=json it
                // is a JSON record too, so that all the process writes is one JSON object a line.
                let line = format.announcement("ollama-gateway listening on http://\(host):\(port)", label: "ollama-gateway")
                FileHandle.standardOutput.write(Data(line.utf8))
            })
        // A last resort behind the drain deadline: a client that stopped reading can hold its stream's
        // final write forever; the process must still exit.
        var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.server.shutdownDrainTimeout + .seconds(15)
        do {
            try await ServiceGroup(configuration: group).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            // Taken between the check above and the server's own bind.
            throw PortCheck.Unavailable(
                description: "The gateway cannot listen on \(host):\(configuration.port): the port is already in use. "
                    + "Stop what uses it, or choose another port with --port (PORT).")
        }
    }
}
