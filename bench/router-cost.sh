#!/usr/bin/env bash
# The router's own cost per decision, optimized as in a release build: compiles the routing policy
# (Sources/Gateway/Backends/RoutingPolicy.swift) with a small driver and times 2,000,000 decisions over
# 4 backends (half of them with a session). Seconds, not minutes: no need to build the whole gateway.
#
#   bench/router-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Top-level code must be in a file named main.swift.
cp bench/lib/router_cost_main.swift "$work/main.swift"
swiftc -O -module-name RouterCost Sources/Gateway/Backends/RoutingPolicy.swift "$work/main.swift" -o "$work/router-cost"
"$work/router-cost"
