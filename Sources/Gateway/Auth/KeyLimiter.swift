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
        return Admission(keyID: key.id, headers: headers)
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
