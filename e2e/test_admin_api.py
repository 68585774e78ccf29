"""The admin JSON API of the built gateway, as the web UI and scripts use it, with ollama-sim upstream."""
import json
import os
import pathlib
import tempfile
import urllib.error
import urllib.request

import pytest

from fixtures_gateway import start_listening_process

REPO = pathlib.Path(__file__).resolve().parent.parent
BINARY = os.environ.get("OLLAMA_GATEWAY_BIN", str(REPO / ".build/debug/ollama-gateway"))
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdefghij"
PASSWORD = "e2e admin password"


class Admin:
    """A browser-like client: keeps the session cookie and sends the CSRF token."""

    def __init__(self, base):
        self.base = base
        self.cookie = None
        self.csrf = None
        self.bearer = None

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.cookie:
            request.add_header("Cookie", self.cookie)
        if self.csrf:
            request.add_header("X-CSRF-Token", self.csrf)
        if self.bearer:
            request.add_header("Authorization", f"Bearer {self.bearer}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, response.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, error.headers, json.loads(raw) if raw else None

    def login(self, username, password):
        status, headers, body = self.call("POST", "/admin/api/login", {"username": username, "password": password})
        if status == 200:
            set_cookie = [h for h in headers.get_all("Set-Cookie") if h.startswith("gateway_session=")][0]
            self.cookie = set_cookie.split(";", 1)[0]
            self.csrf = body["csrf_token"]
        return status, headers, body


@pytest.fixture(scope="module")
def admin_gateway(sim):
    data_dir = tempfile.mkdtemp(prefix="gateway-admin-e2e-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "ADMIN_PASSWORD")}
    env.update({"ADMIN_TOKEN": ADMIN_TOKEN, "LOG_LEVEL": "warning"})
    process, url = start_listening_process(
        [BINARY, "serve", "--port", "0", "--ollama-url", "http://127.0.0.1:9", "--data-dir", data_dir], env, "ollama-gateway")
    yield url, sim
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def admin(admin_gateway):
    """Signed in, with the default password changed."""
    base, _ = admin_gateway
    client = Admin(base)
    status, headers, body = client.login("admin", "admin")
    assert status == 200 and body["must_change_password"] is True
    attributes = [a.strip() for a in [h for h in headers.get_all("Set-Cookie") if h.startswith("gateway_session=")][0].split(";")]
    assert "HttpOnly" in attributes and "SameSite=Strict" in attributes and "Path=/" in attributes

    status, _, body = client.call("GET", "/admin/api/keys")
    assert status == 403 and body["error"]["type"] == "password_change_required"
    status, _, body = client.call("POST", "/admin/api/password", {"current_password": "admin", "new_password": "short"})
    assert status == 400 and "at least 8" in body["error"]["message"]
    status, _, _ = client.call("POST", "/admin/api/password", {"current_password": "admin", "new_password": PASSWORD})
    assert status == 200
    return client


def test_keys_through_the_api(admin):
    status, _, body = admin.call("POST", "/admin/api/keys", {"name": "e2e", "models": ["sim-*"], "rpm": 30, "expires_in": "7d"})
    assert status == 201
    secret, key = body["secret"], body["key"]
    assert secret.startswith("sk-") and key["prefix"] == secret[:11] and key["rpm"] == 30
    status, _, listed = admin.call("GET", "/admin/api/keys")
    assert status == 200 and secret not in json.dumps(listed)
    status, _, patched = admin.call("PATCH", f"/admin/api/keys/{key['id']}", {"rpm": None, "quota": 1000})
    assert status == 200 and patched["rpm"] is None and patched["quota"] == 1000
    status, _, rotated = admin.call("POST", f"/admin/api/keys/{key['id']}/rotate")
    assert status == 200 and rotated["secret"] != secret and rotated["key"]["id"] == key["id"]
    status, _, revoked = admin.call("DELETE", f"/admin/api/keys/{key['id']}")
    assert status == 200 and revoked["status"] == "revoked"
    status, _, body = admin.call("POST", "/admin/api/keys", {"name": "x", "rpm": -1})
    assert status == 400 and "'rpm'" in body["error"]["message"]


def test_csrf_and_origin_are_enforced(admin):
    token, admin.csrf = admin.csrf, None
    try:
        status, _, body = admin.call("POST", "/admin/api/keys", {"name": "no-token"})
        assert status == 403 and body["error"]["type"] == "csrf_failed"
    finally:
        admin.csrf = token
    status, headers, _ = admin.call("POST", "/admin/api/keys", {"name": "x"}, headers={"Origin": "https://evil.example"})
    assert status == 403
    assert not [name for name in headers.keys() if name.lower().startswith("access-control-")]
    status, headers, _ = admin.call("OPTIONS", "/admin/api/keys", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert status != 200
    assert not [name for name in headers.keys() if name.lower().startswith("access-control-")]


def test_settings_and_models(admin, admin_gateway):
    _, sim = admin_gateway
    status, _, settings = admin.call("GET", "/admin/api/settings")
    assert status == 200 and settings["sources"]["ollama_url"] == "configuration"
    status, _, body = admin.call("PATCH", "/admin/api/settings", {"ollama_url": "not a url"})
    assert status == 400
    status, _, settings = admin.call("PATCH", "/admin/api/settings", {"ollama_url": sim, "defaults": {"num_ctx": 4096}})
    assert status == 200 and settings["ollama_url"] == sim and settings["defaults"] == {"num_ctx": 4096}
    status, _, refreshed = admin.call("POST", "/admin/api/models/refresh")
    assert status == 200 and refreshed["models"] > 0
    status, _, models = admin.call("GET", "/admin/api/models")
    names = [m["name"] for m in models["models"]]
    assert "sim-chat:latest" in names
    status, _, updated = admin.call("PUT", "/admin/api/models/sim-chat", {"aliases": ["e2e-chat"], "overrides": {"num_ctx": 2048}})
    assert status == 200 and updated["model"]["aliases"] == ["e2e-chat"]


def test_admin_token_and_audit(admin, admin_gateway):
    base, _ = admin_gateway
    script = Admin(base)
    script.bearer = ADMIN_TOKEN
    status, _, body = script.call("POST", "/admin/api/keys", {"name": "scripted"})
    assert status == 201
    script.bearer = "wrong-token-wrong-token"
    assert script.call("GET", "/admin/api/keys")[0] == 401
    script.bearer = ADMIN_TOKEN
    status, _, audit = script.call("GET", "/admin/api/audit?limit=500")
    assert status == 200
    actions = {entry["action"] for entry in audit["entries"]}
    for action in ("login.success", "password.change", "key.create", "key.update", "key.rotate", "key.revoke",
                   "settings.update", "models.refresh", "model.update"):
        assert action in actions, action
    text = json.dumps(audit)
    assert PASSWORD not in text and "sk-" not in text.replace('"prefix": "sk-', "").replace('"previous_prefix": "sk-', "")
    kinds = {entry["actor"]["kind"] for entry in audit["entries"]}
    assert kinds == {"account", "token"}


def test_logout_ends_the_session(admin, admin_gateway):
    base, _ = admin_gateway
    client = Admin(base)
    assert client.login("admin", PASSWORD)[0] == 200
    status, headers, _ = client.call("POST", "/admin/api/logout")
    assert status == 204 and "Max-Age=0" in headers.get("Set-Cookie")
    assert client.call("GET", "/admin/api/session")[0] == 401


def test_a_claude_alias_for_claude_codes_model_picker(admin, admin_gateway):
    """Claude Code lists only ids starting with `claude`: a local model is published under such an alias
    (docs/clients.md), and the Anthropic SDK lists and calls it by that name."""
    import anthropic

    base, sim = admin_gateway
    assert admin.call("PATCH", "/admin/api/settings", {"ollama_url": sim})[0] == 200
    admin.call("POST", "/admin/api/models/refresh")
    status, _, updated = admin.call("PUT", "/admin/api/models/sim-agent", {"aliases": ["claude-local-agent"]})
    assert status == 200, updated
    status, _, body = admin.call("POST", "/admin/api/keys", {"name": "claude-code"})
    assert status == 201
    client = anthropic.Anthropic(base_url=base, api_key=body["secret"], max_retries=0, timeout=30)
    listed = [model.id for model in client.models.list(limit=1000)]
    assert "claude-local-agent" in listed
    assert [i for i in listed if i.startswith("claude")] == ["claude-local-agent"]
    assert client.models.retrieve("claude-local-agent").display_name == "claude-local-agent"
    message = client.messages.create(
        model="claude-local-agent", max_tokens=64, thinking={"type": "adaptive"},
        messages=[{"role": "user", "content": "Hello"}],
    )
    assert message.model == "claude-local-agent"
    assert [block.type for block in message.content] == ["thinking", "text"]
