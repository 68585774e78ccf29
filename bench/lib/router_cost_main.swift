// The driver of bench/router-cost.sh: times the routing policy, compiled with -O.
import Foundation
let policy = RoutingPolicy(maxAttempts: 3)
let candidates = (0..<4).map { RoutingCandidate(index: $0, weight: 1 + $0 % 2, loaded: $0 == 3, inFlight: $0, nameHash: StableHash.mix(UInt64($0))) }
var sink = 0
var state: UInt64 = 1
let rounds = 2_000_000
let start = ContinuousClock.now
for round in 0..<rounds {
    state &+= 0x9e37_79b9_7f4a_7c15
    let session: UInt64? = round % 2 == 0 ? nil : StableHash.mix(state)
    sink &+= policy.order(candidates, session: session, random: state)[0]
}
let elapsed = ContinuousClock.now - start
print("routing policy, 4 backends: ns per decision:", Double(elapsed.components.attoseconds) / 1e9 / Double(rounds) + Double(elapsed.components.seconds) * 1e9 / Double(rounds), sink % 2)
