"""The official `openai` Python SDK's embeddings and legacy completions against the gateway, with ollama-sim upstream."""
import array
import base64
import math

import openai
import pytest


# Embeddings


def test_embedding_single(openai_client, sim_requests):
    response = openai_client.embeddings.create(model="sim-embed", input="The food was delicious", encoding_format="float")
    assert response.object == "list"
    assert response.model == "sim-embed"
    assert len(response.data) == 1
    item = response.data[0]
    assert item.object == "embedding"
    assert item.index == 0
    assert len(item.embedding) == 384
    assert math.isclose(math.sqrt(sum(v * v for v in item.embedding)), 1.0, rel_tol=1e-4)
    assert response.usage.prompt_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens
    assert len(sim_requests("/api/embed")) == 1


def test_embedding_batch_is_one_upstream_call(openai_client, sim_requests):
    texts = ["first text", "second text", "third text"]
    response = openai_client.embeddings.create(model="sim-embed", input=texts, encoding_format="float")
    assert [item.index for item in response.data] == [0, 1, 2]
    assert len({tuple(item.embedding) for item in response.data}) == 3
    sent = sim_requests("/api/embed")
    assert len(sent) == 1
    assert sent[0]["input"] == texts


def test_embedding_dimensions(openai_client, sim_requests):
    response = openai_client.embeddings.create(model="sim-embed", input=["a", "b"], dimensions=64, encoding_format="float")
    assert [len(item.embedding) for item in response.data] == [64, 64]
    assert sim_requests("/api/embed")[0]["dimensions"] == 64


def test_embedding_sdk_default_base64_decodes_to_the_float_result(openai_client, sim_requests):
    texts = ["alpha", "beta"]
    floats = openai_client.embeddings.create(model="sim-embed", input=texts, encoding_format="float")
    # Without encoding_format the SDK asks for base64 and decodes it to floats itself.
    decoded = openai_client.embeddings.create(model="sim-embed", input=texts)
    for plain, packed in zip(floats.data, decoded.data):
        assert len(packed.embedding) == len(plain.embedding)
        # float32 on the wire: equal to the float answer rounded to float32.
        expected = array.array("f", plain.embedding).tolist()
        assert packed.embedding == expected
    assert sim_requests("/api/embed")[-1].get("encoding_format") is None


def test_embedding_explicit_base64_is_little_endian_float32(openai_client):
    plain = openai_client.embeddings.create(model="sim-embed", input="gamma", encoding_format="float")
    packed = openai_client.embeddings.create(model="sim-embed", input="gamma", encoding_format="base64")
    # Asked explicitly, the SDK leaves the base64 string as it came.
    raw = base64.b64decode(packed.data[0].embedding)
    assert len(raw) == 4 * len(plain.data[0].embedding)
    values = array.array("f")
    values.frombytes(raw)
    assert values.tolist() == array.array("f", plain.data[0].embedding).tolist()


def test_embedding_errors(openai_client):
    with pytest.raises(openai.NotFoundError) as not_found:
        openai_client.embeddings.create(model="no-such-model", input="x")
    assert "no-such-model" in not_found.value.message
    with pytest.raises(openai.BadRequestError) as tokens:
        openai_client.embeddings.create(model="sim-embed", input=[[1, 2, 3]])
    assert tokens.value.body["param"] == "input"
    with pytest.raises(openai.BadRequestError):
        openai_client.embeddings.create(model="sim-embed", input="")
    with pytest.raises(openai.InternalServerError) as busy:
        openai_client.embeddings.create(model="sim-embed", input="x", extra_body={"options": {"sim_fault": "http_503"}})
    assert busy.value.status_code == 503


# Legacy completions


def test_completion_non_streaming(openai_client, sim_requests):
    response = openai_client.completions.create(model="sim-chat", prompt="Hello there", max_tokens=50)
    assert response.id.startswith("cmpl-")
    assert response.object == "text_completion"
    assert response.model == "sim-chat"
    assert response.created > 1_600_000_000
    choice = response.choices[0]
    assert choice.index == 0
    assert choice.text == "You said: Hello there"
    assert choice.logprobs is None
    assert choice.finish_reason == "stop"
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    assert sim_requests("/api/generate")[-1]["options"] == {"num_predict": 50}


def test_completion_streaming_matches_non_streaming(openai_client):
    whole = openai_client.completions.create(model="sim-chat", prompt="Tell me something")
    chunks = list(
        openai_client.completions.create(
            model="sim-chat", prompt="Tell me something", stream=True, stream_options={"include_usage": True}
        )
    )
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "text_completion" for c in chunks)
    text = "".join(choice.text for c in chunks for choice in c.choices)
    assert text == whole.choices[0].text
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens


def test_completion_array_prompt(openai_client, sim_requests):
    response = openai_client.completions.create(model="sim-chat", prompt=["One", "Two"], echo=True)
    assert [c.index for c in response.choices] == [0, 1]
    assert [c.text for c in response.choices] == ["OneYou said: One", "TwoYou said: Two"]
    assert [r["prompt"] for r in sim_requests("/api/generate")] == ["One", "Two"]

    chunks = list(openai_client.completions.create(model="sim-chat", prompt=["One", "Two"], stream=True))
    texts = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
    assert texts == {0: "You said: One", 1: "You said: Two"}


def test_completion_length_and_stop(openai_client):
    short = openai_client.completions.create(model="sim-chat", prompt="Write a long story", max_tokens=2)
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens == 2
    stopped = openai_client.completions.create(model="sim-chat", prompt="Hello there", stop=["there"])
    assert stopped.choices[0].text == "You said: Hello "
    assert stopped.choices[0].finish_reason == "stop"


def test_completion_suffix(openai_client):
    response = openai_client.completions.create(model="sim-code", prompt="def add(a, b):", suffix="return c")
    assert response.choices[0].text.startswith("/* infill:")


def test_completion_errors(openai_client):
    with pytest.raises(openai.BadRequestError) as n:
        openai_client.completions.create(model="sim-chat", prompt="x", n=2)
    assert n.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError) as best_of:
        openai_client.completions.create(model="sim-chat", prompt="x", best_of=3)
    assert best_of.value.body["param"] == "best_of"
    with pytest.raises(openai.BadRequestError) as logprobs:
        openai_client.completions.create(model="sim-chat", prompt="x", logprobs=2)
    assert logprobs.value.body["param"] == "logprobs"
    with pytest.raises(openai.BadRequestError) as tokens:
        openai_client.completions.create(model="sim-chat", prompt=[1, 2, 3])
    assert tokens.value.body["param"] == "prompt"
    with pytest.raises(openai.NotFoundError):
        openai_client.completions.create(model="no-such-model", prompt="x", stream=True)
    with pytest.raises(openai.InternalServerError) as failed:
        openai_client.completions.create(model="sim-chat", prompt="x", extra_body={"options": {"sim_fault": "http_500"}})
    assert failed.value.status_code == 502


def test_completion_mid_stream_failure_surfaces_as_api_error(openai_client):
    stream = openai_client.completions.create(
        model="sim-chat", prompt="Tell me more", stream=True, extra_body={"options": {"sim_fault": "error_mid_stream"}}
    )
    received = []
    with pytest.raises(openai.APIError) as failure:
        for chunk in stream:
            received.append(chunk)
    assert received, "chunks before the failure arrive"
    assert "unexpectedly stopped" in failure.value.message
