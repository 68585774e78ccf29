import GatewayStore

/// Who is making an admin request, once authenticated.
public enum AdminPrincipal: Sendable, CustomStringConvertible {
    /// An administrator signed in with a session cookie.
    case account(AdminAccountRecord, session: AdminSessionCredential)
    /// A script presenting `ADMIN_TOKEN`.
    case token

    /// How the audit log names this caller.
    public var auditActor: AuditActor {
        switch self {
        case .account(let account, _): .account(account.username)
        case .token: AuditActor(kind: .token, name: "admin-token")
        }
    }

    public var description: String {
        switch self {
        case .account(let account, _): "account \(account.username)"
        case .token: "admin token"
        }
    }
}

/// The session of a signed-in administrator. The cookie token is kept to end or keep this very session;
/// it never appears in descriptions or logs.
public struct AdminSessionCredential: Sendable, CustomStringConvertible {
    let token: String
    public let record: SessionRecord

    public var description: String { "session \(record.id.prefix(8))…" }
}
