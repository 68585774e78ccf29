"""The Responses API (`/v1/responses`) with the official `openai` SDK and with `openai-agents`.

The simulator's `sim-agent` model follows `[[call NAME {arguments}]]` scripts (rounds separated by
`[[next]]`, docs/ollama-sim.md), so agent runs are deterministic: a handoff is the scripted call of
the SDK's `transfer_to_<agent>` tool.
"""
import asyncio
import json

import openai
import pydantic
import pytest

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


class Person(pydantic.BaseModel):
    name: str
    city: str


def test_create(openai_client, sim_requests):
    response = openai_client.responses.create(model="sim-chat", instructions="Be brief.", input="Hello there")
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == "sim-chat"
    assert response.output_text == "You said: Hello there"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    sent = sim_requests("/api/chat")[-1]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}


def test_reasoning_and_usage(openai_client):
    response = openai_client.responses.create(
        model="sim-think", input="Hello there", reasoning={"effort": "high", "summary": "auto"}
    )
    kinds = [item.type for item in response.output]
    assert kinds == ["reasoning", "message"]
    assert "double-check" in response.output[0].summary[0].text
    assert 0 < response.usage.output_tokens_details.reasoning_tokens < response.usage.output_tokens


def test_stream(openai_client):
    deltas = []
    types = []
    with openai_client.responses.stream(model="sim-think", input="Hello there") as stream:
        for event in stream:
            types.append(event.type)
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in types
    assert "".join(deltas) == "You said: Hello there"
    assert final.output_text == "You said: Hello there"
    assert final.usage.output_tokens > 0


def test_raw_stream_sequence_numbers(openai_client):
    events = list(openai_client.responses.create(model="sim-chat", input="Hi", stream=True))
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert events[-1].type == "response.completed"


def test_wire_validates_strictly_against_the_sdk_types(openai_client):
    """The SDK reads leniently; its pydantic types say which fields are required. Every field they
    require is there, in a plain response and in every stream event (reasoning included)."""
    import httpx
    from openai.types.responses import Response, ResponseStreamEvent

    raw = openai_client.responses.with_raw_response.create(model="sim-think", input="Hello there")
    Response.model_validate(raw.http_response.json())
    events = pydantic.TypeAdapter(ResponseStreamEvent)
    seen = []
    with httpx.stream(
        "POST", f"{openai_client.base_url}responses", json={"model": "sim-think", "input": "Hi", "stream": True},
        headers={"Authorization": f"Bearer {openai_client.api_key}"}, timeout=30,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                seen.append(events.validate_python(json.loads(line[len("data: "):])).type)
    assert seen[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in seen


def test_previous_response_id_over_three_turns(openai_client, sim_requests):
    first = openai_client.responses.create(model="sim-chat", input="One")
    second = openai_client.responses.create(model="sim-chat", input="Two", previous_response_id=first.id)
    third = openai_client.responses.create(model="sim-chat", input="Three", previous_response_id=second.id)
    assert third.previous_response_id == second.id
    assert third.output_text == "You said: Three"
    sent = sim_requests("/api/chat")[-1]["messages"]
    assert [(m["role"], m["content"]) for m in sent] == [
        ("user", "One"), ("assistant", "You said: One"),
        ("user", "Two"), ("assistant", "You said: Two"),
        ("user", "Three"),
    ]


def test_function_tool_round_trip(openai_client):
    first = openai_client.responses.create(model="sim-tools", input="get_weather in Paris", tools=[WEATHER_TOOL])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "get_weather in Paris"}
    second = openai_client.responses.create(
        model="sim-tools",
        previous_response_id=first.id,
        tools=[WEATHER_TOOL],
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "Sunny"}],
    )
    assert second.output_text == "The tool get_weather returned: Sunny"


def test_function_tool_streamed(openai_client):
    with openai_client.responses.stream(model="sim-tools", input="weather", tools=[WEATHER_TOOL]) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in types
    assert "response.function_call_arguments.done" in types
    assert final.output[0].type == "function_call"


def test_structured_output(openai_client):
    parsed = openai_client.responses.parse(model="sim-chat", input="Ada from London", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)
    assert parsed.output_parsed.name == "You said: Ada from London"


def test_retrieve_delete_and_input_items(openai_client):
    created = openai_client.responses.create(
        model="sim-chat", input=[{"role": "user", "content": [{"type": "input_text", "text": "Keep me"}]}]
    )
    retrieved = openai_client.responses.retrieve(created.id)
    assert retrieved.id == created.id and retrieved.output_text == created.output_text
    items = openai_client.responses.input_items.list(created.id)
    assert [item.type for item in items.data] == ["message"]
    assert items.data[0].content[0].text == "Keep me"
    assert items.data[0].id
    deleted = openai_client.responses.delete(created.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(created.id)


def test_store_false_is_not_kept(openai_client):
    response = openai_client.responses.create(model="sim-chat", input="Forget me", store=False)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(response.id)


def test_input_tokens(openai_client):
    counted = openai_client.responses.input_tokens.count(model="sim-chat", input="Hello there")
    created = openai_client.responses.create(model="sim-chat", input="Hello there")
    assert counted.input_tokens == created.usage.input_tokens


def test_hosted_tools_are_refused(openai_client):
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client.responses.create(model="sim-tools", input="x", tools=[{"type": "web_search"}])
    assert "web_search" in refused.value.message
    assert refused.value.body["param"] == "tools[0].type"


# --- openai-agents, with its default (Responses) model pointed at the gateway -------------------


@pytest.fixture
def agents_sdk(gateway, api_key, reset_sim):
    import agents

    agents.set_tracing_disabled(True)
    agents.set_default_openai_client(
        openai.AsyncOpenAI(base_url=gateway + "/v1", api_key=api_key, max_retries=0, timeout=30), use_for_tracing=False
    )
    agents.set_default_openai_api("responses")
    return agents


def weather_agents(agents):
    calls = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        calls.append(city)
        return f"Sunny in {city}"

    forecaster = agents.Agent(
        name="Forecaster", instructions="Give forecasts.", model="sim-agent",
        handoff_description="Long-range forecasts",
    )
    triage = agents.Agent(
        name="Triage", instructions="Help with the weather.", model="sim-agent",
        tools=[get_weather], handoffs=[forecaster],
    )
    script = "\n".join([
        "What is the weather in Paris, and then the forecast?",
        "[[call get_weather " + json.dumps({"city": "Paris"}) + "]]",
        "[[next]]",
        "[[call transfer_to_forecaster {}]]",
    ])
    return triage, forecaster, script, calls


def check_weather_run(result, forecaster, calls, sim_requests):
    assert calls == ["Paris"]
    assert result.last_agent is forecaster
    assert "The tool get_weather returned: Sunny in Paris" in result.final_output
    bodies = sim_requests("/api/chat")
    assert len(bodies) == 3
    # The forecaster's turn sees the whole run: the tool's result and the handoff.
    last = bodies[-1]["messages"]
    assert last[0] == {"role": "system", "content": "Give forecasts."}
    assert any(m["role"] == "tool" and m.get("tool_name") == "transfer_to_forecaster" for m in last)


def test_agent_with_tool_and_handoff(agents_sdk, sim_requests):
    triage, forecaster, script, calls = weather_agents(agents_sdk)
    result = agents_sdk.Runner.run_sync(triage, script)
    check_weather_run(result, forecaster, calls, sim_requests)


def test_agent_with_tool_and_handoff_streamed(agents_sdk, sim_requests):
    triage, forecaster, script, calls = weather_agents(agents_sdk)

    async def run():
        result = agents_sdk.Runner.run_streamed(triage, script)
        kinds = set()
        async for event in result.stream_events():
            kinds.add(event.type)
        return result, kinds

    result, kinds = asyncio.run(run())
    assert {"raw_response_event", "run_item_stream_event", "agent_updated_stream_event"} <= kinds
    check_weather_run(result, forecaster, calls, sim_requests)


def test_agent_with_structured_output(agents_sdk):
    agent = agents_sdk.Agent(name="Extractor", instructions="Extract the person.", model="sim-chat", output_type=Person)
    result = agents_sdk.Runner.run_sync(agent, "Ada from London")
    assert isinstance(result.final_output, Person)
    assert result.final_output.city == "You said: Ada from London"


def test_stateless_history_as_codex_sends_it(openai_client, sim_requests):
    """`store: false` with the whole conversation in `input` every turn, reasoning sent back with
    `encrypted_content` (which the gateway never produces, and ignores), streamed."""
    history = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are a coding agent."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "List the files"}]},
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Use the shell."}],
         "encrypted_content": "opaque"},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell",
         "arguments": json.dumps({"command": ["ls"]})},
        {"type": "function_call_output", "call_id": "call_1", "output": "README.md"},
    ]
    shell = {"type": "function", "name": "shell", "parameters": {
        "type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}, "required": ["command"]}}
    with openai_client.responses.stream(
        model="sim-agent", input=history, tools=[shell], store=False, parallel_tool_calls=False,
        include=["reasoning.encrypted_content"], reasoning={"effort": "low", "summary": "auto"},
    ) as stream:
        final = stream.get_final_response()
    assert final.status == "completed" and final.store is False
    assert final.output_text == "The tool shell returned: README.md"
    sent = sim_requests("/api/chat")[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool"]
    assert sent[2]["thinking"] == "Use the shell." and sent[2]["tool_calls"][0]["function"]["name"] == "shell"
    with pytest.raises(openai.NotFoundError):
        openai_client.responses.retrieve(final.id)
