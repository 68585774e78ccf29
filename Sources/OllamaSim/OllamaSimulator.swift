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
        self.state = SimulatorState(faults: configuration.faults, loadTime: configuration.loadTime, maxLoaded: configuration.maxLoaded)
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
            server: .http1(configuration: .init(additionalChannelHandlers: [InputClosedWatcher()])),
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
/// Structured: the server runs in a child task of a task group; when `body` returns it is shut down
/// gracefully (stalled streams end at once), and cancelled if that takes more than two seconds.
public func withOllamaSimulator<T: Sendable>(
    _ configuration: SimulatorConfiguration = .init(),
    _ body: (RunningSimulator) async throws -> T
) async throws -> T {
    var logger = Logger(label: "ollama-sim")
    logger.logLevel = .warning
    let simulator = OllamaSimulator(configuration: configuration, logger: logger)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let listening = ListeningSimulator(simulator: simulator, continuation: continuation)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: listening)],
            gracefulShutdownSignals: [],
            cancellationSignals: [],
            logger: logger
        ).withShutdownDeadline(.seconds(2))
    )
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { tasks in
        tasks.addTask {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server failed before listening: surface its error.
            try await tasks.next()
            throw SimulatorDidNotStart()
        }
        do {
            let result = try await body(RunningSimulator(port: port, recorder: simulator.recorder, simulator: simulator))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            tasks.cancelAll()
            throw error
        }
    }
}

/// Runs a simulator and reports its port once it listens.
private struct ListeningSimulator: Service {
    let simulator: OllamaSimulator
    let continuation: AsyncStream<Int>.Continuation

    func run() async throws {
        let continuation = self.continuation
        try await simulator.run(onListening: { port in continuation.yield(port) })
    }
}

extension ServiceGroupConfiguration {
    fileprivate func withShutdownDeadline(_ duration: Duration) -> ServiceGroupConfiguration {
        var configuration = self
        configuration.maximumGracefulShutdownDuration = duration
        configuration.maximumCancellationDuration = duration
        return configuration
    }
}
