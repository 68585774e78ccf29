"""The release archive starts on a clean Debian machine with no Swift: unpacked into a debootstrap root,
run there as an unprivileged user, it answers a chat request from the official SDK."""
import json
import os
import pathlib
import re
import subprocess
import tarfile
import urllib.request

import openai

from conftest import REPO, free_port, in_root, running

# What glibc and the C++ runtime provide: with --static-swift-stdlib, nothing of Swift's is loaded
# at run time. A library beyond these would be a package the container's runtime stage must install.
BASE_LIBRARIES = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
                  "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libdl.so.2", "libpthread.so.0",
                  "librt.so.1", "libutil.so.1", "libz.so.1"}


def test_archive_holds_the_program_its_docs_unit_and_settings(archive):
    version = (REPO / "VERSION").read_text().strip()
    name = archive.name.removesuffix(".tar.gz")
    assert re.fullmatch(rf"ollama-gateway-{re.escape(version)}-linux-(x86_64|aarch64)", name), name
    with tarfile.open(archive) as packed:
        members = {m.name: m for m in packed.getmembers()}
    expected = ["ollama-gateway", "swift-backtrace-static", "README.md", "VERSION", "LICENSE", "docs/deploy.md",
                "deploy/ollama-gateway.service", "deploy/ollama-gateway.env.sample"]
    for path in expected:
        assert f"{name}/{path}" in members, f"{path} is not in the archive"
    binary = members[f"{name}/ollama-gateway"]
    assert binary.mode & 0o111 and binary.uid == 0 and binary.gid == 0
    assert not any(part.startswith(".") for member in members for part in member.split("/")), "hidden files"
    checksum = archive.with_name(archive.name + ".sha256").read_text().split()
    assert checksum[1] == archive.name and len(checksum[0]) == 64


def test_the_binary_needs_only_glibc_and_the_cxx_runtime(installed):
    root, inside = installed
    result = subprocess.run(in_root(root, ["ldd", f"{inside}/ollama-gateway"]),
                            capture_output=True, text=True, check=True)
    libraries = {line.split()[0].rsplit("/", 1)[-1] for line in result.stdout.splitlines() if line.strip()}
    assert "not found" not in result.stdout, result.stdout
    assert libraries <= BASE_LIBRARIES, f"also needs: {libraries - BASE_LIBRARIES}"
    assert not any("swift" in name.lower() or "icu" in name.lower() or "Foundation" in name for name in libraries)


def test_the_root_has_no_swift(debian_root):
    """The check below means something only if the machine really has no Swift to fall back on."""
    assert not (debian_root / "opt/swift").exists()
    assert not list((debian_root / "usr/lib").rglob("libswiftCore.so"))
    assert subprocess.run(in_root(debian_root, ["sh", "-c", "command -v swift swiftc"])).returncode != 0


def test_release_serves_a_chat_answer_from_a_clean_debian_root(installed):
    root, inside = installed
    data = pathlib.Path(root, "var/lib", f"gateway-test-{os.getpid()}")
    data.mkdir(parents=True)
    os.chown(data, 65534, 65534)  # nobody: the program needs no privilege and no home
    try:
        env = ["BCRYPT_COST=4", "LOG_LEVEL=warning", f"DATA_DIR=/{data.relative_to(root)}"]
        keys = subprocess.run(
            in_root(root, [*env, f"{inside}/ollama-gateway", "keys", "create", "--name", "release"],
                    user="65534:65534"),
            capture_output=True, text=True, timeout=120)
        assert keys.returncode == 0, keys.stderr
        key = keys.stdout.strip().splitlines()[-1]

        port, sim_port = free_port(), free_port()
        command = [*env, f"PORT={port}", f"DEMO_SIM_PORT={sim_port}", f"{inside}/ollama-gateway", "serve", "--demo"]
        with running(in_root(root, command, user="65534:65534")) as (process, url):
            assert url == f"http://127.0.0.1:{port}"
            client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)
            answer = client.chat.completions.create(
                model="sim-chat", messages=[{"role": "user", "content": "hello from a clean machine"}])
            assert answer.choices[0].message.content
            assert answer.usage.completion_tokens > 0
            streamed = "".join(
                chunk.choices[0].delta.content or ""
                for chunk in client.chat.completions.create(
                    model="sim-chat", stream=True, messages=[{"role": "user", "content": "stream it"}])
                if chunk.choices)
            assert streamed
            # The runtime linked in has no exported executor hook: the gateway's own install must
            # still put the requests' jobs on the event loops.
            metrics = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
            stayed = next(line for line in metrics.splitlines() if line.startswith('gateway_executor_jobs_total{thread="stayed"}'))
            assert int(stayed.split()[-1]) > 0, stayed
        assert process.returncode == 0, process.stderr.read()
        assert (data / "gateway.sqlite").is_file()
    finally:
        subprocess.run(["rm", "-rf", str(data)], check=True)


def test_version_file_matches_the_binary(installed):
    """`--version` prints the binary's own constant; the archive is named after VERSION: they agree."""
    root, inside = installed
    result = subprocess.run(in_root(root, [f"{inside}/ollama-gateway", "--version"]), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (REPO / "VERSION").read_text().strip()


def test_the_container_health_check_runs_in_the_runtime_layout(installed):
    """The Dockerfile's HEALTHCHECK command, run on a Debian without curl: 0 while the gateway serves,
    not 0 when nothing listens."""
    root, inside = installed
    check = healthcheck_command()
    port, sim_port = free_port(), free_port()
    data = f"/tmp/gateway-health-{os.getpid()}"
    command = ["LOG_LEVEL=warning", f"PORT={port}", f"DEMO_SIM_PORT={sim_port}", f"DATA_DIR={data}",
               f"{inside}/ollama-gateway", "serve", "--demo"]
    try:
        with running(in_root(root, command)):
            assert subprocess.run(in_root(root, [f"PORT={port}", *check]), timeout=30).returncode == 0
        assert subprocess.run(in_root(root, [f"PORT={port}", *check]), timeout=30).returncode != 0
    finally:
        subprocess.run(["rm", "-rf", str(root / data.lstrip("/"))], check=True)


def healthcheck_command():
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", text, re.MULTILINE)
    assert match, "the Dockerfile has no HEALTHCHECK in exec form"
    return json.loads(match.group(1))
