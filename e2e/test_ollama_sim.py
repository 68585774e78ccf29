"""End-to-end tests: the official `ollama` Python client against the ollama-sim binary.

If these pass, the simulator speaks the real Ollama API as the reference client understands it.
"""

import json
import urllib.request

import ollama
import pytest


def fnv1a64(data: bytes) -> str:
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


@pytest.fixture
def client(reset_sim):
    return ollama.Client(host=reset_sim)


def test_chat(client):
    response = client.chat(model="sim-chat", messages=[{"role": "user", "content": "Hello, world!"}])
    assert response.message.role == "assistant"
    assert response.message.content == "You said: Hello, world!"
    assert response.done is True
    assert response.done_reason == "stop"
    assert response.eval_count == 7
    assert response.prompt_eval_count == 8
    assert response.model == "sim-chat"


def test_streaming_chat(client):
    parts = list(client.chat(model="sim-chat", messages=[{"role": "user", "content": "stream me"}], stream=True))
    assert [p.message.content for p in parts[:-1]] == ["You", " said", ":", " stream", " me"]
    assert parts[-1].done is True
    assert parts[-1].eval_count == len(parts) - 1


def test_thinking(client):
    on = client.chat(model="sim-think", messages=[{"role": "user", "content": "hi"}], think=True)
    assert on.message.thinking == "The user said: hi. I should answer by repeating it."
    assert on.message.content == "You said: hi"

    off = client.chat(model="sim-think", messages=[{"role": "user", "content": "hi"}], think=False)
    assert not off.message.thinking
    assert off.message.content == "You said: hi"

    high = client.chat(model="sim-think", messages=[{"role": "user", "content": "hi"}], think="high")
    assert high.message.thinking.endswith("Let me double-check that I quote it exactly.")

    streamed = list(client.chat(model="sim-think", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(p.message.thinking or "" for p in streamed) == on.message.thinking

    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="sim-chat", messages=[{"role": "user", "content": "hi"}], think=True)
    assert error.value.status_code == 400
    assert error.value.error == '"sim-chat" does not support thinking'


def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
      city: The city name
    """
    return f"Sunny in {city}"


def test_tools_with_a_second_turn(client):
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat(model="sim-tools", messages=messages, tools=[get_weather])
    calls = first.message.tool_calls
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].function.arguments == {"city": "Weather in Paris?"}

    result = get_weather(**calls[0].function.arguments)
    messages.append(first.message)
    messages.append({"role": "tool", "content": result, "tool_name": "get_weather"})
    second = client.chat(model="sim-tools", messages=messages, tools=[get_weather])
    assert second.message.content == "The tool get_weather returned: Sunny in Weather in Paris?"

    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="sim-chat", messages=[{"role": "user", "content": "x"}], tools=[get_weather])
    assert error.value.status_code == 400
    assert error.value.error == "registry.ollama.ai/library/sim-chat:latest does not support tools"


def test_images_as_bytes(client):
    image = bytes(range(256)) * 3
    response = client.chat(
        model="sim-vision",
        messages=[{"role": "user", "content": "what is this?", "images": [image]}],
    )
    assert response.message.content == f"Image 1: 768 bytes, fnv1a64 {fnv1a64(image)}. You said: what is this?"

    generated = client.generate(model="sim-vision", prompt="describe", images=[image])
    assert generated.response.startswith("Image 1: 768 bytes")


def test_embed_batch_and_dimensions(client):
    response = client.embed(model="sim-embed", input=["first text", "second text"])
    assert len(response.embeddings) == 2
    assert all(len(v) == 384 for v in response.embeddings)
    for vector in response.embeddings:
        assert abs(sum(x * x for x in vector) - 1) < 1e-4
    assert response.prompt_eval_count == 4

    cut = client.embed(model="sim-embed", input="first text", dimensions=16)
    assert len(cut.embeddings[0]) == 16
    assert abs(sum(x * x for x in cut.embeddings[0]) - 1) < 1e-4

    legacy = client.embeddings(model="sim-embed", prompt="first text")
    assert len(legacy.embedding) == 384
    assert abs(sum(x * x for x in legacy.embedding) - 1) > 0.5

    with pytest.raises(ollama.ResponseError) as error:
        client.embed(model="nope", input="x")
    assert error.value.status_code == 404
    assert error.value.error == 'model "nope" not found, try pulling it first'


def test_generate(client):
    response = client.generate(model="sim-chat", prompt="Why is the sky blue?")
    assert response.response == "You said: Why is the sky blue?"
    assert response.done_reason == "stop"
    assert len(response.context) > 0

    parts = list(client.generate(model="sim-think", prompt="hi", stream=True))
    assert "".join(p.thinking or "" for p in parts).startswith("The user said: hi.")
    assert "".join(p.response for p in parts) == "You said: hi"

    limited = client.generate(model="sim-chat", prompt="one two three", options={"num_predict": 2})
    assert limited.done_reason == "length"
    assert limited.eval_count == 2

    infill = client.generate(model="sim-code", prompt="def add(a, b):", suffix="return c")
    assert infill.response.startswith("/* infill:")


def test_list_show_ps(client):
    models = client.list().models
    names = [m.model for m in models]
    assert "sim-chat:latest" in names and "sim-embed:latest" in names
    dates = [m.modified_at for m in models]
    assert dates == sorted(dates, reverse=True)
    assert models[0].details.format == "gguf"

    show = client.show("sim-think")
    assert show.capabilities == ["completion", "thinking"]
    assert show.modelinfo["general.architecture"] == "simthink"
    assert show.modelinfo["simthink.context_length"] == 8192
    assert show.details.family == "simthink"

    client.chat(model="sim-chat", messages=[{"role": "user", "content": "x"}], keep_alive="5m")
    running = client.ps().models
    assert [m.model for m in running] == ["sim-chat:latest"]
    assert running[0].expires_at is not None
    assert running[0].context_length == 8192

    client.chat(model="sim-chat", messages=[], keep_alive=0)
    assert client.ps().models == []


def test_unknown_model_is_a_404(client):
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="does-not-exist", messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 404
    assert error.value.error == "model 'does-not-exist' not found"

    with pytest.raises(ollama.ResponseError) as error:
        client.show("does-not-exist")
    assert error.value.status_code == 404


def test_faults_over_http(client, reset_sim):
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="sim-chat", messages=[{"role": "user", "content": "x"}], options={"sim_fault": "http_503"})
    assert error.value.status_code == 503

    request = urllib.request.Request(
        reset_sim + "/sim/faults",
        data=json.dumps({"model": "sim-chat", "fault": "http_500"}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request).close()
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="sim-chat", messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 500

    # A mid-stream error line surfaces as a ResponseError while iterating.
    with pytest.raises(ollama.ResponseError):
        for _ in client.chat(
            model="sim-think",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            options={"sim_fault": "error_mid_stream"},
        ):
            pass

    with urllib.request.urlopen(reset_sim + "/sim/requests") as response:
        recorded = json.load(response)
    assert [r["path"] for r in recorded["requests"]] == ["/api/chat"] * 3
    assert recorded["requests"][0]["body"]["options"]["sim_fault"] == "http_503"
