"""Fixtures that start the gateway (in front of the `sim` fixture's simulator) and its clients."""
import base64
import http.server
import json
import os
import pathlib
import subprocess
import tempfile
import threading
import urllib.request

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent

PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def start_listening_process(args, env, name):
    """Starts a server that prints `... listening on http://HOST:PORT` when ready; returns (process, url)."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    for line in process.stdout:
        if "listening on " in line:
            return process, line.strip().split("listening on ", 1)[1]
    process.kill()
    raise RuntimeError(f"{name} exited before listening: {process.stderr.read()}")


GATEWAY_BIN = os.environ.get("OLLAMA_GATEWAY_BIN", str(REPO / ".build/debug/ollama-gateway"))


@pytest.fixture(scope="session")
def gateway_data_dir():
    return tempfile.mkdtemp(prefix="gateway-e2e-")


@pytest.fixture(scope="session")
def api_key(gateway_data_dir):
    """A key made as users make one: `keys create` prints it alone on its last line."""
    result = subprocess.run(
        [GATEWAY_BIN, "keys", "create", "--name", "e2e", "--data-dir", gateway_data_dir],
        capture_output=True, text=True, check=True, env={**os.environ, "BCRYPT_COST": "4"},
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def gateway(sim, gateway_data_dir, api_key):
    """The gateway as users run it: keys required, usage recorded."""
    env = dict(os.environ)
    env.update({
        "IMAGE_FETCH_ALLOW_PRIVATE": "true",  # the image server below is on loopback
        "MAX_BODY_BYTES": str(1024 * 1024),
        "LOG_LEVEL": "warning",
        "BCRYPT_COST": "4",
    })
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", gateway_data_dir], env, "ollama-gateway"
    )
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def openai_client(gateway, api_key, reset_sim):
    """A client of the gateway's OpenAI API; each test starts with a simulator without faults or records."""
    import openai

    return openai.OpenAI(base_url=gateway + "/v1", api_key=api_key, max_retries=0, timeout=30)


@pytest.fixture
def anthropic_client(gateway, api_key, reset_sim):
    """A client of the gateway's Anthropic API; each test starts with a simulator without faults or records."""
    import anthropic

    return anthropic.Anthropic(base_url=gateway, api_key=api_key, max_retries=0, timeout=30)


@pytest.fixture
def ollama_client(gateway, api_key, reset_sim):
    """The official `ollama` client against the gateway's native API, with a gateway key."""
    import ollama

    return ollama.Client(host=gateway, headers={"Authorization": f"Bearer {api_key}"})


@pytest.fixture
def sim_requests(sim):
    """The JSON bodies the simulator received on a path, oldest first."""

    def requests(path):
        with urllib.request.urlopen(sim + "/sim/requests") as response:
            recorded = json.load(response)["requests"]
        return [r.get("body") for r in recorded if r.get("path") == path]

    return requests


class _ImageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/pixel.png":
            self._send(200, "image/png", PIXEL_PNG)
        elif self.path == "/page.html":
            self._send(200, "text/html", b"<html>not an image</html>")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/pixel.png")
            self.end_headers()
        else:
            self._send(404, "text/plain", b"missing")

    def _send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def image_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
