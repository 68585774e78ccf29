"""The official `ollama` Python client against the gateway's native API, with a gateway key."""
import ollama
import pytest


def test_chat_and_stream(ollama_client):
    answer = ollama_client.chat(model="sim-chat", messages=[{"role": "user", "content": "Hello there"}])
    assert answer.message.content
    assert answer.done and answer.eval_count > 0
    parts = list(ollama_client.chat(model="sim-chat", messages=[{"role": "user", "content": "Hello there"}], stream=True))
    assert "".join(p.message.content for p in parts) == answer.message.content
    assert parts[-1].done


def test_thinking_and_options(ollama_client, sim_requests):
    answer = ollama_client.chat(
        model="sim-think", messages=[{"role": "user", "content": "Think"}], think="low", options={"num_ctx": 2048}
    )
    assert answer.message.thinking
    sent = sim_requests("/api/chat")[-1]
    assert sent["think"] == "low" and sent["options"]["num_ctx"] == 2048


def test_generate_embed_list_show(ollama_client):
    assert ollama_client.generate(model="sim-chat", prompt="Hi").response
    vectors = ollama_client.embed(model="sim-embed", input=["a", "b"]).embeddings
    assert len(vectors) == 2
    names = [m.model for m in ollama_client.list().models]
    assert "sim-chat:latest" in names
    assert "vision" in ollama_client.show("sim-vision").capabilities


def test_without_a_key_is_refused(gateway):
    client = ollama.Client(host=gateway)
    with pytest.raises(ollama.ResponseError) as info:
        client.list()
    assert info.value.status_code == 401


def test_unknown_model(ollama_client):
    with pytest.raises(ollama.ResponseError) as info:
        ollama_client.chat(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 404
