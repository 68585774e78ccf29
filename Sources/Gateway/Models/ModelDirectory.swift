/// Finds the Ollama model behind a name a client used (aliases, display names, disabled models),
/// and lists what clients may call. `ModelRegistry` is the gateway's.
public protocol ModelDirectory: Sendable {
    func resolve(_ requestedName: String) async throws(GatewayError) -> ResolvedModel
    /// Every model with its settings, newest first (read from Ollama first if it never was).
    func entries() async -> [ModelEntry]
    /// The same for a client's listing: a 503 when Ollama does not answer.
    func listing() async throws(GatewayError) -> [ModelEntry]
    /// The entry a public name designates, if that model is enabled and available.
    func callableEntry(named name: String) async -> ModelEntry?
}
