"""Two gateway processes, two simulators, one PostgreSQL (docs/backends.md, "Several gateway instances").

Needs TEST_DATABASE_URL (scripts/postgres-test-server.sh start); skipped without it unless
REQUIRE_POSTGRES=1, which makes its absence a failure.
"""
import concurrent.futures
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid

import openai
import pytest
import requests

from fixtures_gateway import GATEWAY_BIN, REPO, start_listening_process

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not DATABASE_URL and os.environ.get("REQUIRE_POSTGRES") != "1",
    reason="needs TEST_DATABASE_URL (scripts/postgres-test-server.sh start)",
)
ADMIN_TOKEN = "two-gateways-e2e-admin-token-0123456789"
SIM_BIN = os.environ.get("OLLAMA_SIM_BIN", str(REPO / ".build" / "debug" / "ollama-sim"))


def start_sim():
    process = subprocess.Popen([SIM_BIN, "--port", "0"], stdout=subprocess.PIPE, text=True)
    match = re.match(r"ollama-sim listening on (http://\S+)", process.stdout.readline().strip())
    assert match, "ollama-sim did not report its port"
    return process, match.group(1)


@pytest.fixture
def fleet():
    assert DATABASE_URL, "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
    schema = "gwe2e_" + uuid.uuid4().hex
    separator = "&" if "?" in DATABASE_URL else "?"
    database_url = f"{DATABASE_URL}{separator}schema={schema}"
    processes = []
    sims = []
    for _ in range(2):
        process, url = start_sim()
        processes.append(process)
        sims.append(url)
    env = {**os.environ, "BCRYPT_COST": "4", "LOG_LEVEL": "warning", "DATABASE_URL": database_url,
           "ADMIN_TOKEN": ADMIN_TOKEN, "OLLAMA_URL": f"a={sims[0]},b={sims[1]}", "BACKEND_PROBE_INTERVAL_MS": "300",
           "KEY_CACHE_TTL_MS": "1000"}
    data_dirs = [tempfile.mkdtemp(prefix="gw-two-") for _ in range(2)]

    def start(index):
        """Starts instance `index` on its own data directory (again, after a stop)."""
        process, url = start_listening_process(
            [GATEWAY_BIN, "serve", "--port", "0", "--data-dir", data_dirs[index]], env, f"ollama-gateway-{index}")
        processes.append(process)
        return process, url

    gateways = [start(index) for index in range(2)]
    try:
        yield sims, gateways, start
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def admin(url, method, path, **kwargs):
    return requests.request(method, url + "/admin/api" + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                            timeout=10, **kwargs)


def chat(url, key, text="hi"):
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)
    return client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": text}])


def test_two_gateways_share_keys_limits_usage_and_backends(fleet):
    sims, gateways, start = fleet
    (_, one), (second_process, two) = gateways

    # Rate windows are whole minutes: a minute turning in the middle of the next steps would grant
    # a second minute's requests, so they start early in one.
    if time.time() % 60 > 45:
        time.sleep(60.5 - time.time() % 60)

    # A key made on one instance works on the other at once.
    created = admin(one, "POST", "/keys", json={"name": "shared", "rpm": 6})
    assert created.status_code == 201, created.text
    key = created.json()["secret"]
    chat(two, key)

    # Its limit holds across both.
    outcomes = []
    for index in range(8):
        try:
            chat(one if index % 2 else two, key, f"n{index}")
            outcomes.append(200)
        except openai.RateLimitError:
            outcomes.append(429)
    assert outcomes.count(200) in (5, 6), outcomes  # 6 a minute in all (one more if the minute turned)

    # A backend taken down (disabled on one instance) is avoided by both.
    assert admin(one, "POST", "/backends", json={"name": "c", "url": sims[1], "priority": 1}).status_code == 201
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any(b["name"] == "c" for b in admin(two, "GET", "/backends").json()["backends"]):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the other instance never saw the new backend")
    assert admin(one, "PATCH", "/backends/c", json={"enabled": False}).status_code == 200
    deadline = time.monotonic() + 10
    while admin(two, "GET", "/backends/c").json()["state"] != "disabled":
        assert time.monotonic() < deadline, "the other instance never saw the backend disabled"
        time.sleep(0.2)

    # Load on the second instance, stopped with SIGTERM in the middle: no completed request is lost.
    load = admin(one, "POST", "/keys", json={"name": "load"}).json()["secret"]

    def one_request(index, url=two):
        try:
            client = openai.OpenAI(base_url=url + "/v1", api_key=load, max_retries=0, timeout=30)
            client.chat.completions.create(
                model="sim-chat", messages=[{"role": "user", "content": f"load {index}"}],
                extra_body={"options": {"sim_token_interval_ms": 20}})
            return True
        except openai.APIError:
            return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(one_request, i) for i in range(36)]
        time.sleep(0.4)
        second_process.send_signal(signal.SIGTERM)
        completed = sum(1 for f in futures if f.result())
    assert second_process.wait(timeout=30) == 0
    assert completed > 0

    # Usage from both instances in one report, read through the first.
    keys = {k["name"]: k["id"] for k in admin(one, "GET", "/keys").json()["keys"]}
    deadline = time.monotonic() + 10
    while True:
        entries = admin(one, "GET", f"/usage/requests?key={keys['load']}&limit=500").json()["entries"]
        served = [e for e in entries if e["status"] == 200]
        if len(served) >= completed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(served) == completed
    assert {e.get("backend") for e in served} <= {"a", "b"}
    shared = admin(one, "GET", f"/usage/requests?key={keys['shared']}&limit=500").json()["entries"]
    assert sum(1 for e in shared if e["status"] == 200) == 1 + outcomes.count(200)

    # Killed without warning (SIGKILL) in the middle of a load: every request it completed is in its
    # usage journal, which the instance replays into the database when it starts again.
    second_process, two = start(1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(one_request, 1000 + i, two) for i in range(120)]
        time.sleep(1.0)  # a third or so done, twelve in flight
        second_process.send_signal(signal.SIGKILL)
        killed_completed = sum(1 for f in futures if f.result())
    second_process.wait(timeout=30)
    assert 0 < killed_completed < 120, killed_completed
    start(1)
    entries = admin(one, "GET", f"/usage/requests?key={keys['load']}&limit=500").json()["entries"]
    served_after_kill = [e for e in entries if e["status"] == 200]
    assert len({e["request_id"] for e in served_after_kill}) == len(served_after_kill), "a record replayed twice"
    # A request accounted the instant before the kill, whose last bytes never left, is in the log
    # though its client saw it fail: at most one per request in flight.
    expected = completed + killed_completed
    assert expected <= len(served_after_kill) <= expected + 12, (len(served_after_kill), completed, killed_completed)
