import Gateway
import Logging
import OllamaSim
import ServiceLifecycle

extension GatewayRunner {
    /// In demo mode the simulator runs in-process, on `DEMO_SIM_PORT`, and becomes the upstream.
    static func demoServices(_ configuration: inout GatewayConfiguration, logger: Logger) -> [any Service] {
        guard configuration.demo else { return [] }
        var simulator = SimulatorConfiguration()
        simulator.host = "127.0.0.1"
        simulator.port = configuration.demoSimulatorPort
        // The simulator is the one backend: whatever OLLAMA_URL listed (the default included) is set aside.
        configuration.ollamaURL = "http://127.0.0.1:\(configuration.demoSimulatorPort)"
        configuration.backends = []
        logger.notice("demo mode: answering with the built-in Ollama simulator", metadata: ["ollama.url": "\(configuration.ollamaURL)"])
        return [OllamaSimulator(configuration: simulator, logger: logger)]
    }
}
