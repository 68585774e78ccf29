"""The official `openai` Python SDK against the gateway, with ollama-sim as the upstream."""
import base64
import json

import openai
import pytest

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_non_streaming(openai_client):
    response = openai_client.chat.completions.create(
        model="sim-chat", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert response.id.startswith("chatcmpl-")
    assert response.object == "chat.completion"
    assert response.model == "sim-chat"
    assert response.created > 1_600_000_000
    choice = response.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason == "stop"
    assert response.usage.prompt_tokens > 0
    assert response.usage.completion_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_streaming_matches_non_streaming(openai_client):
    messages = [{"role": "user", "content": "Tell me something"}]
    whole = openai_client.chat.completions.create(model="sim-chat", messages=messages)
    chunks = list(openai_client.chat.completions.create(model="sim-chat", messages=messages, stream=True))
    assert len({c.id for c in chunks}) == 1
    assert len({c.created for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)


def test_include_usage(openai_client):
    chunks = list(
        openai_client.chat.completions.create(
            model="sim-chat",
            messages=[{"role": "user", "content": "Count my tokens"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    last = chunks[-1]
    assert last.choices == []
    assert last.usage.completion_tokens > 0
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    # One chunk per produced token at most (plus role, finish and usage chunks).
    assert last.usage.completion_tokens <= len(chunks)


def test_max_tokens_gives_length(openai_client):
    response = openai_client.chat.completions.create(
        model="sim-chat", messages=[{"role": "user", "content": "Write a long story"}], max_tokens=2
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 2


def test_tools_over_two_turns(openai_client):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = openai_client.chat.completions.create(model="sim-tools", messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert call.id
    arguments = json.loads(call.function.arguments)
    assert isinstance(arguments, dict) and "city" in arguments

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "Sunny, 24 C"})
    second = openai_client.chat.completions.create(model="sim-tools", messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert "Sunny, 24 C" in second.choices[0].message.content


def test_streamed_tool_calls(openai_client):
    chunks = list(
        openai_client.chat.completions.create(
            model="sim-tools",
            messages=[{"role": "user", "content": "Weather please"}],
            tools=[WEATHER_TOOL],
            stream=True,
        )
    )
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls and calls[0].index == 0 and calls[0].function.name == "get_weather"
    json.loads(calls[0].function.arguments)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_image_data_url(openai_client):
    url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    response = openai_client.chat.completions.create(
        model="sim-vision",
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]}],
    )
    assert str(len(PNG)) in response.choices[0].message.content


def test_image_http_url(openai_client, image_server):
    response = openai_client.chat.completions.create(
        model="sim-vision",
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Describe"},
            {"type": "image_url", "image_url": {"url": image_server + "/pixel.png"}},
        ]}],
    )
    assert str(len(PNG)) in response.choices[0].message.content


def test_image_url_that_is_not_an_image_is_400(openai_client, image_server):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model="sim-vision",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": image_server + "/page.html"}}]}],
        )
    assert "not an image" in info.value.message


def test_reasoning_on(openai_client):
    response = openai_client.chat.completions.create(
        model="sim-think", messages=[{"role": "user", "content": "Think about it"}], reasoning_effort="high"
    )
    message = response.choices[0].message
    assert message.content
    assert message.model_extra.get("reasoning_content")


def test_reasoning_streamed(openai_client):
    chunks = list(
        openai_client.chat.completions.create(
            model="sim-think", messages=[{"role": "user", "content": "Think"}], stream=True
        )
    )
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning and content


def test_reasoning_off(openai_client):
    response = openai_client.chat.completions.create(
        model="sim-think", messages=[{"role": "user", "content": "Quick answer"}], reasoning_effort="none"
    )
    assert response.choices[0].message.content
    assert not response.choices[0].message.model_extra.get("reasoning_content")


def test_exclude_reasoning(openai_client):
    response = openai_client.chat.completions.create(
        model="sim-think", messages=[{"role": "user", "content": "Hide it"}], extra_body={"exclude_reasoning": True}
    )
    assert response.choices[0].message.content
    assert not response.choices[0].message.model_extra.get("reasoning_content")


def test_think_tags_in_content_are_split(openai_client):
    response = openai_client.chat.completions.create(model="sim-r1", messages=[{"role": "user", "content": "Solve"}])
    message = response.choices[0].message
    assert "<think>" not in message.content
    assert message.model_extra.get("reasoning_content")


def test_json_schema(openai_client, sim_requests):
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    openai_client.chat.completions.create(
        model="sim-chat",
        messages=[{"role": "user", "content": "Give me a name"}],
        response_format={"type": "json_schema", "json_schema": {"name": "person", "schema": schema}},
    )
    sent = sim_requests("/api/chat")[-1]
    assert sent["format"] == schema


def test_ollama_controls_pass_through(openai_client, sim_requests):
    openai_client.chat.completions.create(
        model="sim-chat",
        messages=[{"role": "user", "content": "x"}],
        temperature=0.3,
        extra_body={"num_ctx": 4096, "keep_alive": "1m", "options": {"top_k": 7}},
    )
    sent = sim_requests("/api/chat")[-1]
    assert sent["options"] == {"num_ctx": 4096, "top_k": 7, "temperature": 0.3}
    assert sent["keep_alive"] == "1m"


def test_unknown_model_is_not_found(openai_client):
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "x"}])
    assert info.value.code == "model_not_found"


def test_bad_request_names_the_parameter(openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model="sim-chat", messages=[{"role": "user", "content": "x"}], n=3)
    assert info.value.param == "n"


def test_ollama_400_is_passed_on(openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "x"}], reasoning_effort="high"
        )
    assert "does not support thinking" in info.value.message


def test_body_too_large_is_413(openai_client):
    with pytest.raises(openai.APIStatusError) as info:
        openai_client.chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "x" * (2 * 1024 * 1024)}]
        )
    assert info.value.status_code == 413


@pytest.mark.parametrize("fault,status", [("http_500", 502), ("http_503", 503)])
def test_upstream_failures_are_server_errors(openai_client, fault, status):
    with pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(
            model="sim-chat", messages=[{"role": "user", "content": "x"}], extra_body={"options": {"sim_fault": fault}}
        )
    assert info.value.status_code == status


def test_deadline_is_504(openai_client):
    with pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(
            model="sim-chat",
            messages=[{"role": "user", "content": "x"}],
            extra_body={"timeout_ms": 300, "options": {"sim_fault": "slow_first_token", "sim_delay_ms": 3000}},
        )
    assert info.value.status_code == 504


@pytest.mark.parametrize("fault", ["error_mid_stream", "no_done", "drop_mid_stream"])
def test_mid_stream_failure_raises_in_the_sdk(openai_client, fault):
    stream = openai_client.chat.completions.create(
        model="sim-chat",
        messages=[{"role": "user", "content": "Tell me a long story please"}],
        stream=True,
        extra_body={"options": {"sim_fault": fault}},
    )
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            received.append(chunk)
    assert received, "the chunks before the failure arrive first"


def test_model_listing(openai_client):
    models = {m.id: m for m in openai_client.models.list()}
    assert "sim-chat:latest" in models and "sim-embed:latest" in models
    vision = models["sim-vision:latest"]
    assert vision.object == "model" and vision.owned_by == "ollama" and vision.created > 1_600_000_000
    assert vision.model_extra["capabilities"] == ["completion", "vision"]
    assert openai_client.models.retrieve("sim-think:latest").id == "sim-think:latest"
    with pytest.raises(openai.NotFoundError):
        openai_client.models.retrieve("no-such-model")
