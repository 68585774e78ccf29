#!/usr/bin/env bash
# Profiles the gateway's hot path on the release binary under a bounded load (wrk, or the streaming
# client), sampling with perf (cpu-clock, frame-pointer call graphs), and prints the top functions by
# inclusive cost. valgrind --tool=callgrind would be exact, but Debian 12's valgrind 3.19 cannot read
# the DWARF 5 that Swift 6.3 emits and crashes on the binary even with the debug info stripped.
#
#   bench/profile.sh nonstreaming [SECONDS]   # /v1/chat/completions, stream:false, 16 connections (default 8 s)
#   bench/profile.sh messages [SECONDS]       # /v1/messages, non-streaming
#   bench/profile.sh streaming [SECONDS]      # 1,000-token streams, 16 at once
# Output: bench/results/profile-<scenario>/perf.data and report.txt. Needs perf (Debian: linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-nonstreaming}
seconds=${2:-8}
prompt='"messages":[{"role":"user","content":"Say something."}]'
case "$scenario" in
  nonstreaming) path=/v1/chat/completions; body="{\"model\":\"sim-chat\",$prompt}" ;;
  messages) path=/v1/messages; body="{\"model\":\"sim-chat\",\"max_tokens\":1024,$prompt}" ;;
  streaming) path=/v1/chat/completions; body="{\"model\":\"sim-chat\",$prompt,\"stream\":true,\"options\":{\"sim_tokens\":1000}}" ;;
  *) echo "unknown scenario: $scenario" >&2; exit 2 ;;
esac
command -v perf >/dev/null || { echo "profile: perf is missing (apt-get install -y linux-perf)" >&2; exit 1; }

# One product per invocation: swift build honours only the last --product.
swift build -c release --product ollama-gateway >&2
swift build -c release --product ollama-sim >&2
bin=$(swift build -c release --show-bin-path)
out="bench/results/profile-$scenario"
mkdir -p "$out"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_port() {  # file → port from its "listening on http://HOST:PORT" line
  for _ in $(seq 1 600); do
    if grep -q 'listening on http://' "$1" 2>/dev/null; then
      grep -o 'listening on http://[^ ]*' "$1" | head -1 | sed 's/.*://'; return
    fi
    sleep 0.1
  done
  echo "no listening line in $1" >&2; exit 1
}

"$bin/ollama-sim" --port 0 --tokens 32 >"$work/sim.log" 2>&1 &
pids+=($!)
sim_port=$(wait_port "$work/sim.log")
export DATA_DIR="$work/data" OLLAMA_URL="http://127.0.0.1:$sim_port"
key=$("$bin/ollama-gateway" keys create --name profile | tail -1)
"$bin/ollama-gateway" serve --port 0 >"$work/gateway.log" 2>&1 &
gateway=$!
pids+=($gateway)
port=$(wait_port "$work/gateway.log")
printf '%s' "$body" >"$work/body.json"

load() {  # seconds
  if [ "$scenario" = streaming ]; then
    python3 - "$port" "$path" "$work/body.json" "$key" "$1" <<'PY'
import sys
sys.path.insert(0, "bench/lib")
import clients
port, path, body, key, seconds = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read(), sys.argv[4], int(sys.argv[5])
request = clients.http_request("127.0.0.1", port, path, body, key)
print(clients.stream_load("127.0.0.1", port, request, b"data: [DONE]", 16, seconds), file=sys.stderr)
PY
  else
    BENCH_BODY="$work/body.json" BENCH_KEY="$key" BENCH_OUT="$work/wrk.json" \
      wrk -t1 -c16 -d"$1"s -s bench/lib/wrk.lua "http://127.0.0.1:$port$path" >/dev/null
    cat "$work/wrk.json" >&2
  fi
}
load 2   # warm-up: model discovery, key cache, connection pool
load $((seconds + 2)) &
loader=$!
sleep 1
perf record -e cpu-clock -F 1999 --call-graph=fp -p "$gateway" -o "$out/perf.data" -- sleep "$seconds" 2>/dev/null
wait "$loader"
perf report -i "$out/perf.data" --children --stdio -g none --percent-limit 1 >"$out/report-full.txt" 2>/dev/null
grep -v '^#' "$out/report-full.txt" | grep -v '^$' | head -120 >"$out/report.txt" || true
cat "$out/report.txt"
echo "profile: $out/perf.data (${seconds} s of samples)" >&2
