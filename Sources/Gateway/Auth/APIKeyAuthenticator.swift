import Foundation
import GatewayStore
import HTTPTypes
import Logging
import Synchronization

/// Checks the API key of a request. Keys are looked up by the SHA-256 of the presented secret and
/// cached for a short time, so the hot path does not touch the database on every request; a
/// revocation or a change reaches every instance within `cacheLifetime`.
public final class APIKeyAuthenticator: Sendable {
    struct CachedKey {
        /// nil: no such key (cached too, so floods of bad keys do not reach the database).
        var record: APIKeyRecord?
        var loadedAt: ContinuousClock.Instant
        /// Tokens this instance accounted since the record was loaded, for quota checks in between.
        var tokensSinceLoad: Int
    }

    let keys: APIKeyRepository
    let cacheLifetime: Duration
    let logger: Logger
    struct Cache {
        var byHash: [String: CachedKey] = [:]
        /// Key id → hash of its secret, to account tokens without scanning.
        var hashByID: [String: String] = [:]
        /// Key id → tokens this instance accounted that the usage recorder has not yet added to the
        /// stored count. A reload starts from these: the stored count alone lags behind until the
        /// next flush, and a quota read from it let a request through that should have been refused.
        var unflushed: [String: Int] = [:]

        /// Forgets the cached keys, keeping what is owed to the stored counts.
        mutating func clearKeys() { byHash = [:] }
    }

    private let cache = Mutex(Cache())

    public init(keys: APIKeyRepository, cacheLifetime: Duration = .seconds(10), logger: Logger) {
        self.keys = keys
        self.cacheLifetime = cacheLifetime
        self.logger = logger
    }

    /// The key sent as `Authorization: Bearer`, `x-api-key` (Anthropic's SDKs) or `api-key` (Azure-style clients).
    public static func presentedKey(in headers: HTTPFields) -> String? {
        if let authorization = headers[.authorization] {
            let value = authorization.utf8
            let scheme = value.prefix { $0 != UInt8(ascii: " ") }
            if scheme.count < value.count, scheme.elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }) {
                return trimmed(authorization.utf8.dropFirst(scheme.count + 1))
            }
        }
        if let key = headers[Self.xAPIKey] { return trimmed(key.utf8[...]) }
        if let key = headers[Self.apiKey] { return trimmed(key.utf8[...]) }
        return nil
    }

    private static let xAPIKey = HTTPField.Name("x-api-key")!
    private static let apiKey = HTTPField.Name("api-key")!

    /// Without the spaces and tabs around it.
    private static func trimmed(_ value: Substring.UTF8View) -> String {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let start = value.firstIndex(where: { !isBlank($0) }), let last = value.lastIndex(where: { !isBlank($0) }) else {
            return ""
        }
        return String(Substring(value[start...last]))
    }

    /// The key behind a presented secret, or a 401/429 that says what is wrong with it.
    public func authenticate(_ presented: String, now: Date = Date()) async throws(GatewayError) -> AuthenticatedKey {
        let record = try await lookup(presented)
        guard let record else {
            throw GatewayError(.authentication, "Invalid API key.", code: "invalid_api_key")
        }
        switch record.status(at: now) {
        case .active:
            break
        case .revoked:
            throw GatewayError(.authentication, "This API key has been revoked.", code: "revoked_api_key")
        case .disabled:
            throw GatewayError(.authentication, "This API key is disabled.", code: "disabled_api_key")
        case .expired:
            let date = record.expiresAt.map { ISO8601DateFormatter().string(from: $0) } ?? "an earlier date"
            throw GatewayError(.authentication, "This API key expired on \(date).", code: "expired_api_key")
        case .quotaExhausted:
            throw Self.quotaExhausted(record)
        }
        return AuthenticatedKey(record: record)
    }

    static func quotaExhausted(_ record: APIKeyRecord) -> GatewayError {
        let quota = record.limits.tokenQuota ?? 0
        var headers = HTTPFields()
        headers[HTTPField.Name("x-ratelimit-limit-quota")!] = String(quota)
        headers[HTTPField.Name("x-ratelimit-remaining-quota")!] = "0"
        // No Retry-After: a quota does not renew with time, waiting does not help.
        return GatewayError(
            .rateLimited,
            "This API key has used its token quota of \(quota) tokens. A quota does not renew with time: an "
                + "administrator can raise it.",
            code: "insufficient_quota", headers: headers)
    }

    private func lookup(_ presented: String) async throws(GatewayError) -> APIKeyRecord? {
        let hash = SecretHash.sha256Hex(presented)
        let now = ContinuousClock.now
        if let cached = cache.withLock({ $0.byHash[hash] }), now - cached.loadedAt < cacheLifetime {
            guard var record = cached.record else { return nil }
            record.tokensUsed += cached.tokensSinceLoad
            return record
        }
        // What is owed is read before the stored count when the key is known: a flush that lands in
        // between is then counted twice, which errs on the quota's side, never once too few. A key not
        // cached (first use, or after an invalidation) is read after, by the id the store gives.
        let owedBefore = cache.withLock { cache in
            cache.byHash[hash]?.record.map { cache.unflushed[$0.id] ?? 0 }
        }
        let record: APIKeyRecord?
        do {
            record = try await keys.find(secret: presented)
        } catch {
            logger.error("API key lookup failed", metadata: ["error": "\(error)"])
            throw GatewayError(.internalError, "The gateway could not check the API key.")
        }
        let owed = cache.withLock { cache in
            if cache.byHash.count > 100_000 { cache.clearKeys() }  // a bound against floods of distinct bad keys
            let owed = owedBefore ?? record.map { cache.unflushed[$0.id] ?? 0 } ?? 0
            cache.byHash[hash] = CachedKey(record: record, loadedAt: now, tokensSinceLoad: owed)
            if let record { cache.hashByID[record.id] = hash }
            return owed
        }
        guard var record else { return nil }
        record.tokensUsed += owed
        return record
    }

    /// Counts tokens a key used on this instance, so its quota holds before the next reload.
    public func noteTokens(_ tokens: Int, forKey id: String) {
        guard tokens > 0 else { return }
        cache.withLock { cache in
            cache.unflushed[id, default: 0] += tokens
            guard let hash = cache.hashByID[id] else { return }
            cache.byHash[hash]?.tokensSinceLoad += tokens
        }
    }

    /// The usage recorder added these tokens to the key's stored count.
    public func noteTokensStored(_ tokens: Int, forKey id: String) {
        cache.withLock { cache in
            guard let owed = cache.unflushed[id] else { return }
            cache.unflushed[id] = owed > tokens ? owed - tokens : nil
        }
    }

    /// The tokens a key has used as this instance knows them: the stored count when the key was last
    /// read plus what this instance accounted since.
    public func tokensUsed(by key: AuthenticatedKey) -> Int {
        cache.withLock { cache in
            guard let hash = cache.hashByID[key.id], let cached = cache.byHash[hash], let record = cached.record else {
                return key.record.tokensUsed
            }
            return record.tokensUsed + cached.tokensSinceLoad
        }
    }

    /// Forgets every cached key, after a change made on this instance (revocation, rotation, limits).
    public func invalidate() {
        cache.withLock { $0.clearKeys() }
    }
}
