"""Claude Code (through the Claude Agent SDK, whose wheel bundles the CLI) driving the gateway with its
default settings, against ollama-sim: only the base URL, a key and a model name are given.

The simulator's agent models follow `[[call NAME {arguments}]]` lines in the prompt (docs/ollama-sim.md),
so the task is deterministic: read a file with the built-in Read tool and call a custom (SDK MCP) tool
in one turn, then answer from both results in the next.
"""
import json

import anyio
import pytest

claude_agent_sdk = pytest.importorskip("claude_agent_sdk")

# Normal user settings for a machine without internet access (no telemetry, update checks or
# other background traffic): documented in docs/clients.md.
OFFLINE = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
}


def run_task(gateway, api_key, model, workdir, intro="Read my notes, then add 2 and 3."):
    from claude_agent_sdk import (
        AssistantMessage,
        ClaudeAgentOptions,
        ResultMessage,
        StreamEvent,
        TextBlock,
        ThinkingBlock,
        ToolUseBlock,
        create_sdk_mcp_server,
        query,
        tool,
    )

    notes = workdir / "notes.txt"
    notes.write_text("The secret word is pineapple.\n")
    added = []

    @tool("add", "Adds two numbers", {"a": float, "b": float})
    async def add(args):
        added.append(args)
        return {"content": [{"type": "text", "text": f"sum={args['a'] + args['b']:g}"}]}

    prompt = "\n".join([
        intro,
        "[[call Read " + json.dumps({"file_path": str(notes)}) + "]]",
        # Claude Code offers MCP tools behind its tool search: the model loads the tool first.
        "[[call ToolSearch " + json.dumps({"query": "select:mcp__calc__add", "max_results": 1}) + "]]",
        "[[next]]",
        "[[call mcp__calc__add " + json.dumps({"a": 2, "b": 3}) + "]]",
    ])
    options = ClaudeAgentOptions(
        model=model,
        cwd=str(workdir),
        mcp_servers={"calc": create_sdk_mcp_server("calc", tools=[add])},
        allowed_tools=["Read", "mcp__calc__add"],
        include_partial_messages=True,
        max_turns=4,
        env={
            "ANTHROPIC_BASE_URL": gateway,
            "ANTHROPIC_API_KEY": api_key,
            "CLAUDE_CONFIG_DIR": str(workdir / ".claude-config"),
            **OFFLINE,
        },
    )
    collected = {"events": [], "assistant": [], "result": None, "stderr": []}
    options.stderr = collected["stderr"].append

    async def main():
        async for message in query(prompt=prompt, options=options):
            if isinstance(message, StreamEvent):
                collected["events"].append(message.event)
            elif isinstance(message, AssistantMessage):
                collected["assistant"].append(message)
            elif isinstance(message, ResultMessage):
                collected["result"] = message

    anyio.run(main)
    blocks = [block for message in collected["assistant"] for block in message.content]
    return {
        "added": added,
        "tool_uses": [block for block in blocks if isinstance(block, ToolUseBlock)],
        "texts": [block.text for block in blocks if isinstance(block, TextBlock)],
        "thinking": [block for block in blocks if isinstance(block, ThinkingBlock)],
        **collected,
    }


@pytest.mark.parametrize("model,thinks", [("sim-agent", True), ("sim-tools", False)])
def test_claude_code_reads_a_file_and_calls_a_custom_tool(gateway, api_key, reset_sim, sim_requests, tmp_path, model, thinks):
    outcome = run_task(gateway, api_key, model, tmp_path)
    result = outcome["result"]
    assert result is not None, "\n".join(outcome["stderr"][-20:])
    assert not result.is_error, (result, outcome["stderr"][-20:])

    assert [use.name for use in outcome["tool_uses"]] == ["Read", "ToolSearch", "mcp__calc__add"]
    assert outcome["added"] == [{"a": 2, "b": 3}]
    final = "\n".join(outcome["texts"])
    assert "pineapple" in final and "sum=5" in final
    assert bool(outcome["thinking"]) == thinks
    # Streamed: the answer came as Anthropic stream events.
    assert any(event.get("type") == "content_block_delta" for event in outcome["events"])

    chats = [body for body in sim_requests("/api/chat") if body.get("model", "").startswith(model)]
    assert len(chats) >= 3, "the task takes three model calls: Read and the search, the custom tool, the answer"
    assert "mcp__calc__add" in [t["function"]["name"] for t in chats[-1]["tools"]]
    for body in chats:
        assert body.get("stream") is True
        assert "Read" in [t["function"]["name"] for t in body.get("tools", [])]
        if not thinks:
            assert "think" not in body  # adaptive thinking on a model without it: a plain answer
        # The billing line Claude Code adds to its system prompt never reaches Ollama.
        assert all("x-anthropic-billing-header" not in m.get("content", "") for m in body["messages"])
    # So each turn's prompt starts with the whole previous one, and Ollama's prompt cache holds.
    for previous, following in zip(chats, chats[1:]):
        assert following["messages"][: len(previous["messages"])] == previous["messages"]


def test_system_prompt_is_the_same_from_one_conversation_to_the_next(gateway, api_key, reset_sim, sim_requests, tmp_path):
    """Claude Code's billing line differs between conversations: removed, every conversation (and every
    subagent) starts with the same system prompt, which Ollama's prompt cache can reuse."""
    firsts = []
    for name, intro in [("one", "Please read my notes and add."), ("two", "Quick: add, then read the notes!")]:
        workdir = tmp_path / name
        workdir.mkdir()
        before = len(sim_requests("/api/chat"))
        run_task(gateway, api_key, "sim-tools", workdir, intro=intro)
        firsts.append(sim_requests("/api/chat")[before]["messages"][0])
    assert firsts[0]["role"] == "system"
    assert firsts[0] == firsts[1]
