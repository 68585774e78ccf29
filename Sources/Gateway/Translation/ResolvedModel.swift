import GatewayAPI

/// What a model can do, as Ollama's `/api/show` reports it.
public enum ModelCapability: String, Sendable, Hashable, CaseIterable {
    case completion, tools, insert, vision, embedding, thinking
}

/// A model as a request named it, and what the gateway will call upstream.
public struct ResolvedModel: Sendable, Equatable {
    /// The name the client used; responses echo it.
    public var requestedName: String
    /// The Ollama model that serves it.
    public var upstreamName: String
    /// The admin's per-model parameter overrides.
    public var overrides: ParameterLayer
    /// What the model can do; nil when not known yet (then Ollama itself says what it lacks).
    public var capabilities: Set<ModelCapability>?
    /// The longest context the model takes, as Ollama's `/api/show` reports it; nil when not known.
    public var contextLength: Int?

    public init(
        requestedName: String, upstreamName: String, overrides: ParameterLayer = ParameterLayer(),
        capabilities: Set<ModelCapability>? = nil, contextLength: Int? = nil
    ) {
        self.requestedName = requestedName
        self.upstreamName = upstreamName
        self.overrides = overrides
        self.capabilities = capabilities
        self.contextLength = contextLength
    }

    /// Refuses, before Ollama is called, a request the model cannot serve, with a message naming the model.
    public func require(_ capability: ModelCapability, for purpose: String, param: String? = nil) throws(GatewayError) {
        guard let capabilities, !capabilities.contains(capability) else { return }
        throw .invalid("The model '\(requestedName)' does not support \(purpose).", param: param)
    }

    /// Chat and completions need a generative model; embedding-only models are refused.
    public func requireGeneration() throws(GatewayError) {
        guard let capabilities, !capabilities.contains(.completion), capabilities.contains(.embedding) else { return }
        throw .invalid("The model '\(requestedName)' is an embedding model: use /v1/embeddings.", param: "model")
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
