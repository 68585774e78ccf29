"""The systemd unit: systemd's own verifier accepts it, it keeps its hardening, and the release binary
stops within its TimeoutStopSec when systemd sends SIGTERM with a stream still open."""
import os
import pathlib
import re
import signal
import subprocess
import time

import openai

from conftest import REPO, free_port, need, running, systemd_seconds, tool, unit_settings

UNIT = REPO / "deploy" / "ollama-gateway.service"
SAMPLE = REPO / "deploy" / "ollama-gateway.env.sample"
DEFAULT_DRAIN_S = 30  # SHUTDOWN_DRAIN_TIMEOUT_MS's default (README)
LAST_RESORT_S = 15  # how long after the drain deadline the process exits at the latest (GatewayRunner)


def verify(unit_text, tmp_path, binary):
    """systemd-analyze verify on the unit with its ExecStart pointed at a binary that exists; returns
    (exit status, what it said about the unit). Directives it cannot parse are only warned about."""
    unit = tmp_path / "ollama-gateway.service"
    unit.write_text(unit_text.replace("/opt/ollama-gateway/ollama-gateway", str(binary)))
    result = subprocess.run([tool("systemd-analyze"), "verify", str(unit)], capture_output=True, text=True,
                            env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"})
    said = [line for line in (result.stdout + result.stderr).splitlines()
            if "ollama-gateway" in line or "Unknown" in line]
    return result.returncode, said


def test_systemd_analyze_verify_accepts_the_unit(tmp_path, gateway_binary):
    code, said = verify(UNIT.read_text(), tmp_path, gateway_binary)
    assert code == 0 and not said, said


def test_systemd_analyze_verify_finds_a_broken_unit(tmp_path, gateway_binary):
    """The check above can fail: a misspelt value, an unknown directive and a binary that is not there."""
    _, said = verify(UNIT.read_text().replace("ProtectSystem=strict", "ProtectSystem=strickt"), tmp_path, gateway_binary)
    assert any("strickt" in line for line in said), said
    _, said = verify(UNIT.read_text().replace("PrivateTmp=", "PrivateTemp="), tmp_path, gateway_binary)
    assert any("PrivateTemp" in line for line in said), said
    code, _ = verify(UNIT.read_text(), tmp_path, tmp_path / "no-such-binary")
    assert code != 0


def test_the_unit_keeps_its_hardening_and_state_directory():
    settings = {key: values[-1] for key, values in unit_settings(UNIT).items()}
    expected = {
        "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes", "CapabilityBoundingSet": "", "StateDirectory": "ollama-gateway",
        "KillSignal": "SIGTERM",
    }
    for key, value in expected.items():
        assert settings.get(key) == value, f"{key}={settings.get(key)!r}"
    assert set(settings["RestrictAddressFamilies"].split()) == {"AF_INET", "AF_INET6", "AF_UNIX"}
    assert settings["EnvironmentFile"] == "-/etc/ollama-gateway/ollama-gateway.env"
    environment = unit_settings(UNIT)["Environment"]
    assert "DATA_DIR=%S/ollama-gateway" in environment, "the database goes in the StateDirectory"
    assert settings["ExecStart"].split()[0] == "/opt/ollama-gateway/ollama-gateway"


def test_timeout_stop_sec_covers_the_drain_and_its_last_resort():
    timeout = systemd_seconds(unit_settings(UNIT)["TimeoutStopSec"][-1])
    assert timeout > DEFAULT_DRAIN_S + LAST_RESORT_S, timeout
    sample = re.search(r"^# SHUTDOWN_DRAIN_TIMEOUT_MS=(\d+)$", SAMPLE.read_text(), re.MULTILINE)
    assert sample and int(sample.group(1)) == DEFAULT_DRAIN_S * 1000


def test_sigterm_with_a_stream_open_stops_within_timeout_stop_sec(gateway_binary, tmp_path):
    """What `systemctl stop` does: SIGTERM to the release binary with a minute-long stream open. The
    stream gets the default drain (30 s) and ends with an error event; the process exits by itself
    well before systemd would send SIGKILL."""
    need(gateway_binary.is_file(), "the release binary")
    timeout = systemd_seconds(unit_settings(UNIT)["TimeoutStopSec"][-1])
    port, sim_port = free_port(), free_port()
    env = {"PATH": "/usr/bin:/bin", "LOG_LEVEL": "warning", "REQUIRE_API_KEY": "false", "BCRYPT_COST": "4",
           "DATA_DIR": str(tmp_path / "data"), "PORT": str(port), "DEMO_SIM_PORT": str(sim_port)}
    with running([str(gateway_binary), "serve", "--demo"], env=env) as (process, url):
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=120)
        stream = client.chat.completions.create(
            model="sim-chat", stream=True, messages=[{"role": "user", "content": "talk for a minute"}],
            extra_body={"options": {"sim_token_interval_ms": 100, "sim_tokens": 600}})
        chunks = iter(stream)
        next(chunks)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        received, error = 0, None
        try:
            for _ in chunks:
                received += 1
        except openai.APIError as failure:
            error = failure
        ended = time.monotonic() - started
        code = process.wait(timeout=timeout)
        exited = time.monotonic() - started
    assert received > 50, "the stream went on during the drain"
    assert error is not None and "shutting down" in str(error), error
    assert DEFAULT_DRAIN_S - 1 <= ended < DEFAULT_DRAIN_S + 5, ended
    assert exited < timeout, f"exited after {exited:.1f} s, TimeoutStopSec is {timeout} s"
    assert code == 0, process.stderr.read()


def test_unit_file_paths_match_the_archive(unpacked):
    """The paths the unit names are those the archive has (installed as /opt/ollama-gateway)."""
    text = UNIT.read_text()
    for path in re.findall(r"/opt/ollama-gateway/([\w./-]+)", text):
        assert (unpacked / path).exists(), f"the unit names /opt/ollama-gateway/{path}, not in the archive"
    assert pathlib.Path(unpacked, "deploy", "ollama-gateway.service").read_text() == text
