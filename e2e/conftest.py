"""Fixtures for end-to-end tests against the ollama-sim binary.

The `sim` session fixture starts `ollama-sim --port 0` (binary from $OLLAMA_SIM_BIN, default
<repo>/.build/debug/ollama-sim), reads the port from its single "listening" line and yields the base URL.
"""

import os
import pathlib
import re
import subprocess
import urllib.request

import pytest

pytest_plugins = ["fixtures_gateway"]

REPO = pathlib.Path(__file__).resolve().parent.parent
LISTENING = re.compile(r"^ollama-sim listening on (http://\S+)$")


@pytest.fixture(scope="session")
def sim():
    binary = os.environ.get("OLLAMA_SIM_BIN", str(REPO / ".build" / "debug" / "ollama-sim"))
    process = subprocess.Popen(
        [binary, "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline().strip()
        match = LISTENING.match(line)
        if not match:
            raise RuntimeError(f"ollama-sim did not report its port, got: {line!r}")
        yield match.group(1)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def reset_sim(sim):
    """Clears recorded requests, runtime faults and loaded models before a test."""
    request = urllib.request.Request(sim + "/sim/reset", data=b"{}", method="POST")
    urllib.request.urlopen(request).close()
    return sim
