import Foundation
import SQLKit

/// How long an administrator session lives.
public struct SessionPolicy: Sendable, Hashable {
    /// Inactivity after which the session ends; each `touch` extends it (never past the absolute limit).
    public var idleTimeout: Duration
    /// Lifetime from login, whatever the activity.
    public var absoluteLifetime: Duration

    public init(idleTimeout: Duration = .seconds(30 * 60), absoluteLifetime: Duration = .seconds(12 * 3600)) {
        self.idleTimeout = idleTimeout
        self.absoluteLifetime = absoluteLifetime
    }

    var idleMilliseconds: Int64 { Self.milliseconds(idleTimeout) }
    var absoluteMilliseconds: Int64 { Self.milliseconds(absoluteLifetime) }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// A stored session. `id` is the SHA-256 of the cookie token: safe to show or log, useless as a cookie.
public struct SessionRecord: Sendable, Hashable, Codable {
    public var id: String
    public var accountID: String
    /// Sent with every state-changing admin request and compared in constant time.
    public var csrfToken: String
    public var clientAddress: String?
    public var createdAt: Date
    public var lastSeenAt: Date
    public var idleExpiresAt: Date
    public var absoluteExpiresAt: Date

    public var expiresAt: Date { min(idleExpiresAt, absoluteExpiresAt) }

    /// Constant-time check of a submitted CSRF token.
    public func acceptsCSRFToken(_ token: String) -> Bool {
        SecretHash.constantTimeEquals(csrfToken, token)
    }

    enum CodingKeys: String, CodingKey {
        case id
        case accountID = "account_id"
        case csrfToken = "csrf_token"
        case clientAddress = "client_address"
        case createdAt = "created_at"
        case lastSeenAt = "last_seen_at"
        case idleExpiresAt = "idle_expires_at"
        case absoluteExpiresAt = "absolute_expires_at"
    }
}

/// A new session: `token` goes into the cookie and is not stored.
public struct IssuedSession: Sendable {
    public let token: String
    public let record: SessionRecord
}

/// Sessions in the database, so that they survive restarts and every instance knows them.
public struct SessionRepository: Sendable {
    let sql: any SQLDatabase
    public let policy: SessionPolicy

    public init(database: GatewayDatabase, policy: SessionPolicy = SessionPolicy()) {
        self.sql = database.sql
        self.policy = policy
    }

    static let columns = """
        id_hash, account_id, csrf_token, client_address, created_at, last_seen_at, idle_expires_at,
        absolute_expires_at
        """

    public func create(accountID: String, clientAddress: String? = nil, now: Date = Date()) async throws
        -> IssuedSession
    {
        let token = SecureRandom.token(byteCount: 32)
        let nowMs = Timestamp.milliseconds(now)
        let absolute = nowMs + policy.absoluteMilliseconds
        let idle = min(nowMs + policy.idleMilliseconds, absolute)
        let rows = try await sql.raw(
            """
            INSERT INTO admin_sessions (
                id_hash, account_id, csrf_token, client_address, created_at, last_seen_at, idle_expires_at,
                absolute_expires_at
            ) VALUES (
                \(bind: SecretHash.sha256Hex(token)), \(bind: accountID), \(bind: SecureRandom.token(byteCount: 32)),
                \(bind: clientAddress), \(bind: nowMs), \(bind: nowMs), \(bind: idle), \(bind: absolute)
            )
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard let row = rows.first else { throw StoreError.corruptRow("session insert returned nothing") }
        return IssuedSession(token: token, record: try Self.record(from: row))
    }

    /// The live session for a cookie token, without writing anything; `nil` if unknown or expired.
    public func find(token: String, now: Date = Date()) async throws -> SessionRecord? {
        let nowMs = Timestamp.milliseconds(now)
        return try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.columns) FROM admin_sessions
            WHERE id_hash = \(bind: SecretHash.sha256Hex(token))
                AND idle_expires_at > \(bind: nowMs) AND absolute_expires_at > \(bind: nowMs)
            """
        ).all().first.map(Self.record(from:))
    }

    /// Records activity: moves `last_seen_at` and the idle expiry forward in one statement, only if the
    /// session is still live. Callers on a hot path touch when `lastSeenAt` is older than a minute or so.
    public func touch(token: String, now: Date = Date()) async throws -> SessionRecord? {
        let nowMs = Timestamp.milliseconds(now)
        let idle = nowMs + policy.idleMilliseconds
        return try await sql.raw(
            """
            UPDATE admin_sessions SET
                last_seen_at = \(bind: nowMs),
                idle_expires_at = CASE WHEN absolute_expires_at < \(bind: idle)
                    THEN absolute_expires_at ELSE \(bind: idle) END
            WHERE id_hash = \(bind: SecretHash.sha256Hex(token))
                AND idle_expires_at > \(bind: nowMs) AND absolute_expires_at > \(bind: nowMs)
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all().first.map(Self.record(from:))
    }

    /// Logout.
    @discardableResult
    public func delete(token: String) async throws -> Bool {
        try await delete(id: SecretHash.sha256Hex(token))
    }

    /// Ends a session by its public id (for "sign out that device" in the UI).
    @discardableResult
    public func delete(id: String) async throws -> Bool {
        try await !sql.raw("DELETE FROM admin_sessions WHERE id_hash = \(bind: id) RETURNING id_hash").all().isEmpty
    }

    /// Ends every session of an account (after a password change or reset), optionally keeping the
    /// current one. Returns how many ended.
    @discardableResult
    public func deleteAll(accountID: String, exceptToken keep: String? = nil) async throws -> Int {
        let keepHash = keep.map(SecretHash.sha256Hex) ?? ""
        return try await sql.raw(
            """
            DELETE FROM admin_sessions WHERE account_id = \(bind: accountID) AND id_hash <> \(bind: keepHash)
            RETURNING id_hash
            """
        ).all().count
    }

    public func list(accountID: String, now: Date = Date()) async throws -> [SessionRecord] {
        let nowMs = Timestamp.milliseconds(now)
        return try await sql.raw(
            """
            SELECT \(unsafeRaw: Self.columns) FROM admin_sessions
            WHERE account_id = \(bind: accountID)
                AND idle_expires_at > \(bind: nowMs) AND absolute_expires_at > \(bind: nowMs)
            ORDER BY last_seen_at DESC
            """
        ).all().map(Self.record(from:))
    }

    /// Housekeeping; returns how many expired sessions were removed.
    @discardableResult
    public func deleteExpired(now: Date = Date()) async throws -> Int {
        let nowMs = Timestamp.milliseconds(now)
        return try await sql.raw(
            """
            DELETE FROM admin_sessions
            WHERE idle_expires_at <= \(bind: nowMs) OR absolute_expires_at <= \(bind: nowMs)
            RETURNING id_hash
            """
        ).all().count
    }

    static func record(from row: any SQLRow) throws -> SessionRecord {
        SessionRecord(
            id: try row.string("id_hash"),
            accountID: try row.string("account_id"),
            csrfToken: try row.string("csrf_token"),
            clientAddress: try row.optionalString("client_address"),
            createdAt: try row.date("created_at"),
            lastSeenAt: try row.date("last_seen_at"),
            idleExpiresAt: try row.date("idle_expires_at"),
            absoluteExpiresAt: try row.date("absolute_expires_at")
        )
    }
}
