"""An API key's life, as clients live it: created through the admin API, used with the official
SDKs, rotated, limited and revoked — each refusal surfacing as the SDK's own exception. (Expiry is
covered by the Swift suite, which can create a key that has already expired.)"""
import json
import os
import tempfile
import urllib.request

import anthropic
import ollama
import openai
import pytest

from fixtures_gateway import GATEWAY_BIN, start_listening_process

TOKEN = "lifecycle-admin-token-0123456789abcdef"


@pytest.fixture(scope="module")
def gateway_with_admin(sim):
    data_dir = tempfile.mkdtemp(prefix="gateway-keys-e2e-")
    env = {**os.environ, "ADMIN_TOKEN": TOKEN, "LOG_LEVEL": "warning", "BCRYPT_COST": "4", "KEY_CACHE_TTL_MS": "10000"}
    process, url = start_listening_process(
        [GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", sim, "--data-dir", data_dir], env, "ollama-gateway"
    )
    yield url
    process.terminate()
    process.wait(timeout=10)


def admin(base, method, path, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def chat(base, key, model="sim-chat"):
    client = openai.OpenAI(base_url=base + "/v1", api_key=key, max_retries=0)
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def test_create_use_rotate_revoke(gateway_with_admin):
    base = gateway_with_admin
    created = admin(base, "POST", "/admin/api/keys", {"name": "life"})
    secret, key_id = created["secret"], created["key"]["id"]
    assert chat(base, secret).choices[0].message.content
    message = anthropic.Anthropic(base_url=base, api_key=secret, max_retries=0).messages.create(
        model="sim-chat", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content
    assert ollama.Client(host=base, headers={"Authorization": f"Bearer {secret}"}).list().models

    rotated = admin(base, "POST", f"/admin/api/keys/{key_id}/rotate")["secret"]
    with pytest.raises(openai.AuthenticationError):
        chat(base, secret)
    assert chat(base, rotated).choices[0].message.content

    admin(base, "POST", f"/admin/api/keys/{key_id}/revoke")
    with pytest.raises(openai.AuthenticationError):
        chat(base, rotated)
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=base, api_key=rotated, max_retries=0).messages.create(
            model="sim-chat", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )
    with pytest.raises(ollama.ResponseError) as info:
        ollama.Client(host=base, headers={"Authorization": f"Bearer {rotated}"}).list()
    assert info.value.status_code == 401


def test_model_outside_the_list_and_rate_limit(gateway_with_admin):
    base = gateway_with_admin
    narrow = admin(base, "POST", "/admin/api/keys", {"name": "narrow", "models": ["sim-chat"]})["secret"]
    with pytest.raises(openai.PermissionDeniedError):
        chat(base, narrow, model="sim-think")
    with pytest.raises(anthropic.PermissionDeniedError):
        anthropic.Anthropic(base_url=base, api_key=narrow, max_retries=0).messages.create(
            model="sim-think", max_tokens=20, messages=[{"role": "user", "content": "hi"}]
        )
    secret = admin(base, "POST", "/admin/api/keys", {"name": "limited", "rpm": 2})["secret"]
    chat(base, secret)
    chat(base, secret)
    with pytest.raises(openai.RateLimitError) as info:
        chat(base, secret)
    headers = info.value.response.headers
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit-requests"] == "2" and headers["x-ratelimit-remaining-requests"] == "0"
