import Foundation
import GatewayAPI
import GatewayStore

/// Creating, changing, rotating and revoking API keys, each recorded in the audit log: the one path
/// used by the admin API and the command line, so that both audit the same way. Audit details
/// describe the key (name, visible prefix, limits), never its secret.
public struct KeyAdministration: Sendable {
    let keys: APIKeyRepository
    let audit: AuditLogRepository
    /// Called after a key changed, so this instance stops trusting its cached copy at once (other
    /// instances, and a running server the command line changed, follow within the key cache lifetime).
    let keysChanged: @Sendable () -> Void

    public init(store: GatewayStore, keysChanged: @escaping @Sendable () -> Void = {}) {
        self.keys = store.apiKeys
        self.audit = store.auditLog
        self.keysChanged = keysChanged
    }

    public func create(_ settings: APIKeySettings, by actor: AuditActor, from address: String?, now: Date = Date())
        async throws -> IssuedAPIKey
    {
        let issued = try await keys.create(settings, now: now)
        try await audit.insert(AuditEvent(
            actor: actor, action: "key.create", target: issued.record.id,
            details: Self.describe(issued.record), clientAddress: address, occurredAt: now))
        return issued
    }

    public func update(
        id: String, settings: APIKeySettings, changed: [String], by actor: AuditActor, from address: String?,
        now: Date = Date()
    ) async throws -> APIKeyRecord {
        let record = try await keys.update(id: id, settings: settings, now: now)
        keysChanged()
        var details = Self.describe(record)
        details = details.merging(["changed": .array(changed.sorted().map(JSONValue.string))])
        try await audit.insert(AuditEvent(
            actor: actor, action: "key.update", target: id, details: details, clientAddress: address, occurredAt: now))
        return record
    }

    public func rotate(id: String, by actor: AuditActor, from address: String?, now: Date = Date()) async throws
        -> IssuedAPIKey
    {
        let previous = try await keys.get(id: id)
        let issued = try await keys.rotate(id: id, now: now)
        keysChanged()
        try await audit.insert(AuditEvent(
            actor: actor, action: "key.rotate", target: id,
            details: .object([
                "name": .string(issued.record.name), "prefix": .string(issued.record.prefix),
                "previous_prefix": previous.map { .string($0.prefix) } ?? .null,
            ]),
            clientAddress: address, occurredAt: now))
        return issued
    }

    public func revoke(id: String, by actor: AuditActor, from address: String?, now: Date = Date()) async throws
        -> APIKeyRecord
    {
        let record = try await keys.revoke(id: id, now: now)
        keysChanged()
        try await audit.insert(AuditEvent(
            actor: actor, action: "key.revoke", target: id,
            details: .object(["name": .string(record.name), "prefix": .string(record.prefix)]),
            clientAddress: address, occurredAt: now))
        return record
    }

    static func describe(_ record: APIKeyRecord) -> JSONValue {
        .object([
            "name": .string(record.name),
            "prefix": .string(record.prefix),
            "models": .array(record.allowedModels.map(JSONValue.string)),
            "enabled": .bool(record.enabled),
            "rpm": record.limits.requestsPerMinute.map(JSONValue.int) ?? .null,
            "tpm": record.limits.tokensPerMinute.map(JSONValue.int) ?? .null,
            "quota": record.limits.tokenQuota.map(JSONValue.int) ?? .null,
            "max_concurrent": record.limits.maxConcurrentRequests.map(JSONValue.int) ?? .null,
            "expires_at": record.expiresAt.map { .string(Timestamps.format($0)) } ?? .null,
        ])
    }
}

extension JSONValue {
    /// This object with `other`'s members added (other wins).
    func merging(_ other: [String: JSONValue]) -> JSONValue {
        guard case .object(let object) = self else { return self }
        return .object(object.merging(other) { _, new in new })
    }
}

/// An API key as the admin API and `keys list --json` show it: everything but the secret (which the
/// gateway does not have) and its hash (which it never shows).
public struct AdminKeyView: Encodable, Sendable {
    public var record: APIKeyRecord
    public var now: Date

    public init(_ record: APIKeyRecord, now: Date = Date()) {
        self.record = record
        self.now = now
    }

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, models, enabled, status
        case expiresAt = "expires_at"
        case rpm, tpm, quota
        case maxConcurrent = "max_concurrent"
        case tokensUsed = "tokens_used"
        case remainingQuota = "remaining_quota"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastUsedAt = "last_used_at"
        case rotatedAt = "rotated_at"
        case revokedAt = "revoked_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id, forKey: .id)
        try container.encode(record.name, forKey: .name)
        try container.encode(record.prefix, forKey: .prefix)
        try container.encode(record.allowedModels, forKey: .models)
        try container.encode(record.enabled, forKey: .enabled)
        try container.encode(record.status(at: now).rawValue, forKey: .status)
        try container.encode(record.expiresAt, forKey: .expiresAt)
        try container.encode(record.limits.requestsPerMinute, forKey: .rpm)
        try container.encode(record.limits.tokensPerMinute, forKey: .tpm)
        try container.encode(record.limits.tokenQuota, forKey: .quota)
        try container.encode(record.limits.maxConcurrentRequests, forKey: .maxConcurrent)
        try container.encode(record.tokensUsed, forKey: .tokensUsed)
        try container.encode(record.remainingTokenQuota, forKey: .remainingQuota)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encode(record.updatedAt, forKey: .updatedAt)
        try container.encode(record.lastUsedAt, forKey: .lastUsedAt)
        try container.encode(record.rotatedAt, forKey: .rotatedAt)
        try container.encode(record.revokedAt, forKey: .revokedAt)
    }
}

/// A new or rotated key: the secret, shown this once, and the record.
public struct IssuedKeyView: Encodable, Sendable {
    public var secret: String
    public var key: AdminKeyView

    public init(_ issued: IssuedAPIKey, now: Date = Date()) {
        self.secret = issued.secret.value
        self.key = AdminKeyView(issued.record, now: now)
    }

    enum CodingKeys: String, CodingKey {
        case secret, key
    }
}
