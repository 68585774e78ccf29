import GatewayAPI

/// A model as a request named it, and what the gateway will call upstream.
public struct ResolvedModel: Sendable, Equatable {
    /// The name the client used; responses echo it.
    public var requestedName: String
    /// The Ollama model that serves it.
    public var upstreamName: String
    /// The admin's per-model parameter overrides.
    public var overrides: ParameterLayer

    public init(requestedName: String, upstreamName: String, overrides: ParameterLayer = ParameterLayer()) {
        self.requestedName = requestedName
        self.upstreamName = upstreamName
        self.overrides = overrides
    }
}

extension ResolvedModel {
    /// Runs an upstream call, renaming Ollama's "model not found" (which names the upstream model)
    /// to the name the client used.
    func namingNotFound<Value>(_ call: () async throws -> Value) async throws -> Value {
        do {
            return try await call()
        } catch let error as GatewayError where error.kind == .notFound {
            throw GatewayError.modelNotFound(requestedName)
        }
    }
}

/// Finds the Ollama model behind a name a client used (aliases, display names, disabled models).
public protocol ModelDirectory: Sendable {
    func resolve(_ requestedName: String) async throws(GatewayError) -> ResolvedModel
}

/// Every name is the Ollama model of that name, with no overrides; Ollama itself says what it lacks.
public struct PassthroughModelDirectory: ModelDirectory {
    public init() {}

    public func resolve(_ requestedName: String) async throws(GatewayError) -> ResolvedModel {
        guard !requestedName.isEmpty else { throw .invalid("'model' must not be empty.", param: "model") }
        return ResolvedModel(requestedName: requestedName, upstreamName: requestedName)
    }
}
