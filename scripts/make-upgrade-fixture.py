#!/usr/bin/env python3
"""Makes the upgrade fixture of a release: a database written by that release's own binary, dumped as SQL.

    scripts/make-upgrade-fixture.py BUILD_DIR OUT.sql

BUILD_DIR holds the release's `ollama-gateway` and `ollama-sim` (e.g. .build/debug of a checkout of the
release tag). The database gets a row in every table: keys (active, limited, revoked), usage with its
hourly and daily roll-ups, saved settings, model settings, an admin session, a failed login, audit
entries. Tests/GatewayStoreTests/UpgradeTests.swift opens the dump with today's migrations and checks
that nothing was lost; the secrets it needs are written next to the dump (OUT.secrets.json).
"""
import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import tempfile
import urllib.request

ADMIN_PASSWORD = "fixture-admin-password"
ADMIN_TOKEN = "fixture-admin-token-0123456789"


def listening(args, env):
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    for line in process.stdout:
        if "listening on " in line:
            return process, line.strip().split("listening on ", 1)[1]
    raise RuntimeError(process.stderr.read())


def call(url, method="GET", body=None, headers=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def main(build, out):
    build = pathlib.Path(build)
    data = tempfile.mkdtemp(prefix="fixture-")
    env = {**os.environ, "BCRYPT_COST": "4", "LOG_LEVEL": "warning", "ADMIN_PASSWORD": ADMIN_PASSWORD,
           "ADMIN_TOKEN": ADMIN_TOKEN}
    env.pop("DATABASE_URL", None)

    def cli(*args):
        return subprocess.run([build / "ollama-gateway", *args, "--data-dir", data], env=env, check=True,
                              capture_output=True, text=True, cwd=data).stdout.strip().splitlines()

    active = cli("keys", "create", "--name", "fixture-active")[-1]
    limited = cli("keys", "create", "--name", "fixture-limited", "--models", "sim-chat*", "--rpm", "60", "--tpm",
                  "100000", "--quota", "5000000", "--max-concurrent", "3", "--expires", "2099-01-01T00:00:00Z")[-1]
    revoked_out = cli("keys", "create", "--name", "fixture-revoked")
    revoked_id = next(word for line in revoked_out for word in line.split() if word.startswith("key_"))
    cli("keys", "revoke", revoked_id)

    sim, sim_url = listening([build / "ollama-sim", "--port", "0"], env)
    gateway, url = listening([build / "ollama-gateway", "serve", "--port", "0", "--ollama-url", sim_url,
                              "--data-dir", data], env)
    try:
        for key, model, stream in ((active, "sim-chat", False), (active, "sim-chat", True), (limited, "sim-chat", False)):
            status, _, _ = call(url + "/v1/chat/completions", "POST",
                                {"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]},
                                {"Authorization": "Bearer " + key})
            assert status == 200, status
        call(url + "/api/embed", "POST", {"model": "sim-embed", "input": "x"}, {"Authorization": "Bearer " + active})
        admin = {"Authorization": "Bearer " + ADMIN_TOKEN}
        assert call(url + "/admin/api/settings", "PATCH", {"reasoning_format": "both"}, admin)[0] == 200
        assert call(url + "/admin/api/models/sim-chat", "PUT",
                    {"display_name": "Sim Chat", "aliases": ["fixture-alias"], "overrides": {"temperature": 0.3}},
                    admin)[0] == 200
        assert call(url + "/admin/api/login", "POST", {"username": "admin", "password": "wrong"})[0] == 401
        assert call(url + "/admin/api/login", "POST", {"username": "admin", "password": ADMIN_PASSWORD})[0] == 200
    finally:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=30)
        sim.terminate()
        sim.wait(timeout=10)

    database = sqlite3.connect(os.path.join(data, "gateway.sqlite"))
    with open(out, "w") as dump:
        for line in database.iterdump():
            dump.write(line + "\n")
    tables = [row[0] for row in database.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    counts = {table: database.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}
    with open(out.replace(".sql", ".secrets.json"), "w") as secrets:
        json.dump({"active_key": active, "limited_key": limited, "admin_password": ADMIN_PASSWORD, "row_counts": counts},
                  secrets, indent=2, sort_keys=True)
        secrets.write("\n")
    print(counts)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
