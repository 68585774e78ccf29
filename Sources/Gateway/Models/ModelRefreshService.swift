import Logging
import ServiceLifecycle

/// Refreshes the model registry at start-up and then periodically, until the gateway shuts down.
struct ModelRefreshService: Service {
    let registry: ModelRegistry
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // Said once when Ollama stops answering and once when it is back, not every interval: the
        // state is the reason of the last failure.
        await PeriodicWork.run(every: interval, state: String?.none) { failing in
            do {
                try await registry.refresh()
                if failing != nil {
                    logger.notice("Ollama answers again at \(LogRedaction.url(registry.upstream.baseURL))")
                    failing = nil
                }
            } catch {
                let reason = (error as? GatewayError)?.message ?? String(describing: error)
                if reason != failing {
                    logger.warning("\(Self.advice(reason))")
                } else {
                    logger.debug("Ollama still does not answer: \(reason)")
                }
                failing = reason
            }
        }
    }

    /// What an operator reads when the models cannot be read: the reason, then what to do (an
    /// unreachable Ollama's message says it already).
    static func advice(_ reason: String) -> String {
        let todo = reason.contains("--demo")
            ? "" : " Check that Ollama runs at --ollama-url (OLLAMA_URL), or try the gateway without Ollama with --demo."
        return "could not read the models from Ollama: \(reason)\(todo) API requests fail until Ollama answers."
    }
}
