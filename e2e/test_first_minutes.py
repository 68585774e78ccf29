"""A newcomer's first five minutes with the built binary: a port in use, settings that do not parse,
a second demo, no Ollama running, and what `serve` says at start."""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from fixtures_gateway import GATEWAY_BIN, start_listening_process

# Exit statuses of a crash (a trap is SIGILL, an assertion SIGABRT, a bad access SIGSEGV).
CRASH_SIGNALS = {-4, -5, -6, -7, -11}


def environment(extra=None):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATA_DIR", "ADMIN_PASSWORD", "ADMIN_TOKEN", "PORT", "OLLAMA_URL", "DEMO")}
    env.update({"BCRYPT_COST": "4", "LOG_LEVEL": "info"})
    env.update(extra or {})
    return env


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="gateway-first-") as directory:
        yield directory


def serve(workdir, *args, env=None, timeout=30):
    """Runs `serve` that is expected to stop by itself; returns the finished process."""
    return subprocess.run(
        [GATEWAY_BIN, "serve", "--data-dir", os.path.join(workdir, "data"), *args],
        capture_output=True, text=True, env=environment(env), cwd=workdir, timeout=timeout)


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_port_in_use_is_named_and_never_crashes(workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for attempt in range(8):
            result = serve(workdir, "--port", str(port), "--ollama-url", f"http://127.0.0.1:{closed_port()}")
            assert result.returncode not in CRASH_SIGNALS, f"attempt {attempt}: crashed\n{result.stderr}"
            assert result.returncode != 0
            assert f"127.0.0.1:{port}" in result.stderr, result.stderr
            assert "already in use" in result.stderr and "--port" in result.stderr, result.stderr
            assert "SQLiteConnection" not in result.stderr


@pytest.mark.parametrize("args,env,named", [
    (["--port", "70000"], {}, "--port"),
    ([], {"PORT": "abc"}, "PORT"),
    ([], {"REQUIRE_API_KEY": "flase"}, "REQUIRE_API_KEY"),
])
def test_settings_that_do_not_parse_are_refused_by_name(workdir, args, env, named):
    result = serve(workdir, *args, env=env)
    assert result.returncode != 0
    assert named in result.stderr, result.stderr


def test_a_value_from_the_env_file_is_checked_too(workdir):
    with open(os.path.join(workdir, ".env"), "w") as env_file:
        env_file.write("PORT=abc\n")
    result = serve(workdir)
    assert result.returncode != 0
    assert "PORT" in result.stderr and "'abc'" in result.stderr, result.stderr


def test_a_second_demo_says_its_simulator_port_is_taken(workdir):
    sim_port = closed_port()
    env = environment({"DEMO_SIM_PORT": str(sim_port)})
    first, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--demo", "--port", "0", "--data-dir", os.path.join(workdir, "one")], env, "first demo")
    try:
        result = serve(workdir, "--demo", "--port", "0", env={"DEMO_SIM_PORT": str(sim_port)})
        assert result.returncode != 0
        assert "DEMO_SIM_PORT" in result.stderr and str(sim_port) in result.stderr, result.stderr
    finally:
        first.terminate()
        first.wait(timeout=15)


def request(url, path, body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url + path, data=data, headers=headers), timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_without_ollama_the_gateway_says_what_to_do(workdir):
    data = os.path.join(workdir, "data")
    created = subprocess.run([GATEWAY_BIN, "keys", "create", "--name", "me", "--data-dir", data],
                             capture_output=True, text=True, env=environment(), check=True)
    key = created.stdout.strip().splitlines()[-1]
    missing = f"http://127.0.0.1:{closed_port()}"
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", missing, "--data-dir", data], environment(), "gateway")
    try:
        started = time.monotonic()
        status, body = request(url, "/v1/chat/completions",
                               {"model": "llama3", "messages": [{"role": "user", "content": "hi"}]}, key)
        assert time.monotonic() - started < 3, "a refused connection fails fast"
        assert status in (502, 503), body
        message = body["error"]["message"]
        assert "reset" not in message and "NIO" not in message and "Error(" not in message, message
        assert "Ollama" in message and ("OLLAMA_URL" in message or "--ollama-url" in message), message

        status, body = request(url, "/v1/models", key=key)
        assert status == 503, body
        assert "Ollama" in body["error"]["message"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    assert "--ollama-url" in stderr and "--demo" in stderr, stderr
    assert stderr.count("could not read the models") <= 1, "said once, not every interval"
    assert "GatewayError(" not in stderr, stderr


def test_start_up_says_how_to_get_a_key_and_that_the_password_is_the_default(workdir):
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--demo", "--port", "0", "--data-dir", os.path.join(workdir, "data")],
        environment({"DEMO_SIM_PORT": str(closed_port())}), "gateway")
    process.terminate()
    _, stderr = process.communicate(timeout=15)
    assert "keys create" in stderr, stderr
    assert "admin/admin" in stderr, stderr
    assert "database: sqlite:" in stderr, stderr


def test_the_demo_answers_with_its_simulator_whatever_ollama_url_says(workdir):
    """The README's first command: `serve --demo` answers from the built-in simulator, also when
    OLLAMA_URL names servers that do not answer."""
    data = os.path.join(workdir, "data")
    env = environment({"DEMO_SIM_PORT": str(closed_port()), "OLLAMA_URL": "a=http://127.0.0.1:9,b=http://127.0.0.1:10"})
    key = subprocess.run([GATEWAY_BIN, "keys", "create", "--name", "demo", "--data-dir", data],
                         capture_output=True, text=True, env=env, check=True).stdout.strip().splitlines()[-1]
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--demo", "--port", "0", "--data-dir", data], env, "demo gateway")
    try:
        status, body = request(url, "/v1/chat/completions",
                               {"model": "sim-chat", "messages": [{"role": "user", "content": "hello"}]}, key)
        assert status == 200, body
        assert body["choices"][0]["message"]["content"], body
    finally:
        process.terminate()
        process.wait(timeout=15)
