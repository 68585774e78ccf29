#!/usr/bin/env bash
# The gateway's benchmark suite: builds the release binaries, then measures the gateway against the
# simulator directly and against nginx in front of it, in one run. See bench/README.md.
#
#   bench/run.sh            full run (~5 minutes after the build)
#   bench/run.sh --quick    every scenario briefly (CI: fails on any error, never on a timing)
#   --skip-build            use the release binaries already built
#   --only=streaming,memory run only these scenarios (nonstreaming, streaming, memory, usage)
set -euo pipefail
cd "$(dirname "$0")/.."

extra=()
build=1
for arg in "$@"; do
  case "$arg" in
    --quick) extra+=(--quick) ;;
    --only=*) extra+=(--only "${arg#--only=}") ;;
    --skip-build) build=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

for tool in wrk nginx python3; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "bench: $tool is missing (Debian: apt-get install -y wrk nginx python3)" >&2
    exit 1
  fi
done
export PATH="$PATH:/usr/sbin"

# 1,000 streams through a proxy hold 2,000+ descriptors in the proxy and 1,000 in the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

release_flags=(-c release --static-swift-stdlib)
if [ "$build" = 1 ]; then
  echo "[bench] building release binaries" >&2
  # One product per invocation: swift build honours only the last --product. The shipped binary's
  # flags (scripts/release.sh): what is measured is what is deployed, and CI, which builds the release
  # archive first, does not compile the release configuration a second time.
  swift build "${release_flags[@]}" --product ollama-gateway >&2
  swift build "${release_flags[@]}" --product ollama-sim >&2
fi
bin_dir=$(swift build "${release_flags[@]}" --show-bin-path)

exec python3 bench/lib/suite.py --bin-dir "$bin_dir" "${extra[@]}"
