import Foundation
import SQLKit

/// API keys: issued once, stored as SHA-256 hashes, looked up by hash.
public struct APIKeyRepository: Sendable {
    let sql: any SQLDatabase

    public init(database: GatewayDatabase) {
        self.sql = database.sql
    }

    static let columns = """
        id, name, key_prefix, allowed_models, enabled, expires_at, rpm_limit, tpm_limit, token_quota,
        max_concurrent_requests, tokens_used, created_at, updated_at, last_used_at, rotated_at, revoked_at
        """

    /// Creates a key and returns its secret, which is not stored and cannot be shown again.
    public func create(_ settings: APIKeySettings, now: Date = Date()) async throws -> IssuedAPIKey {
        let settings = try settings.validated()
        let secret = APIKeySecret.generate()
        let id = SecureRandom.identifier(prefix: "key_")
        let nowMs = Timestamp.milliseconds(now)
        let rows = try await sql.raw(
            """
            INSERT INTO api_keys (
                id, name, key_hash, key_prefix, allowed_models, enabled, expires_at, rpm_limit, tpm_limit,
                token_quota, max_concurrent_requests, tokens_used, created_at, updated_at
            ) VALUES (
                \(bind: id), \(bind: settings.name), \(bind: secret.hash), \(bind: secret.visiblePrefix),
                \(bind: try JSONText.encode(settings.allowedModels)), \(bind: settings.enabled),
                \(bind: settings.expiresAt.milliseconds), \(bind: settings.limits.requestsPerMinute.map(Int64.init)),
                \(bind: settings.limits.tokensPerMinute.map(Int64.init)), \(bind: settings.limits.tokenQuota.map(Int64.init)),
                \(bind: settings.limits.maxConcurrentRequests.map(Int64.init)), 0, \(bind: nowMs), \(bind: nowMs)
            )
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        return IssuedAPIKey(record: try Self.record(from: rows), secret: secret)
    }

    /// All keys, newest first. Revoked keys are kept for their history and listed only on request.
    public func list(includeRevoked: Bool = false) async throws -> [APIKeyRecord] {
        let filter: SQLQueryString = includeRevoked ? "" : "WHERE revoked_at IS NULL"
        return try await sql.raw(
            "SELECT \(unsafeRaw: Self.columns) FROM api_keys \(filter) ORDER BY created_at DESC, id"
        ).all().map(Self.record(from:))
    }

    public func get(id: String) async throws -> APIKeyRecord? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM api_keys WHERE id = \(bind: id)")
            .all().first.map(Self.record(from:))
    }

    /// The key whose secret this is, whatever its status (check `status(at:)`), or `nil` for a malformed,
    /// unknown, rotated-away or revoked secret.
    public func find(secret presented: String) async throws -> APIKeyRecord? {
        guard let secret = APIKeySecret(presented: presented) else { return nil }
        let hash = secret.hash
        let rows = try await sql.raw(
            "SELECT key_hash, \(unsafeRaw: Self.columns) FROM api_keys WHERE key_hash = \(bind: hash)"
        ).all()
        guard let row = rows.first, let stored = try row.optionalString("key_hash"), secret.matches(hash: stored)
        else { return nil }
        return try Self.record(from: row)
    }

    /// Replaces the administrator-chosen fields. Revoked keys cannot be changed.
    public func update(id: String, settings: APIKeySettings, now: Date = Date()) async throws -> APIKeyRecord {
        let settings = try settings.validated()
        let rows = try await sql.raw(
            """
            UPDATE api_keys SET
                name = \(bind: settings.name),
                allowed_models = \(bind: try JSONText.encode(settings.allowedModels)),
                enabled = \(bind: settings.enabled),
                expires_at = \(bind: settings.expiresAt.milliseconds),
                rpm_limit = \(bind: settings.limits.requestsPerMinute.map(Int64.init)),
                tpm_limit = \(bind: settings.limits.tokensPerMinute.map(Int64.init)),
                token_quota = \(bind: settings.limits.tokenQuota.map(Int64.init)),
                max_concurrent_requests = \(bind: settings.limits.maxConcurrentRequests.map(Int64.init)),
                updated_at = \(bind: Timestamp.milliseconds(now))
            WHERE id = \(bind: id) AND revoked_at IS NULL
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard !rows.isEmpty else { throw try await missingOrRevoked(id: id) }
        return try Self.record(from: rows)
    }

    /// Issues a new secret for the same key: the old secret stops working at once; id, settings, limits
    /// and usage stay.
    public func rotate(id: String, now: Date = Date()) async throws -> IssuedAPIKey {
        let secret = APIKeySecret.generate()
        let nowMs = Timestamp.milliseconds(now)
        let rows = try await sql.raw(
            """
            UPDATE api_keys SET
                key_hash = \(bind: secret.hash), key_prefix = \(bind: secret.visiblePrefix),
                rotated_at = \(bind: nowMs), updated_at = \(bind: nowMs)
            WHERE id = \(bind: id) AND revoked_at IS NULL
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard !rows.isEmpty else { throw try await missingOrRevoked(id: id) }
        return IssuedAPIKey(record: try Self.record(from: rows), secret: secret)
    }

    /// Revokes for good: the hash is erased (no secret can match any more) and the key is disabled; the
    /// row stays so that usage and audit history keep their key. Repeating it changes nothing.
    public func revoke(id: String, now: Date = Date()) async throws -> APIKeyRecord {
        let nowMs = Timestamp.milliseconds(now)
        let rows = try await sql.raw(
            """
            UPDATE api_keys SET
                key_hash = NULL, enabled = \(bind: false),
                revoked_at = COALESCE(revoked_at, \(bind: nowMs)), updated_at = \(bind: nowMs)
            WHERE id = \(bind: id)
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard !rows.isEmpty else { throw StoreError.notFound("API key \(id)") }
        return try Self.record(from: rows)
    }

    /// Removes the row. Prefer `revoke`, which keeps history; returns whether a key was deleted.
    @discardableResult
    public func delete(id: String) async throws -> Bool {
        try await !sql.raw("DELETE FROM api_keys WHERE id = \(bind: id) RETURNING id").all().isEmpty
    }

    /// One statement per call: adds tokens to the running total and moves `last_used_at` forward (never
    /// back, as instances report out of order).
    public func recordUse(id: String, tokens: Int, at time: Date = Date()) async throws {
        let ms = Timestamp.milliseconds(time)
        try await sql.raw(
            """
            UPDATE api_keys SET
                tokens_used = tokens_used + \(bind: Int64(max(0, tokens))),
                last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < \(bind: ms)
                    THEN \(bind: ms) ELSE last_used_at END
            WHERE id = \(bind: id)
            """
        ).run()
    }

    /// Starts the quota over (an explicit administrator action; rotation never does this).
    public func resetUsage(id: String, now: Date = Date()) async throws -> APIKeyRecord {
        let rows = try await sql.raw(
            """
            UPDATE api_keys SET tokens_used = 0, updated_at = \(bind: Timestamp.milliseconds(now))
            WHERE id = \(bind: id) AND revoked_at IS NULL
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard !rows.isEmpty else { throw try await missingOrRevoked(id: id) }
        return try Self.record(from: rows)
    }

    private func missingOrRevoked(id: String) async throws -> StoreError {
        try await get(id: id) == nil
            ? .notFound("API key \(id)") : .conflict("API key \(id) is revoked")
    }

    static func record(from rows: [any SQLRow]) throws -> APIKeyRecord {
        guard let row = rows.first else { throw StoreError.corruptRow("statement returned no api_keys row") }
        return try record(from: row)
    }

    static func record(from row: any SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.string("id"),
            name: try row.string("name"),
            prefix: try row.string("key_prefix"),
            allowedModels: try row.json("allowed_models", as: [String].self),
            enabled: try row.bool("enabled"),
            expiresAt: try row.optionalDate("expires_at"),
            limits: APIKeyLimits(
                requestsPerMinute: try row.optionalInt("rpm_limit"),
                tokensPerMinute: try row.optionalInt("tpm_limit"),
                tokenQuota: try row.optionalInt("token_quota"),
                maxConcurrentRequests: try row.optionalInt("max_concurrent_requests")
            ),
            tokensUsed: try row.int("tokens_used"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"),
            lastUsedAt: try row.optionalDate("last_used_at"),
            rotatedAt: try row.optionalDate("rotated_at"),
            revokedAt: try row.optionalDate("revoked_at")
        )
    }
}
