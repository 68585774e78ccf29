#!/usr/bin/env bash
# Tests the ways to run the gateway (docs/deploy.md): builds the release archive, starts it in a fresh
# Debian root without Swift, verifies the systemd unit and stops the release binary as systemd would,
# lints the Dockerfile, validates compose.yaml, and builds and runs the image's runtime stage with
# podman. Needs root (chroot, podman), debootstrap, systemd-analyze, podman and runc (Debian packages).
#
#   scripts/deploy-test.sh                 everything (builds the release binary first)
#   scripts/deploy-test.sh --skip-build    use the release binary already built
#   extra arguments after -- go to pytest (e.g. -- -k systemd)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

release_args=()
pytest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-build) release_args+=(--skip-build) ;;
    --) shift; pytest_args=("$@"); break ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "deploy-test: unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }
export PATH="$PATH:/usr/sbin:/sbin"

step "release archive"
started=$SECONDS
archive=$(scripts/release.sh "${release_args[@]}" | tail -1)
echo "$archive ($((SECONDS - started)) s)"

# A Debian as a new machine has it, made once and kept (gitignored): the same release as the build
# machine, whose glibc the binary needs at least.
step "a fresh Debian root"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
debian_root="$root/.build-release-root/$suite"
if [ ! -f "$debian_root/.complete" ]; then
  started=$SECONDS
  rm -rf "$debian_root"
  mkdir -p "$(dirname "$debian_root")"
  debootstrap --variant=minbase "$suite" "$debian_root" http://deb.debian.org/debian >/dev/null
  touch "$debian_root/.complete"
  echo "debootstrap $suite: $((SECONDS - started)) s"
fi

step "deployment tests"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r e2e/requirements.txt
export RELEASE_ARCHIVE="$root/$archive" RELEASE_ROOT="$debian_root" REQUIRE_DEPLOY_TOOLS=1
.venv/bin/python -m pytest -q deploy/tests "${pytest_args[@]}"
