import Foundation
import GatewayStore
import HTTPTypes
import Synchronization

/// Enforces a key's requests-per-minute, tokens-per-minute and concurrency limits.
///
/// Minute windows are fixed (they start on the minute). On SQLite (one instance) they are counted
/// in memory; on PostgreSQL they are counted in the shared database, so several instances share one
/// limit. Concurrency is counted per instance (documented): a request in flight holds a connection
/// to one instance only.
public final class KeyLimiter: Sendable {
    struct Window {
        var start: Int64
        var requests = 0
        var tokens = 0
    }

    struct State {
        var windows: [String: Window] = [:]
        var inFlight: [String: Int] = [:]
        /// Tokens reserved by this instance's requests in flight, per key: what they may still use.
        var reserved: [String: Int] = [:]
    }

    /// Shared windows in the database; nil: in memory.
    let shared: RateLimitRepository?
    private let state = Mutex(State())

    public init(shared: RateLimitRepository?) {
        self.shared = shared
    }

    /// What an admitted request carries until it finishes.
    public struct Admission: Sendable {
        public var keyID: String
        /// `x-ratelimit-*` headers for the response.
        public var headers: HTTPFields
        /// Tokens counted in the key's minute window when the request was admitted (shared windows:
        /// the database's count; in memory the limiter reads its own).
        public var windowTokens = 0
    }

    static func windowStart(_ now: Date) -> Int64 {
        let seconds = Int64(now.timeIntervalSince1970)
        return seconds - seconds % 60
    }

    /// Admits a request or refuses it with a 429 carrying `Retry-After` and `x-ratelimit-*` headers.
    public func admit(_ key: AuthenticatedKey, now: Date = Date()) async throws(GatewayError) -> Admission {
        let limits = key.limits
        let resetSeconds = Int(60 - Int64(now.timeIntervalSince1970) % 60)
        if let maxConcurrent = limits.maxConcurrentRequests {
            let admitted = state.withLock { state in
                let current = state.inFlight[key.id, default: 0]
                guard current < maxConcurrent else { return false }
                state.inFlight[key.id] = current + 1
                return true
            }
            guard admitted else {
                var headers = HTTPFields()
                headers[.retryAfter] = "1"
                headers[HTTPField.Name("x-ratelimit-limit-concurrent")!] = String(maxConcurrent)
                throw GatewayError(
                    .rateLimited, "This API key already has \(maxConcurrent) requests in flight.", code: "rate_limit_exceeded",
                    headers: headers)
            }
        }
        guard limits.requestsPerMinute != nil || limits.tokensPerMinute != nil else {
            return Admission(keyID: key.id, headers: [:])
        }
        let counts: RateLimitCounts
        do {
            counts = try await count(keyID: key.id, requests: 1, tokens: 0, now: now)
        } catch {
            release(key.id, concurrency: limits.maxConcurrentRequests != nil)
            throw GatewayError(.internalError, "The gateway could not check the rate limits.")
        }
        var headers = HTTPFields()
        if let rpm = limits.requestsPerMinute {
            headers[HTTPField.Name("x-ratelimit-limit-requests")!] = String(rpm)
            headers[HTTPField.Name("x-ratelimit-remaining-requests")!] = String(max(0, rpm - counts.requests))
            headers[HTTPField.Name("x-ratelimit-reset-requests")!] = "\(resetSeconds)s"
        }
        if let tpm = limits.tokensPerMinute {
            headers[HTTPField.Name("x-ratelimit-limit-tokens")!] = String(tpm)
            headers[HTTPField.Name("x-ratelimit-remaining-tokens")!] = String(max(0, tpm - counts.tokens))
            headers[HTTPField.Name("x-ratelimit-reset-tokens")!] = "\(resetSeconds)s"
        }
        let overRequests = limits.requestsPerMinute.map { counts.requests > $0 } ?? false
        let overTokens = limits.tokensPerMinute.map { counts.tokens >= $0 } ?? false
        if overRequests || overTokens {
            // A refused request does not count against the next ones.
            _ = try? await count(keyID: key.id, requests: -1, tokens: 0, now: now)
            release(key.id, concurrency: limits.maxConcurrentRequests != nil)
            headers[.retryAfter] = String(resetSeconds)
            let what = overRequests
                ? "\(limits.requestsPerMinute ?? 0) requests per minute"
                : "\(limits.tokensPerMinute ?? 0) tokens per minute"
            throw GatewayError(
                .rateLimited, "This API key is limited to \(what); retry in \(resetSeconds) s.", code: "rate_limit_exceeded",
                headers: headers)
        }
        return Admission(keyID: key.id, headers: headers, windowTokens: counts.tokens)
    }

    /// Reserves the tokens a request may use, at most, against its key's tokens-per-minute limit and
    /// token quota, before it reaches Ollama; `release` gives them back when it ends (its real
    /// tokens are counted by then). Without reservations, requests admitted together all see the
    /// same unspent budget and overshoot it together.
    ///
    /// A request is refused when what is used and reserved plus its own reservation exceeds a
    /// limit, unless nothing of the key is in flight on this instance: a request whose reservation
    /// alone exceeds the limit still runs when it runs alone, so the overshoot is at most one
    /// request's tokens per instance.
    /// - Parameters:
    ///   - windowTokens: the key's tokens in the current minute as the admission saw them (shared
    ///     windows); ignored when the windows are in memory.
    ///   - quotaUsed: the key's tokens used so far, read under the limiter's lock so that a request
    ///     finishing meanwhile is counted either as used or as reserved, never as neither.
    /// - Returns: the tokens reserved (0 when the key has no token limit).
    public func reserve(
        _ key: AuthenticatedKey, tokens: Int, windowTokens: Int, quotaUsed: () -> Int, now: Date = Date()
    ) throws(GatewayError) -> Int {
        let limits = key.limits
        guard limits.tokensPerMinute != nil || limits.tokenQuota != nil else { return 0 }
        let tokens = min(max(1, tokens), Self.largestReservation)
        let window = Self.windowStart(now)
        let refusal: GatewayError? = state.withLock { state in
            let reserved = state.reserved[key.id, default: 0]
            if let tpm = limits.tokensPerMinute {
                let counted: Int
                if shared == nil {
                    counted = state.windows[key.id].flatMap { $0.start == window ? $0.tokens : nil } ?? 0
                } else {
                    counted = windowTokens
                }
                if counted + reserved > 0, counted + reserved + tokens > tpm {
                    let reset = Int(window + 60 - Int64(now.timeIntervalSince1970))
                    var headers = HTTPFields()
                    headers[.retryAfter] = String(max(1, reset))
                    headers[HTTPField.Name("x-ratelimit-limit-tokens")!] = String(tpm)
                    headers[HTTPField.Name("x-ratelimit-remaining-tokens")!] = String(max(0, tpm - counted - reserved))
                    headers[HTTPField.Name("x-ratelimit-reset-tokens")!] = "\(max(1, reset))s"
                    return GatewayError(
                        .rateLimited,
                        "This API key is limited to \(tpm) tokens per minute: \(counted) used and \(reserved) reserved by "
                            + "requests in flight leave too few for this one (up to \(tokens) tokens; set max_tokens to "
                            + "reserve fewer); retry in \(max(1, reset)) s.",
                        code: "rate_limit_exceeded", headers: headers)
                }
            }
            if let quota = limits.tokenQuota {
                let used = quotaUsed()
                if used >= quota { return APIKeyAuthenticator.quotaExhausted(key.record) }
                if reserved > 0, used + reserved + tokens > quota {
                    var headers = HTTPFields()
                    // The reservations of the requests in flight come back when they end.
                    headers[.retryAfter] = "1"
                    headers[HTTPField.Name("x-ratelimit-limit-quota")!] = String(quota)
                    headers[HTTPField.Name("x-ratelimit-remaining-quota")!] = String(max(0, quota - used - reserved))
                    return GatewayError(
                        .rateLimited,
                        "This API key's token quota of \(quota) has \(quota - used) tokens left, and requests in flight "
                            + "have reserved \(reserved) of them; this one may use up to \(tokens) (set max_tokens to "
                            + "reserve fewer). Retry when they finish.",
                        code: "rate_limit_exceeded", headers: headers)
                }
            }
            state.reserved[key.id] = reserved + tokens
            return nil
        }
        if let refusal { throw refusal }
        return tokens
    }

    /// No request can use more than this (Ollama's largest contexts are far below it); it keeps the
    /// sums of reservations far from overflowing.
    static let largestReservation = 1 << 31

    /// Gives back a request's reservation once its real tokens are counted.
    public func release(reservation tokens: Int, ofKey keyID: String) {
        guard tokens > 0 else { return }
        state.withLock { state in
            let left = state.reserved[keyID, default: 0] - tokens
            state.reserved[keyID] = left > 0 ? left : nil
        }
    }

    /// A request is over: frees its concurrency slot and counts its tokens in the local window
    /// (the shared window gets them from the usage recorder's next batch).
    public func finish(_ key: AuthenticatedKey, tokens: Int, now: Date = Date()) {
        state.withLock { state in
            if key.limits.maxConcurrentRequests != nil, let current = state.inFlight[key.id] {
                state.inFlight[key.id] = current > 1 ? current - 1 : nil
            }
            if shared == nil, key.limits.tokensPerMinute != nil, tokens > 0 {
                Self.add(&state, keyID: key.id, requests: 0, tokens: tokens, window: Self.windowStart(now))
            }
        }
    }

    private func release(_ keyID: String, concurrency: Bool) {
        guard concurrency else { return }
        state.withLock { state in
            if let current = state.inFlight[keyID] { state.inFlight[keyID] = current > 1 ? current - 1 : nil }
        }
    }

    private func count(keyID: String, requests: Int, tokens: Int, now: Date) async throws -> RateLimitCounts {
        if let shared {
            return try await shared.add(keyID: keyID, requests: requests, tokens: tokens, at: now)
        }
        return state.withLock { state in
            Self.add(&state, keyID: keyID, requests: requests, tokens: tokens, window: Self.windowStart(now))
        }
    }

    @discardableResult
    private static func add(_ state: inout State, keyID: String, requests: Int, tokens: Int, window: Int64) -> RateLimitCounts {
        var current = state.windows[keyID] ?? Window(start: window)
        if current.start != window { current = Window(start: window) }
        current.requests += requests
        current.tokens += tokens
        state.windows[keyID] = current
        return RateLimitCounts(requests: current.requests, tokens: current.tokens)
    }
}
