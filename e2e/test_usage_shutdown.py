"""Usage records survive a clean stop: N requests under load, then SIGTERM — exactly the completed
requests are in the log."""
import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import tempfile
import time

import openai

from fixtures_gateway import GATEWAY_BIN, start_listening_process


def test_sigterm_keeps_every_completed_request(sim):
    data_dir = tempfile.mkdtemp(prefix="gateway-usage-")
    env = {**os.environ, "BCRYPT_COST": "4", "LOG_LEVEL": "warning"}
    key = subprocess.run(
        [GATEWAY_BIN, "keys", "create", "--name", "load", "--data-dir", data_dir],
        capture_output=True, text=True, check=True, env=env,
    ).stdout.strip().splitlines()[-1]
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", data_dir], env, "ollama-gateway"
    )
    client = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=30)

    def one(index):
        try:
            client.chat.completions.create(
                model="sim-chat",
                messages=[{"role": "user", "content": f"request {index}"}],
                extra_body={"options": {"sim_token_interval_ms": 20}},
            )
            return True
        except openai.APIError:
            return False

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(one, i) for i in range(48)]
        time.sleep(0.4)
        process.send_signal(signal.SIGTERM)
        completed = sum(1 for f in futures if f.result())
    code = process.wait(timeout=30)
    assert code == 0, process.stderr.read()
    assert completed > 0

    with sqlite3.connect(os.path.join(data_dir, "gateway.sqlite")) as db:
        recorded = db.execute("SELECT COUNT(*) FROM usage_log WHERE status = 200").fetchone()[0]
        tokens = db.execute("SELECT SUM(prompt_tokens + completion_tokens) FROM usage_log").fetchone()[0]
        used = db.execute("SELECT tokens_used FROM api_keys WHERE name = 'load'").fetchone()[0]
    assert recorded == completed
    assert used == tokens, "the key's counter agrees with the log"


def test_sigterm_ends_streams_at_the_drain_deadline(sim):
    """A stream that would run for a minute: SIGTERM, and at SHUTDOWN_DRAIN_TIMEOUT_MS it ends with
    an error event, its usage is written as cancelled, and the process exits soon after."""
    data_dir = tempfile.mkdtemp(prefix="gateway-drain-")
    env = {**os.environ, "BCRYPT_COST": "4", "LOG_LEVEL": "warning", "SHUTDOWN_DRAIN_TIMEOUT_MS": "1500",
           "REQUIRE_API_KEY": "false"}
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", data_dir], env, "ollama-gateway"
    )
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)
    stream = client.chat.completions.create(
        model="sim-chat", stream=True, messages=[{"role": "user", "content": "talk for a minute"}],
        extra_body={"options": {"sim_token_interval_ms": 100, "sim_tokens": 600}},
    )
    chunks = iter(stream)
    next(chunks)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    error = None
    try:
        for _ in chunks:
            pass
    except openai.APIError as failure:
        error = failure
    ended = time.monotonic() - started
    code = process.wait(timeout=30)
    exited = time.monotonic() - started
    assert error is not None and "shutting down" in str(error), error
    assert 1.3 <= ended < 6, ended
    assert exited < 8, exited
    assert code == 0, process.stderr.read()
    with sqlite3.connect(os.path.join(data_dir, "gateway.sqlite")) as db:
        cancelled, streamed = db.execute("SELECT cancelled, streamed FROM usage_log").fetchone()
    assert cancelled == 1 and streamed == 1
