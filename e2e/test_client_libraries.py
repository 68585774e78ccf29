"""LangChain, pydantic-ai and the `llm` CLI pointed at the gateway as docs/clients.md says, against ollama-sim."""
import json
import os
import pathlib
import subprocess
import sys

import pytest
from pydantic import BaseModel


def script(*rounds):
    """A prompt that makes the simulator's tool models call tools, round by round (docs/ollama-sim.md)."""
    lines = ["Do the task."]
    for index, calls in enumerate(rounds):
        if index:
            lines.append("[[next]]")
        lines += [f"[[call {name} {json.dumps(arguments)}]]" for name, arguments in calls]
    return "\n".join(lines)


# MARK: - LangChain


def test_langchain_anthropic_mid_conversation_system_message(gateway, api_key, reset_sim, sim_requests):
    from langchain_anthropic import ChatAnthropic
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    # langchain-anthropic sends a system message in place only for a model whose profile says it may
    # (it hoists it into `system` otherwise); local models have no built-in profile.
    chat = ChatAnthropic(
        model="sim-chat", base_url=gateway, api_key=api_key, max_tokens=64, max_retries=0,
        profile={"mid_conversation_system_messages": True},
    )
    answer = chat.invoke([
        SystemMessage("You are terse."),
        HumanMessage("Hi"),
        AIMessage("Hello!"),
        HumanMessage("Again"),
        SystemMessage("From now on, answer in French."),
    ])
    assert answer.content == "You said: Again"
    sent = sim_requests("/api/chat")[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user", "system"]
    assert sent[4]["content"] == "From now on, answer in French."


def test_langchain_ollama_embeddings_and_chat_with_defaults(gateway, api_key, reset_sim, sim_requests):
    from langchain_ollama import ChatOllama, OllamaEmbeddings

    auth = {"headers": {"Authorization": f"Bearer {api_key}"}}
    # OllamaEmbeddings sends every option, most of them null: null means "not set".
    embeddings = OllamaEmbeddings(model="sim-embed", base_url=gateway, client_kwargs=auth)
    vector = embeddings.embed_query("hello")
    assert len(vector) == 384
    assert len(embeddings.embed_documents(["a", "b"])) == 2
    chat = ChatOllama(model="sim-chat", base_url=gateway, client_kwargs=auth)
    assert chat.invoke("Hello there").content == "You said: Hello there"
    streamed = "".join(chunk.content for chunk in chat.stream("Hi"))
    assert streamed == "You said: Hi"


# MARK: - pydantic-ai


class Weather(BaseModel):
    city: str
    degrees: int


def pydantic_ai_model(kind, gateway, api_key):
    if kind == "openai":
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        return OpenAIChatModel("sim-tools", provider=OpenAIProvider(base_url=gateway + "/v1", api_key=api_key))
    if kind == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel("sim-tools", provider=AnthropicProvider(base_url=gateway, api_key=api_key))
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.ollama import OllamaProvider

    return OpenAIChatModel("sim-tools", provider=OllamaProvider(base_url=gateway + "/v1", api_key=api_key))


@pytest.mark.parametrize("kind", ["openai", "anthropic", "ollama"])
def test_pydantic_ai_tool_and_structured_output(gateway, api_key, reset_sim, kind):
    from pydantic_ai import Agent

    agent = Agent(pydantic_ai_model(kind, gateway, api_key), output_type=Weather)
    looked_up = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The temperature in a city."""
        looked_up.append(city)
        return "21 degrees"

    result = agent.run_sync(script(
        [("get_weather", {"city": "Paris"})],
        [("final_result", {"city": "Paris", "degrees": 21})],
    ))
    assert looked_up == ["Paris"]
    assert result.output == Weather(city="Paris", degrees=21)


# MARK: - llm


def test_llm_cli_with_an_openai_compatible_model(gateway, api_key, reset_sim, tmp_path):
    user_dir = tmp_path / "llm"
    user_dir.mkdir()
    (user_dir / "extra-openai-models.yaml").write_text(
        f"- model_id: gateway-sim-chat\n  model_name: sim-chat\n  api_base: {gateway}/v1\n  api_key_name: gateway\n"
    )
    (user_dir / "keys.json").write_text(json.dumps({"gateway": api_key}))
    llm = pathlib.Path(sys.executable).with_name("llm")
    env = {**os.environ, "LLM_USER_PATH": str(user_dir)}
    result = subprocess.run([str(llm), "-m", "gateway-sim-chat", "Hello there"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "You said: Hello there"
    streamed = subprocess.run(
        [str(llm), "-m", "gateway-sim-chat", "--no-log", "Hi"], capture_output=True, text=True, env=env, timeout=60
    )
    assert streamed.stdout.strip() == "You said: Hi", streamed.stderr


# MARK: - LiteLLM


def test_litellm_as_a_client_of_each_api(gateway, api_key, reset_sim, monkeypatch):
    # LiteLLM reads its model price list from the network unless told to use the copy it ships.
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    answer = litellm.completion(
        model="openai/sim-chat", api_base=gateway + "/v1", api_key=api_key,
        messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content == "You said: Hi"
    assert answer.usage.total_tokens > 0

    streamed = litellm.completion(
        model="openai/sim-chat", api_base=gateway + "/v1", api_key=api_key, stream=True,
        messages=[{"role": "user", "content": "Hello"}])
    assert "".join(chunk.choices[0].delta.content or "" for chunk in streamed) == "You said: Hello"

    anthropic = litellm.completion(
        model="anthropic/sim-chat", api_base=gateway, api_key=api_key, max_tokens=64,
        messages=[{"role": "user", "content": "Hi"}])
    assert anthropic.choices[0].message.content == "You said: Hi"

    embedded = litellm.embedding(model="openai/sim-embed", api_base=gateway + "/v1", api_key=api_key, input=["Hi"])
    assert len(embedded.data[0]["embedding"]) == 384
