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
        configuration.ollamaURL = "http://127.0.0.1:\(configuration.demoSimulatorPort)"
        logger.notice("demo mode: answering with the built-in Ollama simulator", metadata: ["ollama.url": "\(configuration.ollamaURL)"])
        return [OllamaSimulator(configuration: simulator, logger: logger)]
    }
}
