import GatewayStore

/// The API key a request presented, as checked: what routes need to authorize and account for it.
public struct AuthenticatedKey: Sendable, Equatable {
    public var record: APIKeyRecord

    public init(record: APIKeyRecord) {
        self.record = record
    }

    public var id: String { record.id }
    public var limits: APIKeyLimits { record.limits }

    /// Refuses a model outside the key's list. The list may name the model as the client called it
    /// (an alias, a display name) or as Ollama knows it, with `*` wildcards.
    public func authorize(_ model: ResolvedModel) throws(GatewayError) {
        let names = [model.requestedName, model.upstreamName, ModelInfo.shorthand(model.upstreamName)]
        guard names.contains(where: record.allows(model:)) else {
            throw GatewayError(
                .permission, "This API key may not use the model '\(model.requestedName)'.", param: "model",
                code: "model_not_allowed")
        }
    }

    /// Whether a listing may show this model to the key.
    public func mayList(_ entry: ModelEntry) -> Bool {
        let names = entry.publicNames + [entry.info.name, ModelInfo.shorthand(entry.info.name)]
        return names.contains(where: record.allows(model:))
    }
}

extension GatewayRequestContext {
    /// Refuses a model the request's key may not use; anonymous requests (keys not required) pass.
    public func authorize(_ model: ResolvedModel) throws(GatewayError) {
        try apiKey?.authorize(model)
    }
}
