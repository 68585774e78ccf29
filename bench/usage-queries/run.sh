#!/usr/bin/env bash
# Times every usage query the admin UI draws, on a database filled with N realistic rows.
#
#   bench/usage-queries/run.sh [--rows N] [--engine sqlite|postgres|both] [--iterations N] [--quick]
#
# --quick is a smoke test for CI: 20,000 rows, 3 iterations. PostgreSQL: DATABASE_URL when set (a new
# schema is created in it and dropped afterwards), otherwise a throwaway server started with
# scripts/postgres-test-server.sh and stopped at the end. Prints a Markdown table on stdout; progress
# goes to stderr.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ROWS=1000000
ENGINE=both
ITERATIONS=7
EXTRA=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --rows) ROWS="$2"; shift 2 ;;
        --engine) ENGINE="$2"; shift 2 ;;
        --iterations) ITERATIONS="$2"; shift 2 ;;
        --quick) ROWS=20000; ITERATIONS=3; shift ;;
        --batch|--seed) EXTRA+=("$1" "$2"); shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
case "$ENGINE" in sqlite|postgres|both) ;; *) echo "--engine sqlite|postgres|both" >&2; exit 2 ;; esac

log() { printf 'run.sh: %s\n' "$*" >&2; }

cd "$ROOT"
log "building usage-bench (release)"
swift build -c release --product usage-bench >&2
BIN="$(swift build -c release --show-bin-path)/usage-bench"

log "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo), $(uname -sr)"
HEADER=()

run_sqlite() {
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/usage-bench-sqlite.XXXXXX")
    trap 'rm -rf "$dir"' RETURN
    "$BIN" --engine sqlite --data-dir "$dir" --rows "$ROWS" --iterations "$ITERATIONS" ${EXTRA[@]+"${EXTRA[@]}"} ${HEADER[@]+"${HEADER[@]}"}
}

PG_STARTED_DIR=""
stop_postgres() {
    if [[ -n "$PG_STARTED_DIR" ]]; then
        "$ROOT/scripts/postgres-test-server.sh" stop "$PG_STARTED_DIR" >&2 || true
        PG_STARTED_DIR=""
    fi
}
trap stop_postgres EXIT

run_postgres() {
    local url schema
    if [[ -n "${DATABASE_URL:-}" ]]; then
        url="$DATABASE_URL"
    else
        local env_file
        env_file=$(mktemp "${TMPDIR:-/tmp}/usage-bench-pg.XXXXXX")
        PG_TEST_STATE_FILE="$env_file.state" "$ROOT/scripts/postgres-test-server.sh" start >"$env_file"
        # shellcheck disable=SC1090
        source "$env_file"
        rm -f "$env_file" "$env_file.state"
        PG_STARTED_DIR="$PG_TEST_DIR"
        url="$TEST_DATABASE_URL"
    fi
    # A schema of its own, so that an existing database is never touched.
    schema="usage_bench_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
    local separator="?"
    [[ "$url" == *"?"* ]] && separator="&"
    "$BIN" --engine postgres --database-url "${url}${separator}schema=${schema}" --rows "$ROWS" \
        --iterations "$ITERATIONS" ${EXTRA[@]+"${EXTRA[@]}"} ${HEADER[@]+"${HEADER[@]}"}
    if [[ -n "$PG_STARTED_DIR" ]]; then
        stop_postgres  # the whole throwaway server goes
    else
        local psql
        psql=$(command -v psql || ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1 || true)
        if [[ -n "$psql" ]] && "$psql" "$url" -q -c "DROP SCHEMA $schema CASCADE" >&2; then
            log "dropped schema $schema"
        else
            log "drop the benchmark's schema yourself: DROP SCHEMA $schema CASCADE"
        fi
    fi
}

if [[ "$ENGINE" == sqlite || "$ENGINE" == both ]]; then
    run_sqlite
    HEADER=(--no-header)
fi
if [[ "$ENGINE" == postgres || "$ENGINE" == both ]]; then
    run_postgres
fi
