"""The command line (`keys`, `admin reset-password`) of the built binary on a temporary data directory,
and a gateway started on the same directory seeing what it did."""
import json
import os
import pathlib
import re
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest

from fixtures_gateway import start_listening_process

REPO = pathlib.Path(__file__).resolve().parent.parent
BINARY = os.environ.get("OLLAMA_GATEWAY_BIN", str(REPO / ".build/debug/ollama-gateway"))
KEY = re.compile(r"^sk-[0-9A-Za-z]{43}$")
ADMIN_TOKEN = "e2e-cli-admin-token-0123456789abcdef"


def environment(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATA_DIR", "ADMIN_PASSWORD", "ADMIN_TOKEN")}
    env["LOG_LEVEL"] = "warning"
    env.update(extra or {})
    return env


@pytest.fixture
def data_dir():
    with tempfile.TemporaryDirectory(prefix="gateway-cli-") as directory:
        yield directory


def cli(data_dir, *args, stdin=None, expect_ok=True):
    # Run from the data directory's parent so that no .env of the repository is read.
    result = subprocess.run(
        [BINARY, *args, "--data-dir", data_dir], capture_output=True, text=True, input=stdin,
        env=environment(), cwd=os.path.dirname(data_dir), timeout=60,
    )
    if expect_ok:
        assert result.returncode == 0, f"{args}: {result.stderr}"
    return result


def last_line(result):
    return result.stdout.rstrip("\n").split("\n")[-1]


def key_id(result):
    return re.search(r"\b(key_[0-9A-Za-z]+)\b", result.stdout).group(1)


def test_every_command_has_help():
    for args in (["keys", "--help"], ["keys", "create", "--help"], ["keys", "list", "--help"], ["keys", "rotate", "--help"],
                 ["keys", "revoke", "--help"], ["admin", "reset-password", "--help"]):
        result = subprocess.run([BINARY, *args], capture_output=True, text=True, env=environment(), timeout=30)
        assert result.returncode == 0, args
        if args != ["keys", "--help"]:
            assert "--data-dir" in result.stdout, args


def test_create_list_rotate_revoke(data_dir):
    created = cli(data_dir, "keys", "create", "--name", "ci", "--models", "llama*,qwen3", "--rpm", "60", "--tpm", "5000",
                  "--quota", "100000", "--max-concurrent", "2", "--expires", "30d")
    secret = last_line(created)
    assert KEY.match(secret), created.stdout
    identifier = key_id(created)

    listed = cli(data_dir, "keys", "list")
    assert identifier in listed.stdout
    assert secret[:11] in listed.stdout  # the visible prefix
    assert secret not in listed.stdout
    assert "llama*,qwen3" in listed.stdout and "rpm=60" in listed.stdout and "active" in listed.stdout
    as_json = json.loads(cli(data_dir, "keys", "list", "--json").stdout)
    assert as_json[0]["id"] == identifier and as_json[0]["prefix"] == secret[:11]
    assert "secret" not in as_json[0] and secret not in json.dumps(as_json)

    rotated = cli(data_dir, "keys", "rotate", identifier)
    new_secret = last_line(rotated)
    assert KEY.match(new_secret) and new_secret != secret
    listed = cli(data_dir, "keys", "list", "--json").stdout
    record = json.loads(listed)[0]
    assert record["id"] == identifier and record["prefix"] == new_secret[:11] and record["rpm"] == 60

    revoked = cli(data_dir, "keys", "revoke", identifier)
    assert "revoked" in revoked.stdout
    assert identifier not in cli(data_dir, "keys", "list").stdout
    everything = cli(data_dir, "keys", "list", "--all").stdout
    assert identifier in everything and "revoked" in everything

    again = cli(data_dir, "keys", "rotate", identifier, expect_ok=False)
    assert again.returncode != 0 and "revoked" in again.stderr


def test_unknown_ids_and_bad_options_fail_clearly(data_dir):
    for command in (["keys", "rotate", "key_nope"], ["keys", "revoke", "key_nope"]):
        result = cli(data_dir, *command, expect_ok=False)
        assert result.returncode != 0
        assert "key_nope" in result.stderr and "not found" in result.stderr
        assert result.stdout == ""
    for options in (["--rpm", "0"], ["--expires", "soon"], ["--expires", "2001-01-01T00:00:00Z"]):
        result = cli(data_dir, "keys", "create", "--name", "x", *options, expect_ok=False)
        assert result.returncode != 0 and result.stderr.strip(), options
    missing = cli(data_dir, "keys", "create", expect_ok=False)
    assert missing.returncode != 0 and "--name" in missing.stderr


def http(base, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def login(base, password):
    status, headers, body = http(base, "POST", "/admin/api/login", {"username": "admin", "password": password})
    cookie = None
    for header in headers.get_all("Set-Cookie") or []:
        if header.startswith("gateway_session="):
            cookie = header.split(";", 1)[0]
    return status, body, cookie


def test_reset_password_lets_the_admin_sign_in(data_dir):
    # Before any gateway has started on the directory: the account is created, then reset.
    cli(data_dir, "admin", "reset-password", "--password", "first-password", "--no-force-change")
    cli(data_dir, "keys", "create", "--name", "from-cli")
    env = environment({"ADMIN_TOKEN": ADMIN_TOKEN})
    process, base = start_listening_process(
        [BINARY, "serve", "--port", "0", "--data-dir", data_dir, "--ollama-url", "http://127.0.0.1:9"], env, "ollama-gateway")
    try:
        status, body, cookie = login(base, "first-password")
        assert status == 200 and body["must_change_password"] is False and cookie
        assert http(base, "GET", "/admin/api/keys", headers={"Cookie": cookie})[0] == 200

        # While the gateway runs, with the password on standard input and a forced change.
        short = cli(data_dir, "admin", "reset-password", stdin="short\n", expect_ok=False)
        assert short.returncode != 0 and "at least 8" in short.stderr
        cli(data_dir, "admin", "reset-password", stdin="second-password\n")
        assert http(base, "GET", "/admin/api/session", headers={"Cookie": cookie})[0] == 401  # sessions ended
        assert login(base, "first-password")[0] == 401
        status, body, cookie = login(base, "second-password")
        assert status == 200 and body["must_change_password"] is True
        assert http(base, "GET", "/admin/api/keys", headers={"Cookie": cookie})[0] == 403

        unknown = cli(data_dir, "admin", "reset-password", "--username", "nobody", "--password", "whatever-1", expect_ok=False)
        assert unknown.returncode != 0 and "nobody" in unknown.stderr

        # The command line is audited as the system.
        status, _, audit = http(base, "GET", "/admin/api/audit?actor_kind=system",
                                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert status == 200
        actions = [entry["action"] for entry in audit["entries"]]
        assert actions.count("password.reset") == 2 and "key.create" in actions
        assert all(entry["actor"] == {"kind": "system", "name": "cli"} for entry in audit["entries"])
        assert "second-password" not in json.dumps(audit)
    finally:
        process.terminate()
        process.wait(timeout=10)
