import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// An Ollama HTTP API stand-in. A `Service`, so it can run in a `ServiceGroup` (the gateway's demo mode);
/// tests use ``withOllamaSimulator(_:_:)``.
public final class OllamaSimulator: Sendable, Service {
    public let configuration: SimulatorConfiguration
    public let recorder: SimulatorRecorder
    let state: SimulatorState
    private let logger: Logger

    public init(configuration: SimulatorConfiguration = .init(), logger: Logger = Logger(label: "ollama-sim")) {
        self.configuration = configuration
        self.recorder = SimulatorRecorder(limit: configuration.recordLimit)
        self.state = SimulatorState(faults: configuration.faults)
        self.logger = logger
    }

    /// Changes a model's fault at runtime; nil clears it.
    public func setFault(_ fault: SimulatedFault?, forModel model: String) {
        state.setFault(fault, forModel: model)
    }

    /// Serves until cancelled or shut down gracefully.
    public func run() async throws {
        try await run(onListening: { _ in })
    }

    /// Serves until cancelled or shut down gracefully; `onListening` gets the bound port once listening.
    public func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let engine = SimulatorEngine(configuration: configuration, recorder: recorder, state: state, logger: logger)
        let responder = SimulatorResponder(engine: engine, loopbackOnly: HostPolicy.isLoopback(configuration.host))
        let logger = self.logger
        let app = Application(
            responder: responder,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.debug("ollama-sim listening", metadata: ["sim.port": "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
        try await app.run()
    }
}

/// A simulator started by ``withOllamaSimulator(_:_:)``.
public struct RunningSimulator: Sendable {
    public let port: Int
    public let recorder: SimulatorRecorder
    let simulator: OllamaSimulator

    /// `http://127.0.0.1:PORT` (the configured host).
    public var baseURL: String {
        let host = simulator.configuration.host
        return host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }

    public func setFault(_ fault: SimulatedFault?, forModel model: String) {
        simulator.setFault(fault, forModel: model)
    }
}

struct SimulatorDidNotStart: Error, CustomStringConvertible {
    var description: String { "the simulator stopped before it was listening" }
}

/// Starts a simulator (on a free port unless configured) for the duration of `body`, then stops it.
/// Structured: the server runs in a child task of a task group that is cancelled when `body` returns.
public func withOllamaSimulator<T: Sendable>(
    _ configuration: SimulatorConfiguration = .init(),
    _ body: (RunningSimulator) async throws -> T
) async throws -> T {
    let simulator = OllamaSimulator(configuration: configuration, logger: Logger(label: "ollama-sim"))
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        group.addTask {
            defer { continuation.finish() }
            try await simulator.run(onListening: { port in continuation.yield(port) })
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server failed before listening: surface its error.
            try await group.next()
            throw SimulatorDidNotStart()
        }
        defer { group.cancelAll() }
        return try await body(RunningSimulator(port: port, recorder: simulator.recorder, simulator: simulator))
    }
}
