/// Ollama's "model not found" names the upstream model; the client knows it by the name it used.
func naming<Value>(_ model: ResolvedModel, _ call: () async throws -> Value) async throws -> Value {
    do {
        return try await call()
    } catch let error as GatewayError where error.kind == .notFound {
        throw GatewayError.modelNotFound(model.requestedName)
    }
}
