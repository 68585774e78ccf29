import ArgumentParser
import Foundation
import Logging
import OllamaSim
import ServiceLifecycle

@main
struct OllamaSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ollama-sim",
        abstract: "A deterministic Ollama HTTP API simulator for tests, benchmarks and demos."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks any free port).")
    var port = 11434

    @Option(name: .customLong("fault"), help: "Fault for every request to a model, as MODEL=FAULT (repeatable).")
    var faults: [String] = []

    @Option(name: .customLong("tokens"), help: "Benchmark mode: every chat/generate answer is N tokens.")
    var answerTokens: Int?

    @Option(name: .customLong("token-interval-ms"), help: "Milliseconds between streamed tokens.")
    var tokenIntervalMilliseconds: Int = 0

    @Option(name: .customLong("load-time-ms"), help: "Milliseconds a model takes to load when it is not in memory.")
    var loadTimeMilliseconds: Int = 0

    @Option(name: .customLong("max-loaded"), help: "How many models fit in memory at once (default: no limit).")
    var maxLoaded: Int?

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: String = "warning"

    func validate() throws {
        _ = try parsedFaults()
        if let answerTokens, answerTokens < 0 { throw ValidationError("--tokens must not be negative") }
        if tokenIntervalMilliseconds < 0 { throw ValidationError("--token-interval-ms must not be negative") }
        if loadTimeMilliseconds < 0 { throw ValidationError("--load-time-ms must not be negative") }
        if let maxLoaded, maxLoaded < 1 { throw ValidationError("--max-loaded must be at least 1") }
    }

    private func parsedFaults() throws -> [String: SimulatedFault] {
        var result: [String: SimulatedFault] = [:]
        for entry in faults {
            guard let separator = entry.lastIndex(of: "=") else {
                throw ValidationError("--fault expects MODEL=FAULT, got '\(entry)'")
            }
            let model = String(entry[..<separator])
            let name = String(entry[entry.index(after: separator)...])
            guard !model.isEmpty, let fault = SimulatedFault(rawValue: name) else {
                let known = SimulatedFault.allCases.map(\.rawValue).joined(separator: ", ")
                throw ValidationError("--fault '\(entry)': unknown fault '\(name)' (one of \(known))")
            }
            result[model] = fault
        }
        return result
    }

    func run() async throws {
        var logger = Logger(label: "ollama-sim")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let configuration = SimulatorConfiguration(
            host: host, port: port, faults: try parsedFaults(),
            tokenInterval: .milliseconds(tokenIntervalMilliseconds), answerTokens: answerTokens,
            loadTime: .milliseconds(loadTimeMilliseconds), maxLoaded: maxLoaded
        )
        let simulator = OllamaSimulator(configuration: configuration, logger: logger)
        let host = self.host
        let announcer = ListeningAnnouncer(simulator: simulator, host: host)
        let group = ServiceGroup(
            configuration: .init(
                services: [announcer],
                gracefulShutdownSignals: [.sigterm, .sigint],
                cancellationSignals: [],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Runs the simulator and prints the one line scripts wait for once it listens.
struct ListeningAnnouncer: Service {
    let simulator: OllamaSimulator
    let host: String

    func run() async throws {
        let host = self.host
        try await simulator.run(onListening: { port in
            let shown = host.contains(":") ? "[\(host)]" : host
            // Unbuffered, so a script reading the pipe sees the line at once.
            FileHandle.standardOutput.write(Data("ollama-sim listening on http://\(shown):\(port)\n".utf8))
        })
    }
}
