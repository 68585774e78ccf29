import Foundation
import Testing

@testable import Gateway

/// The routing rules, one by one, on snapshots: no sockets, no clock.
@Suite("Routing policy")
struct RoutingPolicyTests {
    let policy = RoutingPolicy(maxAttempts: 3)

    func candidate(
        _ index: Int, priority: Int = 0, weight: Int = 1, available: Bool = true, healthy: Bool = true,
        hasModel: Bool? = true, loaded: Bool = false, inFlight: Int = 0
    ) -> RoutingCandidate {
        RoutingCandidate(
            index: index, priority: priority, weight: weight, available: available, healthy: healthy, hasModel: hasModel,
            loaded: loaded,
            inFlight: inFlight, nameHash: StableHash.mix(StableHash.of("backend-\(index)")))
    }

    @Test("only backends that have the model are tried")
    func hasModel() {
        let order = policy.order([candidate(0, hasModel: false), candidate(1), candidate(2, hasModel: false)], random: 0)
        #expect(order == [1])
    }

    @Test("when no list has the model, backends whose list is unknown are tried; when every list is known, all are")
    func unknownLists() {
        #expect(policy.order([candidate(0, hasModel: false), candidate(1, hasModel: nil)], random: 0) == [1])
        #expect(Set(policy.order([candidate(0, hasModel: false), candidate(1, hasModel: false)], random: 0)) == [0, 1])
    }

    @Test("backends cooling down are never tried; none left is an empty plan")
    func unavailable() {
        #expect(policy.order([candidate(0, available: false), candidate(1)], random: 0) == [1])
        #expect(policy.order([candidate(0, available: false), candidate(1, available: false)], random: 0).isEmpty)
        #expect(policy.order([], random: 0).isEmpty)
        // A backend that is up but lacks the model does not stand in for one that has it but is down.
        #expect(policy.order([candidate(0, available: false), candidate(1, hasModel: false)], random: 0).isEmpty)
    }

    @Test("a backend whose probe failed is tried only when no healthy one is left")
    func unhealthyLastResort() {
        #expect(policy.order([candidate(0, healthy: false, loaded: true), candidate(1)], random: 0) == [1])
        #expect(policy.order([candidate(0, healthy: false), candidate(1, priority: 1, healthy: false)], random: 0) == [0, 1])
        #expect(policy.order([candidate(0, available: false), candidate(1, healthy: false)], random: 0) == [1])
    }

    @Test("a backend with the model loaded wins over an idle one without")
    func loadedFirst() {
        for random in [0, 1, 2, 3, UInt64.max] as [UInt64] {
            let order = policy.order([candidate(0, inFlight: 0), candidate(1, loaded: true, inFlight: 5)], random: random)
            #expect(order == [1, 0])
        }
    }

    @Test("among equals, the least busy (requests in flight from this gateway)")
    func leastBusy() {
        let order = policy.order([candidate(0, inFlight: 3), candidate(1, inFlight: 1), candidate(2, inFlight: 2)], random: 0)
        #expect(order == [1, 2, 0])
    }

    @Test("busy is relative to weight: 3 in flight on weight 4 is less busy than 1 on weight 1")
    func weightedBusy() {
        let order = policy.order([candidate(0, weight: 1, inFlight: 1), candidate(1, weight: 4, inFlight: 3)], random: 0)
        #expect(order.first == 1)
    }

    @Test("idle backends share the traffic in proportion to their weights")
    func weightedShares() {
        var counts = [0, 0]
        var generator = SplitMix(seed: 42)
        for _ in 0..<10_000 {
            let order = policy.order([candidate(0, weight: 1), candidate(1, weight: 3)], random: generator.next())
            counts[order[0]] += 1
        }
        #expect((2_300...2_700).contains(counts[0]), "\(counts)")
        #expect((7_300...7_700).contains(counts[1]), "\(counts)")
    }

    @Test("the best priority tier is used while it has an available backend; the next tier is the fall-back")
    func priorityTiers() {
        let candidates = [candidate(0, priority: 1, loaded: true), candidate(1, priority: 0, inFlight: 9), candidate(2, priority: 2)]
        #expect(policy.order(candidates, random: 0) == [1, 0, 2])
        var failing = candidates
        failing[1].available = false
        #expect(policy.order(failing, random: 0) == [0, 2])
    }

    @Test("fall-backs are ordered by tier, then loaded, then least busy, and cut at maxAttempts")
    func fallbackOrder() {
        let candidates = [
            candidate(0, priority: 1, inFlight: 0), candidate(1, priority: 0, inFlight: 2), candidate(2, priority: 0, loaded: true, inFlight: 5),
            candidate(3, priority: 0, inFlight: 1), candidate(4, priority: 1, loaded: true),
        ]
        #expect(policy.order(candidates, random: 0) == [2, 3, 1])
        #expect(RoutingPolicy(maxAttempts: 10).order(candidates, random: 0) == [2, 3, 1, 4, 0])
        #expect(RoutingPolicy(maxAttempts: 1).order(candidates, random: 0) == [2])
        #expect(RoutingPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test("a session's remembered backend wins while it is available and in the best tier")
    func rememberedSession() {
        let candidates = [candidate(0, inFlight: 0), candidate(1, inFlight: 7)]
        #expect(policy.order(candidates, session: 99, remembered: 1, random: 0).first == 1)
        var down = candidates
        down[1].available = false
        #expect(policy.order(down, session: 99, remembered: 1, random: 0) == [0])
        // A better tier that became available again wins over the remembered backend.
        let tiers = [candidate(0, priority: 0), candidate(1, priority: 1)]
        #expect(policy.order(tiers, session: 99, remembered: 1, random: 0).first == 0)
    }

    @Test("a remembered backend that no longer has the model loaded yields to one that has it (its cache is gone)")
    func rememberedButUnloaded() {
        let candidates = [candidate(0, loaded: true), candidate(1, loaded: false)]
        #expect(policy.order(candidates, session: 1, remembered: 1, random: 0).first == 0)
        // …but not when none has it loaded.
        let cold = [candidate(0), candidate(1)]
        #expect(policy.order(cold, session: 1, remembered: 1, random: 0).first == 1)
    }

    @Test("a new session is placed by its hash: the same backend whatever the load or the random number")
    func sessionHash() {
        let candidates = (0..<4).map { candidate($0) }
        for session in [1, 2, 3, 12345, .max] as [UInt64] {
            let first = policy.order(candidates, session: session, random: 0)[0]
            var busy = candidates
            for index in busy.indices where index != first { busy[index].inFlight = 0 }
            busy[first].inFlight = 50
            for random in [0, 7, .max] as [UInt64] {
                #expect(policy.order(busy, session: session, random: random)[0] == first)
            }
        }
        // Sessions spread over the backends.
        let firsts = Set((0..<200).map { policy.order(candidates, session: StableHash.mix(UInt64($0)), random: 0)[0] })
        #expect(firsts == [0, 1, 2, 3])
    }

    @Test("losing a backend moves only the sessions that were on it")
    func sessionHashStability() {
        let all = (0..<4).map { candidate($0) }
        var lost = all
        lost[2].available = false
        for seed in 0..<500 {
            let session = StableHash.mix(UInt64(seed))
            let before = policy.order(all, session: session, random: 0)[0]
            let after = policy.order(lost, session: session, random: 0)[0]
            if before != 2 { #expect(after == before) }
        }
    }

    @Test("a session hash still prefers loaded backends")
    func sessionHashPrefersLoaded() {
        let candidates = [candidate(0), candidate(1, loaded: true), candidate(2)]
        for session in 0..<50 as Range<UInt64> {
            #expect(policy.order(candidates, session: StableHash.mix(session), random: 0)[0] == 1)
        }
    }

    @Test("session shares follow weights")
    func sessionWeights() {
        var counts = [0, 0]
        let candidates = [candidate(0, weight: 1), candidate(1, weight: 3)]
        for seed in 0..<8_000 as Range<UInt64> {
            counts[policy.order(candidates, session: StableHash.mix(seed), random: 0)[0]] += 1
        }
        #expect((1_700...2_300).contains(counts[0]), "\(counts)")
    }

    @Test("stable hashes do not depend on the process")
    func stableHash() {
        #expect(StableHash.of("") == 0xcbf2_9ce4_8422_2325)
        #expect(StableHash.of("a") == 0xaf63_dc4c_8601_ec8c)
    }

    /// The router's own cost per decision in this (debug) build; the bound is loose so that a busy
    /// machine does not fail it, while a regression to milliseconds would. The optimized figure (the
    /// 5 µs target) comes from bench/router-cost.sh.
    @Test("cost per routing decision")
    func cost() {
        let candidates = (0..<4).map { candidate($0, weight: 1 + $0 % 2, loaded: $0 == 3, inFlight: $0) }
        var generator = SplitMix(seed: 1)
        let rounds = 200_000
        var sink = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for round in 0..<rounds {
                let session: UInt64? = round % 2 == 0 ? nil : generator.next()
                sink &+= policy.order(candidates, session: session, random: generator.next())[0]
            }
        }
        let nanoseconds = Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9
        let perDecision = nanoseconds / Double(rounds)
        print("routing policy: \(Int(perDecision)) ns per decision over 4 backends (\(sink % 2))")
        #expect(perDecision < 200_000)
    }
}

/// A small seeded generator, so that the share tests are repeatable.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        return StableHash.mix(state)
    }
}
