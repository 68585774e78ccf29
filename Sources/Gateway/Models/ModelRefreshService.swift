import Logging
import ServiceLifecycle

/// Refreshes the model registry at start-up and then periodically, until the gateway shuts down.
struct ModelRefreshService: Service {
    let registry: ModelRegistry
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await registry.refresh()
                } catch {
                    logger.warning("could not read the models from Ollama", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
