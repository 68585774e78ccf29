/// Errors the store reports to its callers; database driver errors pass through unchanged.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case notFound(String)
    /// The change would break a rule such as a unique alias, or touches a revoked key.
    case conflict(String)
    case invalidArgument(String)
    case invalidCredentials
    case corruptRow(String)
    /// The database is shutting down and takes no new work.
    case shutDown

    public var description: String {
        switch self {
        case .invalidConfiguration(let message): "invalid store configuration: \(message)"
        case .notFound(let what): "not found: \(what)"
        case .conflict(let message): "conflict: \(message)"
        case .invalidArgument(let message): "invalid argument: \(message)"
        case .invalidCredentials: "invalid credentials"
        case .corruptRow(let message): "unreadable row: \(message)"
        case .shutDown: "the database is shutting down"
        }
    }
}
