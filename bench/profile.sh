#!/usr/bin/env bash
# Profiles the gateway's hot path with callgrind on the release binary under a bounded load, and
# prints the top functions by inclusive cost. Collection starts after start-up and a warm-up.
#
#   bench/profile.sh nonstreaming [REQUESTS]   # /v1/chat/completions, stream:false (default 2000)
#   bench/profile.sh streaming [REQUESTS]      # 1,000-token streams (default 40)
#   bench/profile.sh messages [REQUESTS]       # /v1/messages, non-streaming
# Output: bench/results/profile-<scenario>/callgrind.out and annotate.txt. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-nonstreaming}
case "$scenario" in
  nonstreaming) requests=${2:-2000}; path=/v1/chat/completions
    body='{"model":"sim-chat","messages":[{"role":"user","content":"Say something."}]}' ;;
  messages) requests=${2:-2000}; path=/v1/messages
    body='{"model":"sim-chat","max_tokens":1024,"messages":[{"role":"user","content":"Say something."}]}' ;;
  streaming) requests=${2:-40}; path=/v1/chat/completions
    body='{"model":"sim-chat","messages":[{"role":"user","content":"Say something."}],"stream":true,"options":{"sim_tokens":1000}}' ;;
  *) echo "unknown scenario: $scenario" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "profile: valgrind is missing (apt-get install -y valgrind)" >&2; exit 1; }

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
  for _ in $(seq 1 3000); do
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
valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out/callgrind.out" \
  "$bin/ollama-gateway" serve --port 0 >"$work/gateway.log" 2>&1 &
gateway=$!
pids+=($gateway)
port=$(wait_port "$work/gateway.log")

send() {  # count
  python3 - "$port" "$path" "$body" "$key" "$1" <<'PY'
import socket, sys
port, path, body, key, count = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4], int(sys.argv[5])
request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
           f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
failed = 0
for _ in range(count):
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(request)
        data = b"".join(iter(lambda: s.recv(65536), b""))
    failed += not data.startswith(b"HTTP/1.1 200")
sys.exit(1 if failed else 0)
PY
}
send 50   # warm-up: model discovery, key cache, connection pool
callgrind_control -i on "$gateway" >/dev/null
send "$requests"
callgrind_control -i off "$gateway" >/dev/null
kill -TERM "$gateway"
wait "$gateway" 2>/dev/null || true
callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null | head -80 >"$out/annotate.txt"
cat "$out/annotate.txt"
echo "profile: $out/callgrind.out ($requests requests)" >&2
