"""Clients people run, pointed at the gateway as docs/clients.md says, against ollama-sim."""
import anthropic
import openai
import pytest


def test_anthropic_models_list_and_retrieve(anthropic_client):
    models = list(anthropic_client.models.list())
    assert models, "no models listed"
    ids = [model.id for model in models]
    assert "sim-chat" in ids or "sim-chat:latest" in ids
    for model in models:
        assert model.type == "model"
        assert model.display_name
        assert model.created_at.year >= 1970
    # The SDK pages with after_id until has_more is false.
    page = anthropic_client.models.list(limit=2)
    assert len(page.data) == 2 and page.has_more is True
    assert [m.id for m in page.data] == ids[:2]
    following = anthropic_client.models.list(limit=2, after_id=page.last_id)
    assert [m.id for m in following.data] == ids[2:4]

    info = anthropic_client.models.retrieve(ids[0])
    assert info.id == ids[0] and info.type == "model" and info.display_name
    with pytest.raises(anthropic.NotFoundError) as caught:
        anthropic_client.models.retrieve("no-such-model")
    assert "no-such-model" in str(caught.value)


def test_anthropic_system_message_mid_conversation(anthropic_client, sim_requests):
    message = anthropic_client.messages.create(
        model="sim-chat",
        max_tokens=64,
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "system", "content": "From now on, be brief."},
            {"role": "user", "content": "Again"},
        ],
    )
    assert message.content[0].text == "You said: Again"
    sent = sim_requests("/api/chat")[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "system", "user"]
    assert sent[2]["content"] == "From now on, be brief."


def test_anthropic_adaptive_thinking_on_a_model_that_cannot_think(anthropic_client, sim_requests):
    message = anthropic_client.messages.create(
        model="sim-chat", max_tokens=64, thinking={"type": "adaptive"}, messages=[{"role": "user", "content": "Hi"}]
    )
    assert [block.type for block in message.content] == ["text"]
    assert "think" not in sim_requests("/api/chat")[-1]
    assert message.usage.cache_read_input_tokens == 0 and message.usage.cache_creation_input_tokens == 0


def test_unknown_route_is_not_found_with_a_message(anthropic_client, openai_client):
    with pytest.raises(anthropic.NotFoundError) as caught:
        anthropic_client.get("/v1/no-such-route", cast_to=object)
    assert "/v1/no-such-route" in str(caught.value)
    with pytest.raises(openai.NotFoundError) as caught:
        openai_client.get("/no-such-route", cast_to=object)
    assert "/v1/no-such-route" in str(caught.value)


def test_openai_extra_body_null_options_are_not_set(openai_client, sim_requests):
    answer = openai_client.chat.completions.create(
        model="sim-chat", messages=[{"role": "user", "content": "Hi"}], extra_body={"num_ctx": None, "options": {"seed": None}}
    )
    assert answer.choices[0].message.content == "You said: Hi"
    sent = sim_requests("/api/chat")[-1]
    assert "num_ctx" not in sent.get("options", {}) and "seed" not in sent.get("options", {})


@pytest.mark.parametrize("path,body", [
    ("/api/chat", {"model": "sim-chat", "messages": [{"role": "user", "content": "hi"}]}),
    ("/api/generate", {"model": "sim-chat", "prompt": "hi"}),
    ("/v1/completions", {"model": "sim-chat", "stream": True, "prompt": "hi"}),
    ("/v1/chat/completions", {"model": "sim-chat", "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/messages", {"model": "sim-chat", "max_tokens": 20, "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
])
def test_pooled_connections_survive_streams(gateway, api_key, reset_sim, path, body):
    """Clients that pool connections (httpx under langchain-ollama and the SDKs) send the next request
    right after a stream, on the same connection: the gateway keeps it open after a complete stream."""
    import httpx

    local_ports = set()
    with httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as client:
        for _ in range(40):
            with client.stream("POST", path, json=body) as response:
                assert response.status_code == 200
                assert response.headers.get("connection") != "close"
                local_ports.add(response.extensions["network_stream"].get_extra_info("client_addr")[1])
                for _ in response.iter_lines():
                    pass
    assert len(local_ports) == 1, f"{len(local_ports)} connections for 40 streams"
