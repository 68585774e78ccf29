#!/usr/bin/env bash
# A throwaway PostgreSQL server for the store tests: loopback only, a random port and password, its
# data in a temporary directory, fsync off (nothing here needs to survive a crash).
#
#   eval "$(scripts/postgres-test-server.sh start)"   # exports TEST_DATABASE_URL and PG_TEST_DIR
#   REQUIRE_POSTGRES=1 swift test --filter GatewayStoreTests
#   scripts/postgres-test-server.sh stop              # stops it and deletes its directory
#
# Works on a fresh Debian/Ubuntu machine as root (CI): installs the `postgresql` package when no server
# binaries are found, and runs the server as the unprivileged `postgres` user (PostgreSQL refuses root).
# Only the export lines go to stdout; progress and errors go to stderr.
set -euo pipefail

STATE_FILE="${PG_TEST_STATE_FILE:-${TMPDIR:-/tmp}/ollama-gateway-postgres-test.dir}"
DB_USER="gateway"
DB_NAME="gateway_test"

log() { printf 'postgres-test-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_bin_dir() {
    local dir
    # Debian keeps each major version apart; take the newest.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return 0; fi
    done
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"; return 0
    fi
    return 1
}

install_postgres() {
    [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; run as root or: sudo apt-get install -y postgresql"
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is not available"
    log "installing postgresql with apt-get"
    # The package may try to start its own cluster; in a container without an init system that is
    # harmlessly refused. This script never uses that cluster.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a command as the server's user: `postgres` when we are root, ourselves otherwise.
as_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        if command -v runuser >/dev/null; then
            runuser -u "$SERVER_USER" -- "$@"
        else
            su -s /bin/sh "$SERVER_USER" -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

port_is_free() {
    # Nothing answering on the port (a connection attempt fails) is a good enough test; `pg_ctl start`
    # failing on a race is handled by trying the next port.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    local bin_dir dir password port attempt
    if ! bin_dir=$(find_bin_dir); then
        install_postgres
        bin_dir=$(find_bin_dir) || die "no initdb/pg_ctl found after installing postgresql"
    fi

    if [[ $(id -u) -eq 0 ]]; then
        SERVER_USER=postgres
        if ! id "$SERVER_USER" >/dev/null 2>&1; then
            useradd --system --no-create-home --shell /usr/sbin/nologin "$SERVER_USER"
        fi
    else
        SERVER_USER=$(id -un)
    fi

    dir=$(mktemp -d "${TMPDIR:-/tmp}/ollama-gateway-pg.XXXXXX")
    chmod 700 "$dir"
    [[ $(id -u) -eq 0 ]] && chown "$SERVER_USER" "$dir"

    password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    printf '%s\n' "$password" >"$dir/pwfile"
    chmod 600 "$dir/pwfile"
    [[ $(id -u) -eq 0 ]] && chown "$SERVER_USER" "$dir/pwfile"

    log "initialising a cluster in $dir with $bin_dir"
    as_server_user "$bin_dir/initdb" -D "$dir/data" -U "$DB_USER" --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    rm -f "$dir/pwfile"

    for attempt in $(seq 1 20); do
        port=$((20000 + RANDOM % 40000))
        port_is_free "$port" || continue
        if as_server_user "$bin_dir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir'" \
            -o "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
            start >&2; then
            break
        fi
        log "could not start on port $port (attempt $attempt), trying another"
        port=""
    done
    [[ -n "${port:-}" ]] || { tail -n 30 "$dir/server.log" >&2 || true; die "the server did not start"; }

    PGPASSWORD="$password" "$bin_dir/psql" -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres \
        -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB_NAME" >&2 || die "could not create database $DB_NAME"

    printf '%s\n' "$dir" >"$STATE_FILE"
    log "PostgreSQL is listening on 127.0.0.1:$port (stop with: $0 stop)"
    printf 'export PG_TEST_DIR=%q\n' "$dir"
    printf 'export TEST_DATABASE_URL=%q\n' \
        "postgres://$DB_USER:$password@127.0.0.1:$port/$DB_NAME?sslmode=disable"
}

stop() {
    local dir="${1:-${PG_TEST_DIR:-}}" bin_dir
    if [[ -z "$dir" && -f "$STATE_FILE" ]]; then dir=$(cat "$STATE_FILE"); fi
    [[ -n "$dir" ]] || die "no server to stop (no PG_TEST_DIR and no $STATE_FILE)"
    [[ -d "$dir/data" ]] || die "$dir holds no test cluster"
    case "$dir" in
        */ollama-gateway-pg.*) ;;
        *) die "refusing to delete $dir: not a directory made by this script" ;;
    esac
    bin_dir=$(find_bin_dir) || die "no pg_ctl found"
    SERVER_USER=$(stat -c %U "$dir/data")
    if as_server_user "$bin_dir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_server_user "$bin_dir/pg_ctl" -D "$dir/data" -m fast -w stop >&2
    fi
    rm -rf "$dir"
    if [[ -f "$STATE_FILE" && "$(cat "$STATE_FILE")" == "$dir" ]]; then rm -f "$STATE_FILE"; fi
    log "stopped and removed $dir"
}

case "${1:-}" in
    start) start ;;
    stop) shift; stop "${1:-}" ;;
    *) echo "usage: $0 start | stop [directory]" >&2; exit 2 ;;
esac
