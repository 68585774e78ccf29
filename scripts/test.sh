#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, router, live against ollama-sim, storage on SQLite and
# PostgreSQL) and the end-to-end suite with the official Python SDKs.
# Works on a fresh Debian machine: it installs what is missing (PostgreSQL, Chromium, a Python venv).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

# A throwaway PostgreSQL for the storage tests on the second engine.
if [ -x scripts/postgres-test-server.sh ]; then
  step "starting a throwaway PostgreSQL"
  eval "$(scripts/postgres-test-server.sh start)"
  trap 'scripts/postgres-test-server.sh stop >/dev/null 2>&1 || true' EXIT
  export REQUIRE_POSTGRES=1
fi

step "building"
swift build --build-tests

step "Swift tests"
# At most 8 tests at once: unbounded, the live suites start dozens of gateways and simulators together
# on a two-core machine, and their timing checks (heartbeats, read timeouts, readiness probes) failed
# now and then. The whole run takes as long either way (about 50 s here).
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8}"
swift test --skip-build

# The admin console's browser suite drives headless Chromium.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    step "installing chromium and chromium-driver"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "chromium or chromedriver is missing: e2e/test_console_browser.py will skip (apt-get install chromium chromium-driver)" >&2
  fi
fi

step "end-to-end tests with the official SDKs"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r e2e/requirements.txt
export OLLAMA_SIM_BIN="$root/.build/debug/ollama-sim"
export OLLAMA_GATEWAY_BIN="$root/.build/debug/ollama-gateway"
.venv/bin/python -m pytest -q e2e
