#!/usr/bin/env bash
# Times the admin console's pages, rendered by a release gateway on a usage log of N rows (filled by
# usage-bench), and weighs them: the targets are < 50 ms per page server-side and < 150 KB per page
# (HTML, stylesheet and script together, uncompressed).
#
#   bench/console-pages/run.sh [--rows N] [--iterations N] [--database-url URL] [--quick] [--bin-dir DIR]
#
# SQLite by default (a temporary data directory); PostgreSQL with --database-url (a new schema in it,
# left for you to drop; a URL that names a `schema=` is measured as it is, without filling).
# --quick: 20,000 rows, 3 iterations. Prints a Markdown table on stdout; progress goes to stderr.
# Ollama is not needed (the overview reports it unreachable at once).
# --bin-dir takes usage-bench and ollama-gateway from DIR instead of building them (release).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROWS=1000000
ITERATIONS=7
DATABASE_URL_ARG=""
BIN_DIR=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --iterations) ITERATIONS="$2"; shift 2 ;;
        --database-url) DATABASE_URL_ARG="$2"; shift 2 ;;
        --quick) ROWS=20000; ITERATIONS=3; shift ;;
        --bin-dir) BIN_DIR="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

log() { printf 'console-pages: %s\n' "$*" >&2; }

cd "$ROOT"
if [[ -z "$BIN_DIR" ]]; then
    log "building usage-bench and ollama-gateway (release)"
    swift build -c release --product usage-bench >&2
    swift build -c release --product ollama-gateway >&2
    BIN_DIR="$(swift build -c release --show-bin-path)"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/console-pages.XXXXXX")
GATEWAY_PID=""
cleanup() {
    [[ -n "$GATEWAY_PID" ]] && kill "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

STORE_ARGS=(--data-dir "$WORK/data")
if [[ -n "$DATABASE_URL_ARG" ]]; then
    if [[ "$DATABASE_URL_ARG" == *"schema="* ]]; then
        # A schema named in the URL: filled by an earlier run (which printed its name), measured again.
        url="$DATABASE_URL_ARG"
        log "measuring the schema the URL names, as it is"
    else
        schema="console_bench_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
        separator="?"; [[ "$DATABASE_URL_ARG" == *"?"* ]] && separator="&"
        url="${DATABASE_URL_ARG}${separator}schema=${schema}"
        log "filling PostgreSQL schema $schema with $ROWS rows (drop it afterwards: DROP SCHEMA $schema CASCADE)"
        "$BIN_DIR/usage-bench" --engine postgres --database-url "$url" --rows "$ROWS" --iterations 1 >/dev/null
    fi
    # serve reads the database URL from DATABASE_URL (a secret: it has no flag).
    export DATABASE_URL="$url"
    ENGINE=postgres
else
    log "filling SQLite with $ROWS rows"
    "$BIN_DIR/usage-bench" --engine sqlite --data-dir "$WORK/data" --rows "$ROWS" --iterations 1 >/dev/null
    ENGINE=sqlite
fi

PASSWORD="console-bench-password"
ADMIN_PASSWORD="$PASSWORD" BCRYPT_COST=4 LOG_LEVEL=error "$BIN_DIR/ollama-gateway" serve --port 0 \
    --ollama-url http://127.0.0.1:9 "${STORE_ARGS[@]}" >"$WORK/gateway.out" 2>"$WORK/gateway.err" &
GATEWAY_PID=$!
BASE=""
for _ in $(seq 1 200); do
    BASE=$(grep -o 'listening on http://[^ ]*' "$WORK/gateway.out" | head -n1 | sed 's/listening on //' || true)
    [[ -n "$BASE" ]] && break
    sleep 0.1
done
[[ -n "$BASE" ]] || { cat "$WORK/gateway.err" >&2; echo "the gateway did not start" >&2; exit 1; }
log "gateway at $BASE"

JAR="$WORK/cookies"
token=$(curl -sf -c "$JAR" "$BASE/admin/login" | grep -o 'name="_csrf" value="[^"]*"' | head -n1 | sed 's/.*value="//; s/"$//')
curl -sf -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "_csrf=$token" --data-urlencode "username=admin" \
    --data-urlencode "password=$PASSWORD" "$BASE/admin/login"

ASSETS=0
for asset in console.css console.js; do
    ASSETS=$((ASSETS + $(curl -sf -b "$JAR" "$BASE/admin/assets/$asset" | wc -c)))
done
first_request=$(curl -sf -b "$JAR" "$BASE/admin/requests" | grep -o '/admin/requests/detail?id=[^"]*' | head -n1 || true)
PAGES=("/admin/?range=1h" "/admin/?range=24h" "/admin/?range=30d" "/admin/keys" "/admin/models" "/admin/backends" "/admin/requests"
    "/admin/requests?status=5xx&range=30d" "/admin/audit" "/admin/settings" "/admin/playground")
[[ -n "$first_request" ]] && PAGES+=("$first_request")

echo "Console pages, $ENGINE, $ROWS usage rows, median of $ITERATIONS (server time to the last byte)"
echo
echo "| page | median ms | max ms | HTML KB | with CSS+JS KB | targets |"
echo "|---|---:|---:|---:|---:|---|"
for page in "${PAGES[@]}"; do
    curl -sf -o /dev/null -b "$JAR" "$BASE$page"  # warm
    times=()
    size=0
    for _ in $(seq 1 "$ITERATIONS"); do
        read -r total bytes < <(curl -sf -o /dev/null -b "$JAR" -w '%{time_total} %{size_download}\n' "$BASE$page")
        times+=("$(awk -v t="$total" 'BEGIN { printf "%.1f", t * 1000 }')")
        size=$bytes
    done
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    max=$(echo "$sorted" | tail -n1)
    kb=$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1024 }')
    total_kb=$(awk -v b="$size" -v a="$ASSETS" 'BEGIN { printf "%.1f", (a + b) / 1024 }')
    verdict=$(awk -v m="$median" -v k="$total_kb" 'BEGIN { print ((m < 50 ? "ok" : "SLOW") " / " (k < 150 ? "ok" : "HEAVY")) }')
    echo "| \`${page}\` | $median | $max | $kb | $total_kb | $verdict |"
done
