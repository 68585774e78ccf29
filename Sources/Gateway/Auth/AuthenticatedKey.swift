import GatewayStore

/// The API key a request presented, as checked: what routes need to authorize and account for it.
public struct AuthenticatedKey: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Model names, aliases and wildcards (`llama*`) this key may use; empty: all.
    public var allowedModels: [String]
    public var limits: APIKeyLimits

    public init(record: APIKeyRecord) {
        self.id = record.id
        self.name = record.name
        self.allowedModels = record.allowedModels
        self.limits = record.limits
    }

    public init(id: String, name: String, allowedModels: [String] = [], limits: APIKeyLimits = APIKeyLimits()) {
        self.id = id
        self.name = name
        self.allowedModels = allowedModels
        self.limits = limits
    }
}
