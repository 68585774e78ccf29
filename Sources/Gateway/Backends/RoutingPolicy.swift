import Foundation

/// What the routing policy knows of one backend for one request: a snapshot, so that the policy is a
/// pure function, tested without sockets and cheap enough to run for every request.
struct RoutingCandidate: Sendable, Equatable {
    /// The backend's position in the pool (what the decision is made of).
    var index: Int
    var priority: Int
    var weight: Int
    /// Not cooling down after repeated failures (and enabled).
    var available: Bool
    /// Its last probe answered (or it was not probed yet).
    var healthy: Bool
    /// Whether its model list has the model; nil while its list has never been read.
    var hasModel: Bool?
    /// The model is in its memory now (`/api/ps`): no load time.
    var loaded: Bool
    /// Requests this gateway has in flight there.
    var inFlight: Int
    /// A stable hash of the backend's name, for session stickiness that every gateway instance agrees on.
    var nameHash: UInt64

    init(
        index: Int, priority: Int = 0, weight: Int = 1, available: Bool = true, healthy: Bool = true,
        hasModel: Bool? = true, loaded: Bool = false, inFlight: Int = 0, nameHash: UInt64 = 0
    ) {
        self.index = index
        self.priority = priority
        self.weight = weight
        self.available = available
        self.healthy = healthy
        self.hasModel = hasModel
        self.loaded = loaded
        self.inFlight = inFlight
        self.nameHash = nameHash
    }
}

/// How one request picks its backend, in this order:
///
/// 1. Backends that have the model (by their last model list). When none lists it, those whose list
///    is unknown; when every list is known and none has it, all of them (Ollama's own 404 then says so).
/// 2. Of those, the healthy ones (their last probe answered) that are not cooling down. When no
///    healthy one is left, those whose probe failed but that are not cooling down: a probe that
///    timed out on a busy server must not turn every request away, and a request that fails there
///    counts towards the cool-down. None left: the request gets a 503.
/// 3. The best priority tier (lowest number) that has one.
/// 4. Within it, a conversation's own backend first (stickiness: the server that served its session
///    before, while it is available and still has the model loaded or no other one has).
/// 5. Else the backends that have the model loaded, if any do (no load time).
/// 6. Of those, with a session: the weighted rendezvous hash of the session (the same answer on
///    every gateway instance); without one: the least busy, in flight ÷ weight, ties broken at
///    random in proportion to weight.
///
/// The rest follow as fall-backs for a failure before the first byte, best tier first, loaded first,
/// least busy first; the list is cut at `maxAttempts`.
struct RoutingPolicy: Sendable {
    var maxAttempts: Int

    init(maxAttempts: Int = 3) {
        self.maxAttempts = max(1, maxAttempts)
    }

    /// The backends to try, best first, as indices into `candidates`; empty when none can serve.
    /// - Parameters:
    ///   - session: the hash of the request's session, when it has one.
    ///   - remembered: the candidate (`index`) that served the session last.
    ///   - random: a random number, for the weighted tie-break (given, so that tests are repeatable).
    func order(_ candidates: [RoutingCandidate], session: UInt64? = nil, remembered: Int? = nil, random: UInt64) -> [Int] {
        // 1. Who has the model.
        var eligible: [RoutingCandidate]
        if candidates.contains(where: { $0.hasModel == true }) {
            eligible = candidates.filter { $0.hasModel == true }
        } else if candidates.contains(where: { $0.hasModel == nil }) {
            eligible = candidates.filter { $0.hasModel == nil }
        } else {
            eligible = candidates
        }
        // 2. Who can take it now.
        eligible.removeAll { !$0.available }
        if eligible.contains(where: \.healthy) { eligible.removeAll { !$0.healthy } }
        guard !eligible.isEmpty else { return [] }
        // 3. Tiers, best first; within each, loaded first, then least busy (the fall-back order).
        eligible.sort { a, b in
            if a.priority != b.priority { return a.priority < b.priority }
            if a.loaded != b.loaded { return a.loaded }
            return Self.busier(b, than: a)
        }
        let tierEnd = eligible.firstIndex { $0.priority != eligible[0].priority } ?? eligible.count
        let tier = eligible[..<tierEnd]
        let anyLoaded = tier.contains { $0.loaded }
        let first: Int
        if let remembered, let position = tier.firstIndex(where: { $0.index == remembered }),
            tier[position].loaded || !anyLoaded
        {
            // 4. Stickiness: the conversation's prompt cache lives there.
            first = position
        } else {
            // 5. Loaded ones only, when any is (the sort put them first).
            let poolEnd = anyLoaded ? (tier.firstIndex { !$0.loaded } ?? tierEnd) : tierEnd
            let pool = tier[..<poolEnd]
            // 6.
            if let session {
                first = Self.rendezvous(pool, session: session)
            } else {
                first = Self.leastBusy(pool, random: random)
            }
        }
        var order = [eligible[first].index]
        order.reserveCapacity(min(maxAttempts, eligible.count))
        for (position, candidate) in eligible.enumerated() where position != first {
            guard order.count < maxAttempts else { break }
            order.append(candidate.index)
        }
        return order
    }

    /// Whether `a` has more in flight per unit of weight than `b` (cross-multiplied: no division).
    /// Idle backends tie, so that the weighted draw shares sequential traffic by weight.
    static func busier(_ a: RoutingCandidate, than b: RoutingCandidate) -> Bool {
        a.inFlight * max(b.weight, 1) > b.inFlight * max(a.weight, 1)
    }

    /// The least busy of `pool` (a position in the array the slice belongs to), ties broken at random
    /// in proportion to weight, so that idle backends share the traffic as their weights say.
    static func leastBusy(_ pool: ArraySlice<RoutingCandidate>, random: UInt64) -> Int {
        // The pool is sorted least busy first: the ties are its leading run.
        let best = pool[pool.startIndex]
        var tieEnd = pool.startIndex + 1
        var totalWeight = UInt64(max(best.weight, 1))
        while tieEnd < pool.endIndex, !busier(pool[tieEnd], than: best) {
            totalWeight += UInt64(max(pool[tieEnd].weight, 1))
            tieEnd += 1
        }
        guard tieEnd - pool.startIndex > 1 else { return pool.startIndex }
        var ticket = random % totalWeight
        for position in pool.startIndex..<tieEnd {
            let weight = UInt64(max(pool[position].weight, 1))
            if ticket < weight { return position }
            ticket -= weight
        }
        return pool.startIndex
    }

    /// Weighted rendezvous hashing: each backend scores `-ln(u) / weight` with `u` drawn from the hash
    /// of (session, backend); the lowest wins. A session keeps its backend while that backend stays
    /// in the pool, and losing one backend moves only its own sessions.
    static func rendezvous(_ pool: ArraySlice<RoutingCandidate>, session: UInt64) -> Int {
        var best = pool.startIndex
        var bestScore = Double.infinity
        for position in pool.indices {
            let mixed = StableHash.mix(session ^ pool[position].nameHash)
            // 53 random bits in (0, 1].
            let unit = (Double(mixed >> 11) + 1) / 9_007_199_254_740_992.0
            let score = -log(unit) / Double(max(pool[position].weight, 1))
            if score < bestScore {
                bestScore = score
                best = position
            }
        }
        return best
    }
}

/// Hashes that are the same in every process (Swift's `Hasher` is seeded per process, and gateway
/// instances must agree on where a session goes).
enum StableHash {
    /// FNV-1a, 64 bits.
    static func of(_ text: some StringProtocol, into seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        of(bytes: text.utf8, into: seed)
    }

    static func of(bytes: some Sequence<UInt8>, into seed: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
        var hash = seed
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    /// SplitMix64's finalizer: spreads FNV's weak low bits over the whole word.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
