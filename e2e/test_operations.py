"""Day two with the built binary: --version, backup under load and restore, JSON logs without secrets."""
import concurrent.futures
import contextlib
import json
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest

from fixtures_gateway import GATEWAY_BIN, REPO, start_listening_process


def environment(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATA_DIR", "ADMIN_PASSWORD", "ADMIN_TOKEN", "LOG_FORMAT")}
    env.update({"BCRYPT_COST": "4", "LOG_LEVEL": "warning"})
    env.update(extra)
    return env


def run(*args, env=None, check=True):
    result = subprocess.run([GATEWAY_BIN, *args], capture_output=True, text=True, env=env or environment(), timeout=120,
                            cwd=tempfile.gettempdir())
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def create_key(data_dir, name):
    return run("keys", "create", "--name", name, "--data-dir", data_dir).stdout.strip().splitlines()[-1]


def serve(sim, data_dir, **extra):
    return start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", data_dir], environment(**extra),
        "ollama-gateway")


def stop(process):
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, process.stderr.read()


def request_ids(path):
    # closing(): sqlite3's own context manager commits but leaves the connection (and its lock) open.
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {row[0] for row in db.execute("SELECT request_id FROM usage_log")}


def chat(url, key):
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)
    return client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "hi"}])


def test_version_comes_from_one_constant():
    source = (REPO / "Sources/Gateway/GatewayVersion.swift").read_text()
    version = re.search(r'current = "([^"]+)"', source).group(1)
    assert run("--version").stdout.strip() == version
    assert run("version").stdout.strip() == version
    version_file = REPO / "VERSION"
    if version_file.exists():
        assert version_file.read_text().strip() == version


def test_backup_under_load_restores_every_key_and_usage_record(sim):
    source = tempfile.mkdtemp(prefix="gateway-backup-src-")
    target = tempfile.mkdtemp(prefix="gateway-backup-dst-")
    backup = os.path.join(tempfile.mkdtemp(prefix="gateway-backup-file-"), "gateway-backup.sqlite")
    keys = [create_key(source, f"backup-{index}") for index in range(3)]
    process, url = serve(sim, source)

    done = threading.Event()
    served = []

    def load(worker):
        while not done.is_set():
            chat(url, keys[worker % len(keys)])
            served.append(worker)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            workers = [pool.submit(load, worker) for worker in range(6)]
            # Usage is written in batches every 100 ms: wait until some of it is in the database.
            deadline = time.time() + 30
            while len(request_ids(os.path.join(source, "gateway.sqlite"))) < 30 and time.time() < deadline:
                time.sleep(0.05)
            before = request_ids(os.path.join(source, "gateway.sqlite"))
            assert len(before) >= 30
            taken = run("backup", backup, "--data-dir", source)  # while requests keep writing usage
            served_at_backup = len(served)
            time.sleep(0.5)
            done.set()
            for worker in workers:
                worker.result()
        assert len(served) > served_at_backup, "the load went on during and after the backup"
        assert "Backed up" in taken.stdout
        assert oct(os.stat(backup).st_mode & 0o777) == "0o600"
        # A backup is never overwritten.
        again = run("backup", backup, "--data-dir", source, check=False)
        assert again.returncode != 0 and "already exists" in again.stderr
    finally:
        done.set()
        stop(process)

    in_backup = request_ids(backup)
    everything = request_ids(os.path.join(source, "gateway.sqlite"))
    assert before <= in_backup <= everything
    assert len(everything) > len(in_backup), "requests finished after the backup are not in it"

    restored = run("restore", backup, "--data-dir", target)
    assert "Restored" in restored.stdout
    process, url = serve(sim, target)
    try:
        for key in keys:
            assert chat(url, key).choices[0].message.content
        # A database in use is never replaced, not even with --force.
        refused = run("restore", backup, "--data-dir", target, "--force", check=False)
        assert refused.returncode != 0 and "open in another process" in refused.stderr, refused.stderr
    finally:
        stop(process)
    assert in_backup <= request_ids(os.path.join(target, "gateway.sqlite"))
    with contextlib.closing(sqlite3.connect(os.path.join(target, "gateway.sqlite"))) as db:
        names = {row[0] for row in db.execute("SELECT name FROM api_keys")}
    assert names == {"backup-0", "backup-1", "backup-2"}

    # Stopped: replacing takes --force, and the replaced database is kept.
    exists = run("restore", backup, "--data-dir", target, check=False)
    assert exists.returncode != 0 and "--force" in exists.stderr
    forced = run("restore", backup, "--data-dir", target, "--force")
    kept = re.search(r"kept as (\S+)", forced.stdout).group(1)
    assert os.path.exists(kept) and len(request_ids(kept)) > len(in_backup)


def test_backup_and_restore_refuse_postgres_and_bad_files():
    data_dir = tempfile.mkdtemp(prefix="gateway-backup-pg-")
    env = environment(DATABASE_URL="postgres://gateway@db.example:5432/gateway")
    for args in (["backup", "/tmp/never-written.sqlite"], ["restore", "/tmp/never-read.sqlite"]):
        result = run(*args, "--data-dir", data_dir, env=env, check=False)
        assert result.returncode != 0 and "pg_dump" in result.stderr, result.stderr
    assert not os.path.exists("/tmp/never-written.sqlite")
    missing = run("backup", os.path.join(data_dir, "b.sqlite"), "--data-dir", os.path.join(data_dir, "none"), check=False)
    assert missing.returncode != 0 and "no database" in missing.stderr
    text = os.path.join(data_dir, "notes.txt")
    pathlib.Path(text).write_text("not a database")
    refused = run("restore", text, "--data-dir", data_dir, check=False)
    assert refused.returncode != 0 and "not an SQLite database" in refused.stderr
    assert not os.path.exists(os.path.join(data_dir, "gateway.sqlite"))


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logs_carry_no_secret(sim, log_format):
    data_dir = tempfile.mkdtemp(prefix="gateway-logs-")
    key = create_key(data_dir, "logs")
    secrets = {
        "ADMIN_PASSWORD": "admin-password-e2e-never-logged",
        "ADMIN_TOKEN": "admin-token-e2e-never-logged-0123",
        "METRICS_TOKEN": "metrics-token-e2e-never-logged",
    }
    upstream_secret = "upstream-secret-e2e-never-logged"
    env = environment(LOG_LEVEL="trace", LOG_FORMAT=log_format, OLLAMA_AUTH_HEADER=f"Authorization: Bearer {upstream_secret}",
                      **secrets)
    process = subprocess.Popen(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", data_dir], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env=env, text=True)
    # Read on a thread of its own: at trace level the gateway writes more than a pipe holds.
    lines, errors, found = [], [], {}
    listening = threading.Event()

    def read_stdout():
        for line in process.stdout:
            lines.append(line)
            match = re.search(r"listening on (http://[0-9.]+:[0-9]+)", line)
            if match and not listening.is_set():
                found["url"] = match.group(1)
                listening.set()
        listening.set()

    readers = [threading.Thread(target=read_stdout), threading.Thread(target=lambda: errors.extend(process.stderr))]
    for reader in readers:
        reader.start()
    listening.wait(timeout=60)
    url = found.get("url")
    assert url, "".join(lines) + "".join(errors)

    def call(path, body=None, headers=None):
        request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            urllib.request.urlopen(request, timeout=30).read()
        except urllib.error.HTTPError as error:
            error.read()

    chat_body = {"model": "sim-chat", "messages": [{"role": "user", "content": "hello"}]}
    for presented in (key, "sk-wrong-e2e-never-logged-00000000000000000000"):
        call("/v1/chat/completions", chat_body, {"Authorization": f"Bearer {presented}"})
        call("/api/chat", {**chat_body, "stream": False}, {"Authorization": f"Bearer {presented}"})
    for password in ("wrong-password-e2e-never-logged", secrets["ADMIN_PASSWORD"]):
        call("/admin/api/login", {"username": "admin", "password": password})
    call("/admin/api/keys", None, {"Authorization": f"Bearer {secrets['ADMIN_TOKEN']}"})
    call("/metrics", None, {"Authorization": f"Bearer {secrets['METRICS_TOKEN']}"})
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    for reader in readers:
        reader.join(timeout=30)
    stdout, stderr = "".join(lines), "".join(errors)
    assert "request id=" in stderr, "the usage line of each request is logged at info, on standard error"
    for value in [key, key[3:], "sk-wrong-e2e-never-logged", upstream_secret, "wrong-password-e2e-never-logged",
                  *secrets.values()]:
        assert value not in stdout and value not in stderr, f"{log_format} logs contain {value}"
    if log_format == "json":
        for line in (stdout + stderr).splitlines():
            record = json.loads(line)  # every line of both streams, the listening line included
            assert {"timestamp", "level", "label", "source", "message"} <= record.keys(), line
        assert json.loads(stdout.splitlines()[0])["message"].startswith("ollama-gateway listening on")
    else:
        assert stdout.startswith("ollama-gateway listening on http://"), "scripts read this line"


def test_concurrency_runs_on_the_event_loops(gateway, openai_client):
    """The gateway installs its executor hook (EventLoopExecutor): the jobs of the requests it serves
    run on NIO's event loops, which /metrics counts (loopback may read it without a token)."""
    import urllib.request

    def jobs():
        text = urllib.request.urlopen(f"{gateway}/metrics", timeout=10).read().decode()
        counts = {}
        for line in text.splitlines():
            if line.startswith("gateway_executor_jobs_total{"):
                label, value = line.split(" ")
                counts[label.split('"')[1]] = int(value)
        return counts

    before = jobs()
    requests = 20
    for _ in range(requests):
        openai_client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "hi"}])
    after = jobs()
    assert set(after) == {"stayed", "crossed"}
    ran = sum(after.values()) - sum(before.values())
    assert after["stayed"] - before["stayed"] >= requests, (before, after)
    # About 10 per request when jobs run isolated to nothing; run isolated to a loop's serial executor,
    # every step into nonisolated code was one more (150-230 per request).
    assert ran / requests < 40, (before, after)
