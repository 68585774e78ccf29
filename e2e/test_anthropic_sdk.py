"""The official `anthropic` Python SDK against the gateway, with ollama-sim as the upstream."""
import base64

import anthropic
import pytest

from fixtures_gateway import PIXEL_PNG

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME_TOOL = {"name": "get_time", "description": "The time now", "input_schema": {"type": "object", "properties": {}}}


def user(text):
    return [{"role": "user", "content": text}]


def comparable(message):
    """A message as a dict without its random ids, to compare streamed and non-streamed answers."""
    data = message.model_dump(exclude_none=True)
    data.pop("id")
    for block in data["content"]:
        if block["type"] == "tool_use":
            assert block["id"].startswith("toolu_")
            block["id"] = "toolu_X"
    return data


def test_create(anthropic_client):
    message = anthropic_client.messages.create(
        model="sim-chat", max_tokens=256, system="Be brief.", messages=user("Hello there"), metadata={"user_id": "u-1"}
    )
    assert message.id.startswith("msg_")
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == "sim-chat"
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "You said: Hello there"
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


@pytest.mark.parametrize(
    "model, extra",
    [
        ("sim-chat", {}),
        ("sim-think", {"thinking": {"type": "enabled", "budget_tokens": 8000}}),
        ("sim-r1", {}),
        ("sim-tools", {"tools": [WEATHER_TOOL, TIME_TOOL]}),
    ],
)
def test_stream_final_message_equals_create(anthropic_client, model, extra):
    request = dict(model=model, max_tokens=1024, messages=user("Call get_weather and get_time"), **extra)
    created = anthropic_client.messages.create(**request)
    with anthropic_client.messages.stream(**request) as stream:
        event_types = [event.type for event in stream]
        final = stream.get_final_message()
    assert comparable(final) == comparable(created)
    assert event_types[0] == "message_start"
    assert event_types[-1] == "message_stop"
    if model in ("sim-think", "sim-r1"):
        assert [block.type for block in final.content] == ["thinking", "text"]
        assert final.content[0].signature
    if model == "sim-tools":
        assert [block.type for block in final.content] == ["tool_use", "tool_use"]
        assert final.stop_reason == "tool_use"


def test_text_stream(anthropic_client):
    with anthropic_client.messages.stream(model="sim-chat", max_tokens=64, messages=user("Hello there")) as stream:
        text = "".join(stream.text_stream)
    assert text == "You said: Hello there"


def test_multi_turn_tools_with_thinking_streamed(anthropic_client, sim_requests):
    """A Claude-style agent loop: think, call tools, send results (and the thinking) back, answer."""
    messages = user("What should I check today?")
    with anthropic_client.messages.stream(
        model="sim-think", max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024}, messages=messages
    ) as stream:
        first = stream.get_final_message()
    assert [block.type for block in first.content] == ["thinking", "text"]
    messages = messages + [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": "Call get_weather and get_time for Oslo"},
    ]

    with anthropic_client.messages.stream(
        model="sim-tools", max_tokens=512, tools=[WEATHER_TOOL, TIME_TOOL], messages=messages
    ) as stream:
        second = stream.get_final_message()
    assert second.stop_reason == "tool_use"
    calls = [block for block in second.content if block.type == "tool_use"]
    assert [call.name for call in calls] == ["get_weather", "get_time"]
    assert calls[0].input == {"city": "Call get_weather and get_time for Oslo"}
    sent = sim_requests("/api/chat")[-1]
    assert sent["messages"][1]["thinking"] == first.content[0].thinking

    results = {"get_weather": "Rain, 12 C", "get_time": "09:30"}
    messages = messages + [
        {"role": "assistant", "content": second.content},
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": results[call.name]} for call in calls
            ],
        },
    ]
    with anthropic_client.messages.stream(
        model="sim-tools", max_tokens=512, tools=[WEATHER_TOOL, TIME_TOOL], messages=messages
    ) as stream:
        third = stream.get_final_message()
    assert third.stop_reason == "end_turn"
    assert third.content[0].text == "The tool get_weather returned: Rain, 12 C\nThe tool get_time returned: 09:30"
    sent = sim_requests("/api/chat")[-1]
    tool_messages = [m for m in sent["messages"] if m["role"] == "tool"]
    assert [m["tool_name"] for m in tool_messages] == ["get_weather", "get_time"]
    assert [m["tool_call_id"] for m in tool_messages] == [call.id for call in calls]
    assistant = [m for m in sent["messages"] if m.get("tool_calls")][0]
    assert assistant["tool_calls"][0]["function"]["arguments"] == calls[0].input


def test_tool_choice(anthropic_client, sim_requests):
    named = anthropic_client.messages.create(
        model="sim-tools", max_tokens=64, tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "tool", "name": "get_time"}, messages=user("Hello"),
    )
    assert [block.name for block in named.content] == ["get_time"]
    assert [t["function"]["name"] for t in sim_requests("/api/chat")[-1]["tools"]] == ["get_time"]
    none = anthropic_client.messages.create(
        model="sim-tools", max_tokens=64, tools=[WEATHER_TOOL], tool_choice={"type": "none"}, messages=user("Hello")
    )
    assert none.content[0].text == "You said: Hello"
    assert "tools" not in sim_requests("/api/chat")[-1]


def test_thinking_on_and_off(anthropic_client, sim_requests):
    on = anthropic_client.messages.create(
        model="sim-think", max_tokens=20000, thinking={"type": "enabled", "budget_tokens": 16384}, messages=user("Hi")
    )
    assert sim_requests("/api/chat")[-1]["think"] == "high"
    assert on.content[0].type == "thinking"
    assert on.content[0].thinking == "The user said: Hi. I should answer by repeating it. Let me double-check that I quote it exactly."
    assert on.content[1].text == "You said: Hi"
    off = anthropic_client.messages.create(
        model="sim-think", max_tokens=100, thinking={"type": "disabled"}, messages=user("Hi")
    )
    assert sim_requests("/api/chat")[-1]["think"] is False
    assert [block.type for block in off.content] == ["text"]


def test_images_base64_and_url(anthropic_client, image_server):
    digest_size = len(PIXEL_PNG)
    for source in (
        {"type": "base64", "media_type": "image/png", "data": base64.b64encode(PIXEL_PNG).decode()},
        {"type": "url", "url": image_server + "/pixel.png"},
    ):
        message = anthropic_client.messages.create(
            model="sim-vision", max_tokens=100,
            messages=[{"role": "user", "content": [{"type": "image", "source": source}, {"type": "text", "text": "What?"}]}],
        )
        assert message.content[0].text.startswith(f"Image 1: {digest_size} bytes"), message.content[0].text
        assert message.content[0].text.endswith("You said: What?")


def test_image_url_that_is_not_an_image(anthropic_client, image_server):
    with pytest.raises(anthropic.BadRequestError) as raised:
        anthropic_client.messages.create(
            model="sim-vision", max_tokens=100,
            messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": image_server + "/page.html"}}]}],
        )
    assert "not an image" in raised.value.message


@pytest.mark.parametrize("streamed", [False, True])
def test_stop_sequences(anthropic_client, sim_requests, streamed):
    request = dict(model="sim-chat", max_tokens=100, stop_sequences=["nothing", " there"], messages=user("Hello there"))
    if streamed:
        with anthropic_client.messages.stream(**request) as stream:
            message = stream.get_final_message()
    else:
        message = anthropic_client.messages.create(**request)
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == " there"
    assert message.content[0].text == "You said: Hello"


@pytest.mark.parametrize("streamed", [False, True])
def test_max_tokens(anthropic_client, sim_requests, streamed):
    request = dict(model="sim-chat", max_tokens=2, messages=user("Hello there"))
    if streamed:
        with anthropic_client.messages.stream(**request) as stream:
            message = stream.get_final_message()
    else:
        message = anthropic_client.messages.create(**request)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 2
    assert sim_requests("/api/chat")[-1]["options"]["num_predict"] == 2


def test_count_tokens(anthropic_client):
    request = dict(model="sim-tools", system="Be brief.", tools=[WEATHER_TOOL], messages=user("Hello there"))
    counted = anthropic_client.messages.count_tokens(**request)
    created = anthropic_client.messages.create(max_tokens=10, tool_choice={"type": "auto"}, **request)
    assert counted.input_tokens == created.usage.input_tokens > 0


def test_ollama_controls_and_extra_body(anthropic_client, sim_requests):
    anthropic_client.messages.create(
        model="sim-chat", max_tokens=10, messages=user("Hi"),
        # `temperature` and `top_k` are Anthropic fields that recent SDK versions no longer take as arguments.
        extra_body={"temperature": 0.3, "top_k": 5, "num_ctx": 4096, "keep_alive": "1m", "options": {"seed": 3}},
    )
    sent = sim_requests("/api/chat")[-1]
    assert sent["options"] == {"num_predict": 10, "top_k": 5, "temperature": 0.3, "num_ctx": 4096, "seed": 3}
    assert sent["keep_alive"] == "1m"


# Failures: each surfaces as the SDK's own exception class.


def test_bad_request(anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as raised:
        anthropic_client.messages.create(
            model="sim-chat", max_tokens=10, thinking={"type": "enabled", "budget_tokens": 2048}, messages=user("Hi")
        )
    assert raised.value.body["error"]["type"] == "invalid_request_error"
    assert "does not support thinking" in raised.value.message
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.create(
            model="sim-chat", max_tokens=10,
            messages=[{"role": "user", "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}]}],
        )


def test_not_found(anthropic_client):
    for call in (
        lambda: anthropic_client.messages.create(model="no-such-model", max_tokens=10, messages=user("Hi")),
        lambda: anthropic_client.messages.stream(model="no-such-model", max_tokens=10, messages=user("Hi")).__enter__(),
        lambda: anthropic_client.messages.count_tokens(model="no-such-model", messages=user("Hi")),
    ):
        with pytest.raises(anthropic.NotFoundError) as raised:
            call()
        assert raised.value.body["error"]["type"] == "not_found_error"
        assert "no-such-model" in raised.value.message


def test_request_too_large(anthropic_client):
    with pytest.raises(anthropic.APIStatusError) as raised:
        anthropic_client.messages.create(model="sim-chat", max_tokens=10, messages=user("x" * (2 * 1024 * 1024)))
    assert raised.value.status_code == 413
    assert isinstance(raised.value, (anthropic.RequestTooLargeError, anthropic.ContentTooLargeError))
    assert raised.value.body["error"]["type"] == "request_too_large"


def test_upstream_failure_is_internal_server_error(anthropic_client):
    with pytest.raises(anthropic.InternalServerError) as raised:
        anthropic_client.messages.create(
            model="sim-chat", max_tokens=10, messages=user("Hi"), extra_body={"options": {"sim_fault": "http_500"}}
        )
    assert raised.value.status_code == 502
    assert raised.value.body["error"]["type"] == "api_error"


def test_busy_ollama_is_overloaded(anthropic_client):
    with pytest.raises(anthropic.OverloadedError) as raised:
        anthropic_client.messages.create(
            model="sim-chat", max_tokens=10, messages=user("Hi"), extra_body={"options": {"sim_fault": "http_503"}}
        )
    assert raised.value.status_code == 529
    assert raised.value.body["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("fault", ["error_mid_stream", "drop_mid_stream", "no_done"])
def test_mid_stream_error_raises_while_iterating(anthropic_client, fault):
    seen = []
    with pytest.raises(anthropic.APIStatusError) as raised:
        with anthropic_client.messages.stream(
            model="sim-chat", max_tokens=100, messages=user("one two three four five six"),
            extra_body={"options": {"sim_fault": fault, "sim_fault_after": 2}},
        ) as stream:
            for event in stream:
                seen.append(event.type)
    assert raised.value.body["error"]["type"] == "api_error"
    assert "message_start" in seen
    assert "content_block_delta" in seen
    assert "message_stop" not in seen
