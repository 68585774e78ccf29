#!/usr/bin/env bash
# Compares two gateway binaries in one run: both serve the same simulator at once, and wrk loads
# them in turn, round after round, so the machine's load falls on both alike. Prints requests/s,
# CPU per request (user + system, from /proc) and p50 / p99 latency of every round.
#
#   bench/compare.sh OLD_BINARY NEW_BINARY [CONNECTIONS=16] [ROUNDS=3] [PATH=/v1/chat/completions]
#
# Streams: STREAM=1 asks for streamed answers, TOKENS=N sets the answer's length (32 by default):
# with many tokens, CPU per request over N is CPU per relayed chunk. MODEL=sim-think answers with
# thinking first (the simulator's models: docs/ollama-sim.md).
# Environment for one side only: ENV_A / ENV_B (e.g. ENV_B="LOG_LEVEL=warning"). Needs wrk, and
# the release ollama-sim (swift build -c release --product ollama-sim).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,9p' "$0"; exit 2; }
A=$(realpath "$1"); B=$(realpath "$2"); connections=${3:-16}; rounds=${4:-3}; path=${5:-/v1/chat/completions}
sim="$(swift build -c release --show-bin-path)/ollama-sim"
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

wait_port() {  # log file → port of its "listening on http://HOST:PORT" line
  for _ in $(seq 1 600); do
    if grep -q 'listening on http://' "$1" 2>/dev/null; then
      grep -o 'listening on http://[^ ]*' "$1" | head -1 | sed 's/.*://'; return
    fi
    sleep 0.1
  done
  echo "no listening line in $1" >&2; exit 1
}

"$sim" --port 0 --tokens "${TOKENS:-32}" >"$work/sim.log" 2>&1 &
pids+=($!)
upstream="http://127.0.0.1:$(wait_port "$work/sim.log")"
declare -A port pid key
for side in A B; do
  binary=${!side}; extra="ENV_$side"
  export DATA_DIR="$work/data-$side" OLLAMA_URL="$upstream"
  key[$side]=$("$binary" keys create --name compare | tail -1)
  env ${!extra:-} "$binary" serve --port 0 >"$work/gateway-$side.log" 2>&1 &
  pid[$side]=$!
  pids+=($!)
  port[$side]=$(wait_port "$work/gateway-$side.log")
done
model=${MODEL:-sim-chat}
case "$path" in
  /v1/messages) body='{"model":"'"$model"'","max_tokens":1024,"messages":[{"role":"user","content":"Say something."}]}' ;;
  /v1/responses) body='{"model":"'"$model"'","input":"Say something.","store":false}' ;;
  *) body='{"model":"'"$model"'","messages":[{"role":"user","content":"Say something."}]}' ;;
esac
if [ "${STREAM:-0}" = 1 ]; then body="${body%\}},\"stream\":true}"; fi
printf '%s' "$body" >"$work/body.json"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
load() {  # side seconds
  BENCH_BODY="$work/body.json" BENCH_KEY="${key[$1]}" BENCH_OUT="$work/wrk.json" \
    wrk -t1 -c"$connections" -d"$2"s -s bench/lib/wrk.lua "http://127.0.0.1:${port[$1]}$path" >/dev/null
}
echo "A = $A"
echo "B = $B"
for round in $(seq 1 "$rounds"); do
  for side in A B; do
    load "$side" 1
    before=$(cpu_ticks "${pid[$side]}")
    load "$side" 5
    after=$(cpu_ticks "${pid[$side]}")
    python3 - "$work/wrk.json" "$side" "$round" "$((after - before))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
result, side, round_, ticks, hz = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
requests = result["requests"]
print(f"{side} round {round_}: {requests / (result['duration_us'] / 1e6):7.0f} req/s  "
      f"{ticks / hz * 1e6 / max(requests, 1):5.0f} µs CPU/request  p50 {result['latency_us']['p50']} µs  "
      f"p99 {result['latency_us']['p99']} µs  "
      f"errors {sum(result['errors'].values())}")
PY
  done
done
