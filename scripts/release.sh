#!/usr/bin/env bash
# Builds the release binary and packs it for machines without Swift (docs/deploy.md, "Release binary").
#
#   scripts/release.sh                 build, then dist/ollama-gateway-<VERSION>-linux-<arch>.tar.gz
#   scripts/release.sh --skip-build    pack the release binary already built
#   scripts/release.sh --stage DIR     build, then put only what runs (binary, backtracer, resources)
#                                      in DIR: the container's build stage uses this, so the image and
#                                      the archive are built by the same steps
#
# The Swift standard library and Foundation are linked in (--static-swift-stdlib): the binary needs
# only glibc (2.36, Debian 12, or newer: build on the oldest system it must run on). The archive's
# path is printed alone on the last line.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
stage_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-build) build=0 ;;
    --stage) stage_only="${2:?--stage needs a folder}"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "release: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

# The flags of the shipped binary, in one place: bench/run.sh builds with the same ones, so CI compiles
# the release configuration once for both.
flags=(-c release --static-swift-stdlib)
if [ "$build" = 1 ]; then
  echo "[release] swift build ${flags[*]} --product ollama-gateway" >&2
  swift build "${flags[@]}" --product ollama-gateway >&2
fi
bin_dir=$(swift build "${flags[@]}" --show-bin-path)
[ -x "$bin_dir/ollama-gateway" ] || { echo "release: $bin_dir/ollama-gateway is missing: build it first" >&2; exit 1; }

# The toolchain's crash reporter, for SWIFT_BACKTRACE (set by the container image and the systemd
# unit): a crash then leaves a symbolicated backtrace in the log instead of a bare signal.
swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
backtracer="$swift_bin/../libexec/swift/linux/swift-backtrace-static"

# What the program needs at run time, nothing else.
stage() {
  local dir=$1
  mkdir -p "$dir"
  install -m 0755 "$bin_dir/ollama-gateway" "$dir/ollama-gateway"
  # The licence travels with every copy of the program: the archive and the container image.
  install -m 0644 LICENSE "$dir/LICENSE"
  if [ -x "$backtracer" ]; then
    install -m 0755 "$backtracer" "$dir/swift-backtrace-static"
  else
    echo "release: no swift-backtrace-static in this toolchain; crashes will not be symbolicated" >&2
  fi
  # Resource bundles (templates, assets) sit beside the binary, where Bundle.module looks for them.
  local bundle
  for bundle in "$bin_dir"/*.resources; do
    [ -d "$bundle" ] || continue
    case "$(basename "$bundle")" in *Tests*) continue ;; esac
    cp -R "$bundle" "$dir/"
  done
}

if [ -n "$stage_only" ]; then
  stage "$stage_only"
  echo "$stage_only"
  exit 0
fi

version=$(tr -d '[:space:]' < VERSION)
[ -n "$version" ] || { echo "release: VERSION is empty" >&2; exit 1; }
arch=$(uname -m)
name="ollama-gateway-$version-linux-$arch"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/$name"

stage "$root"
cp README.md VERSION "$root/"
# The README links into docs/; the unit and the settings sample are what docs/deploy.md installs.
cp -R docs "$root/docs"
mkdir -p "$root/deploy"
install -m 0644 deploy/ollama-gateway.service deploy/ollama-gateway.env.sample "$root/deploy/"

mkdir -p dist
archive="dist/$name.tar.gz"
# Owned by root in the archive whatever the builder's user, in a stable order.
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$work" -czf "$archive" "$name"
(cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "[release] $(du -h "$archive" | cut -f1) $archive" >&2
echo "$archive"
