"""Fixtures for the deployment tests (scripts/deploy-test.sh runs them).

They test what an operator installs: the release archive (RELEASE_ARCHIVE, made by scripts/release.sh),
unpacked into a fresh Debian root without Swift (RELEASE_ROOT, made by debootstrap), the systemd unit,
the Dockerfile and compose.yaml. A tool or input that is missing skips its tests, unless
REQUIRE_DEPLOY_TOOLS=1 (CI), where it fails them: nothing is skipped silently there.
"""
import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import tarfile
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("REQUIRE_DEPLOY_TOOLS") == "1"


def need(condition, what):
    """Skips the test when `condition` is false; fails it in CI, where everything must be there."""
    if not condition:
        if REQUIRED:
            pytest.fail(f"missing (REQUIRE_DEPLOY_TOOLS=1): {what}")
        pytest.skip(f"missing: {what}")


def tool(name, *extra_dirs):
    """The path of a program on PATH (or in one of `extra_dirs`), or skip/fail."""
    path = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs, "/usr/sbin", "/sbin"]))
    need(path, f"the program {name}")
    return path


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unit_settings(path):
    """The `Key=value` lines of a systemd unit, every value of a key in order."""
    settings = {}
    for line in pathlib.Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def systemd_seconds(text):
    """A systemd time span such as `60`, `90s`, `2min`, `1min 30s`, in seconds."""
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for part in text.split():
        number = part.rstrip("abcdefghijklmnopqrstuvwxyz")
        total += float(number) * units[part[len(number):]]
    return total


@pytest.fixture(scope="session")
def archive():
    value = os.environ.get("RELEASE_ARCHIVE")
    need(value and pathlib.Path(value).is_file(), "RELEASE_ARCHIVE, the archive scripts/release.sh makes")
    return pathlib.Path(value)


@pytest.fixture(scope="session")
def unpacked(archive, tmp_path_factory):
    """The archive unpacked as an operator would: `tar xzf`, one folder named after it."""
    destination = tmp_path_factory.mktemp("release")
    with tarfile.open(archive) as packed:
        packed.extractall(destination, filter="tar")
    (folder,) = destination.iterdir()
    return folder


@pytest.fixture(scope="session")
def gateway_binary(unpacked):
    return unpacked / "ollama-gateway"


@pytest.fixture(scope="session")
def debian_root():
    """A minimal Debian made by debootstrap: no Swift, no compiler, only what `--variant=minbase` has."""
    value = os.environ.get("RELEASE_ROOT")
    need(value and pathlib.Path(value, "etc/debian_version").is_file(), "RELEASE_ROOT, a debootstrap root")
    need(os.geteuid() == 0, "root, for chroot")
    return pathlib.Path(value)


@pytest.fixture
def installed(debian_root, archive):
    """The archive unpacked into the Debian root as /opt/ollama-gateway, removed afterwards; yields
    (root, path inside the root)."""
    inside = f"/opt/ollama-gateway-test-{os.getpid()}"
    target = debian_root / inside.lstrip("/")
    staging = pathlib.Path(tempfile.mkdtemp(dir=debian_root / "opt"))
    try:
        with tarfile.open(archive) as packed:
            packed.extractall(staging, filter="tar")
        (folder,) = staging.iterdir()
        folder.rename(target)
        yield debian_root, inside
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)


def in_root(root, command, user=None):
    """`command` as it would run on that Debian machine: chrooted, with /proc and /dev mounted in a
    mount namespace of its own (gone with the process), a clean environment and Debian's PATH. The
    process keeps the pid of the `Popen` that starts it (each step execs the next), so signals
    reach the gateway itself."""
    userspec = ["--userspec", user] if user else []
    script = (
        'set -e; mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"; root=$1; shift; '
        'exec chroot "$@"'
    )
    return [
        "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", str(root),
        *userspec, str(root), "/usr/bin/env", "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8",
        *command,
    ]


@contextlib.contextmanager
def running(args, env=None, name="ollama-gateway"):
    """A server that prints `… listening on http://HOST:PORT` when ready; yields (process, url) and
    stops it (SIGTERM, then SIGKILL) unless the test already did."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        url = None
        for line in process.stdout:
            if "listening on " in line:
                url = line.strip().split("listening on ", 1)[1]
                break
        if url is None:
            process.wait(timeout=10)
            raise AssertionError(f"{name} exited before listening ({process.returncode}): {process.stderr.read()}")
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
