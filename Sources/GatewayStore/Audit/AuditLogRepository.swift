import Foundation
import GatewayAPI
import SQLKit

/// Who did something: an administrator, a request authenticated by an API key, or the gateway itself.
public struct AuditActor: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case account
        case token
        case system
    }

    public var kind: Kind
    /// The account's user name, the key's id, or a component name for `system`.
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public static func account(_ username: String) -> AuditActor { AuditActor(kind: .account, name: username) }
    public static func token(keyID: String) -> AuditActor { AuditActor(kind: .token, name: keyID) }
    public static func system(_ component: String) -> AuditActor { AuditActor(kind: .system, name: component) }
}

/// An event to record. Details must never hold secrets (keys, passwords, tokens).
public struct AuditEvent: Sendable, Hashable, Codable {
    public var actor: AuditActor
    /// Dotted verb such as `key.create`, `key.rotate`, `settings.update`, `login.failure`.
    public var action: String
    public var target: String?
    public var details: JSONValue?
    public var clientAddress: String?
    public var occurredAt: Date

    public init(
        actor: AuditActor, action: String, target: String? = nil, details: JSONValue? = nil,
        clientAddress: String? = nil, occurredAt: Date = Date()
    ) {
        self.actor = actor
        self.action = action
        self.target = target
        self.details = details
        self.clientAddress = clientAddress
        self.occurredAt = occurredAt
    }

    enum CodingKeys: String, CodingKey {
        case actor, action, target, details
        case clientAddress = "client_address"
        case occurredAt = "occurred_at"
    }
}

public struct AuditEntry: Sendable, Hashable, Codable {
    public var id: Int64
    public var event: AuditEvent

    enum CodingKeys: String, CodingKey {
        case id, event
    }
}

/// Position after the last entry of a page (newest first), to fetch the next, older page. Keyset
/// pagination: stable while new entries arrive, and as fast on page 1,000 as on page 1.
public struct AuditCursor: Sendable, Hashable, Codable {
    public var occurredAt: Date
    public var id: Int64

    enum CodingKeys: String, CodingKey {
        case occurredAt = "occurred_at"
        case id
    }

    /// Opaque text form for a URL query (`<milliseconds>.<id>`).
    public var token: String { "\(Timestamp.milliseconds(occurredAt)).\(id)" }

    public init(occurredAt: Date, id: Int64) {
        self.occurredAt = occurredAt
        self.id = id
    }

    public init?(token: String) {
        let parts = token.split(separator: ".")
        guard parts.count == 2, let time = Timestamp.date(token: parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(occurredAt: time, id: id)
    }
}

public struct AuditQuery: Sendable, Hashable {
    /// Inclusive lower bound.
    public var since: Date?
    /// Exclusive upper bound.
    public var until: Date?
    public var actor: String?
    public var actorKind: AuditActor.Kind?
    public var action: String?
    public var limit: Int
    public var after: AuditCursor?

    public init(
        since: Date? = nil, until: Date? = nil, actor: String? = nil, actorKind: AuditActor.Kind? = nil,
        action: String? = nil, limit: Int = 50, after: AuditCursor? = nil
    ) {
        self.since = since
        self.until = until
        self.actor = actor
        self.actorKind = actorKind
        self.action = action
        self.limit = limit
        self.after = after
    }
}

public struct AuditPage: Sendable, Hashable {
    public var entries: [AuditEntry]
    /// Present when older entries may follow.
    public var next: AuditCursor?
}

public struct AuditLogRepository: Sendable {
    public static let maximumPageSize = 500
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.sql = database.sql
    }

    static let columns = "id, occurred_at, actor_kind, actor, action, target, details, client_address"

    @discardableResult
    public func insert(_ event: AuditEvent) async throws -> AuditEntry {
        let details = try event.details.map(JSONText.encode)
        let rows = try await sql.raw(
            """
            INSERT INTO audit_log (occurred_at, actor_kind, actor, action, target, details, client_address)
            VALUES (
                \(bind: Timestamp.milliseconds(event.occurredAt)), \(bind: event.actor.kind.rawValue),
                \(bind: event.actor.name), \(bind: event.action), \(bind: event.target), \(bind: details),
                \(bind: event.clientAddress)
            )
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard let row = rows.first else { throw StoreError.corruptRow("audit insert returned nothing") }
        return try Self.entry(from: row)
    }

    /// Newest first, filtered, one page at a time.
    public func query(_ query: AuditQuery) async throws -> AuditPage {
        let limit = min(max(1, query.limit), Self.maximumPageSize)
        var conditions: [SQLQueryString] = []
        if let since = query.since { conditions.append("occurred_at >= \(bind: Timestamp.milliseconds(since))") }
        if let until = query.until { conditions.append("occurred_at < \(bind: Timestamp.milliseconds(until))") }
        if let actor = query.actor { conditions.append("actor = \(bind: actor)") }
        if let kind = query.actorKind { conditions.append("actor_kind = \(bind: kind.rawValue)") }
        if let action = query.action { conditions.append("action = \(bind: action)") }
        if let after = query.after {
            let ms = Timestamp.milliseconds(after.occurredAt)
            conditions.append("(occurred_at < \(bind: ms) OR (occurred_at = \(bind: ms) AND id < \(bind: after.id)))")
        }
        var statement: SQLQueryString = "SELECT \(unsafeRaw: Self.columns) FROM audit_log"
        if !conditions.isEmpty {
            statement = statement + " WHERE " + conditions.joined(separator: " AND ")
        }
        // One extra row tells whether another page exists.
        statement = statement + " ORDER BY occurred_at DESC, id DESC LIMIT \(literal: limit + 1)"
        var entries = try await sql.raw(statement).all().map(Self.entry(from:))
        var next: AuditCursor?
        if entries.count > limit {
            entries.removeLast()
            next = entries.last.map { AuditCursor(occurredAt: $0.event.occurredAt, id: $0.id) }
        }
        return AuditPage(entries: entries, next: next)
    }

    /// Retention: removes entries older than `before`.
    @discardableResult
    public func prune(before: Date) async throws -> Int {
        try await sql.raw(
            "DELETE FROM audit_log WHERE occurred_at < \(bind: Timestamp.milliseconds(before)) RETURNING id"
        ).all().count
    }

    static func entry(from row: any SQLRow) throws -> AuditEntry {
        let kindText = try row.string("actor_kind")
        guard let kind = AuditActor.Kind(rawValue: kindText) else {
            throw StoreError.corruptRow("unknown audit actor kind \(kindText)")
        }
        return AuditEntry(
            id: try row.decode(column: "id", as: Int64.self),
            event: AuditEvent(
                actor: AuditActor(kind: kind, name: try row.string("actor")),
                action: try row.string("action"),
                target: try row.optionalString("target"),
                details: try row.optionalJSON("details", as: JSONValue.self),
                clientAddress: try row.optionalString("client_address"),
                occurredAt: try row.date("occurred_at")
            )
        )
    }
}
