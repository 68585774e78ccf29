import Foundation

/// Optional limits of one API key; `nil` means unlimited.
public struct APIKeyLimits: Sendable, Hashable, Codable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    /// Total tokens the key may use over its life (compared with `APIKeyRecord.tokensUsed`).
    public var tokenQuota: Int?
    public var maxConcurrentRequests: Int?

    public init(
        requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, tokenQuota: Int? = nil,
        maxConcurrentRequests: Int? = nil
    ) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.tokenQuota = tokenQuota
        self.maxConcurrentRequests = maxConcurrentRequests
    }

    public static let unlimited = APIKeyLimits()

    enum CodingKeys: String, CodingKey {
        case requestsPerMinute = "rpm"
        case tokensPerMinute = "tpm"
        case tokenQuota = "token_quota"
        case maxConcurrentRequests = "max_concurrent_requests"
    }
}

/// What an administrator chooses for a key: used to create it and, whole, to update it.
public struct APIKeySettings: Sendable, Hashable, Codable {
    public var name: String
    /// Model names, aliases or `*` wildcards (`llama*`); empty allows every model.
    public var allowedModels: [String]
    public var enabled: Bool
    public var expiresAt: Date?
    public var limits: APIKeyLimits

    public init(
        name: String, allowedModels: [String] = [], enabled: Bool = true, expiresAt: Date? = nil,
        limits: APIKeyLimits = .unlimited
    ) {
        self.name = name
        self.allowedModels = allowedModels
        self.enabled = enabled
        self.expiresAt = expiresAt
        self.limits = limits
    }

    enum CodingKeys: String, CodingKey {
        case name
        case allowedModels = "allowed_models"
        case enabled
        case expiresAt = "expires_at"
        case limits
    }

    func validated() throws -> APIKeySettings {
        var copy = self
        copy.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !copy.name.isEmpty else { throw StoreError.invalidArgument("a key needs a name") }
        copy.allowedModels = allowedModels.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for (label, value) in [
            ("rpm", limits.requestsPerMinute), ("tpm", limits.tokensPerMinute), ("token quota", limits.tokenQuota),
            ("max concurrent requests", limits.maxConcurrentRequests),
        ] {
            if let value, value <= 0 {
                throw StoreError.invalidArgument("\(label) must be positive or unset, got \(value)")
            }
        }
        return copy
    }
}

/// An API key as stored: everything but the secret, which the store never has.
public struct APIKeyRecord: Sendable, Hashable, Codable {
    /// Stable across rotation: usage, limits and audit entries refer to it.
    public var id: String
    public var name: String
    /// `sk-` and the first characters of the current secret, to recognise the key.
    public var prefix: String
    public var allowedModels: [String]
    public var enabled: Bool
    public var expiresAt: Date?
    public var limits: APIKeyLimits
    /// Running total counted against `limits.tokenQuota`; kept across rotation.
    public var tokensUsed: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var lastUsedAt: Date?
    public var rotatedAt: Date?
    /// Set once, never cleared: a revoked key has no hash any more and cannot authenticate.
    public var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, name, prefix
        case allowedModels = "allowed_models"
        case enabled
        case expiresAt = "expires_at"
        case limits
        case tokensUsed = "tokens_used"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case lastUsedAt = "last_used_at"
        case rotatedAt = "rotated_at"
        case revokedAt = "revoked_at"
    }

    public var settings: APIKeySettings {
        APIKeySettings(name: name, allowedModels: allowedModels, enabled: enabled, expiresAt: expiresAt, limits: limits)
    }

    /// Whether the key may be used now, and if not, why (in the order a client should hear it).
    public func status(at now: Date = Date()) -> APIKeyStatus {
        if revokedAt != nil { return .revoked }
        if !enabled { return .disabled }
        if let expiresAt, expiresAt <= now { return .expired }
        if let quota = limits.tokenQuota, tokensUsed >= quota { return .quotaExhausted }
        return .active
    }

    /// Tokens left under the quota, `nil` when there is none.
    public var remainingTokenQuota: Int? {
        limits.tokenQuota.map { max(0, $0 - tokensUsed) }
    }

    /// Whether `model` (a name or an alias as requested) matches the allow-list; `*` matches any run of
    /// characters. An empty list allows everything.
    public func allows(model: String) -> Bool {
        allowedModels.isEmpty || allowedModels.contains { Wildcard.matches(pattern: $0, model) }
    }
}

public enum APIKeyStatus: String, Sendable, Hashable, Codable {
    case active
    case disabled
    case expired
    case revoked
    case quotaExhausted = "quota_exhausted"
}

/// The result of creating or rotating a key: the only moment the secret exists outside the client.
public struct IssuedAPIKey: Sendable {
    public let record: APIKeyRecord
    public let secret: APIKeySecret
}

enum Wildcard {
    /// Glob match with `*` only; linear-time greedy matching with backtracking to the last star.
    static func matches(pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.unicodeScalars)
        let t = Array(text.unicodeScalars)
        var pi = 0
        var ti = 0
        var star = -1
        var mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] != "*", p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
