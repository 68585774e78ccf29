"""A seeded, time-bounded fuzz run of hostile requests over every route of the built gateway.

Thousands of requests are made by mutating *valid* requests of each route (so they reach the translators
and the upstream calls, not only the JSON decoder), plus wrong methods, unknown paths, hostile headers,
hostile admin query parameters and ids, and a few raw-socket requests that no HTTP library would send.
Every response must show that the gateway survived (the process is alive, `/health/live` answers), that
no client mistake became a 5xx, that every error is in the format of the route's API, that every stream
ends properly and that no error reveals the address of Ollama.

The requests are: every seed request unmutated (each must succeed, or the fuzz would start from a wrong
base); every number of every seed request, and every duration or time, set to each integer extreme in
turn; every time/count/cursor parameter of the audit log and usage reports at each extreme; and random
mutations (value types swapped, hostile numbers and strings, deep nesting, duplicated and missing keys,
truncated JSON, invalid UTF-8, wrong content types, keys and methods) of the seed requests.

The run is deterministic for a seed (`FUZZ_SEED`; the seed is printed) and bounded in count
(`FUZZ_CASES`, default 3000) and time (`FUZZ_SECONDS`, default 45 s of requests, `FUZZ_WORKERS` at once,
default 4). A crash or a hang is narrowed down to the request that caused it by replaying the requests of
its batch one by one against a restarted gateway, and the run goes on; all failures are collected and
printed, grouped by kind and cause, before the test fails, each with a minimal reproduction (method,
path, body prefix, status, response prefix). The gateway runs without Swift backtraces, which keep a
crashed debug build alive for seconds; `FUZZ_BACKTRACE=1` shows the crashed thread's frames instead.

Nothing here sends a simulator fault option (`sim_*`): with a healthy simulator, no 5xx is acceptable.
The only 5xx allowed is a 504 for a request that set its own deadline (`request_timeout`/`timeout_ms`).
A simulator that dies on a value the gateway passed on is reported too, as its own kind, and restarted.

Run alone: `.venv/bin/python -m pytest -q e2e/test_hostile_fuzz.py -s` (with OLLAMA_GATEWAY_BIN and
OLLAMA_SIM_BIN set, as for the rest of the suite).
"""
import collections
import concurrent.futures
import copy
import dataclasses
import http.client
import json
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

from fixtures_gateway import GATEWAY_BIN

REPO_SIM_BIN = os.environ.get(
    "OLLAMA_SIM_BIN",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".build", "debug", "ollama-sim"))

SEED = int(os.environ.get("FUZZ_SEED", "20261206"))
CASES = int(os.environ.get("FUZZ_CASES", "3000"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "45"))
WORKERS = int(os.environ.get("FUZZ_WORKERS", "4"))
REQUEST_TIMEOUT_S = 8.0
HEALTH_EVERY = 250
MAX_BODY_BYTES = 1024 * 1024

ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdefghij"
ADMIN_PASSWORD = "fuzz admin password"
PIXEL_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


# --- JSON with hostile pieces ---------------------------------------------------------------------------------------

class Raw:
    """JSON text written as it is: numbers Python cannot hold, lone surrogates, invalid literals."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


class Dup:
    """An object whose key list may repeat a name: `{"a":1,"a":2}`."""

    def __init__(self, pairs):
        self.pairs = pairs


class Deep:
    """`[[[…]]]` or `{"a":{"a":…}}` nested `depth` times, written without recursion."""

    def __init__(self, depth, kind):
        self.depth = depth
        self.kind = kind


def encode(value):
    parts = []
    _encode(value, parts)
    return "".join(parts)


def _encode(value, out):
    if isinstance(value, Raw):
        out.append(value.text)
    elif isinstance(value, Deep):
        if value.kind == "array":
            out.append("[" * value.depth + "]" * value.depth)
        else:
            out.append('{"a":' * value.depth + "1" + "}" * value.depth)
    elif isinstance(value, Dup):
        out.append("{")
        for index, (key, item) in enumerate(value.pairs):
            if index:
                out.append(",")
            out.append(json.dumps(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, dict):
        _encode(Dup(list(value.items())), out)
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value))


HOSTILE_NUMBERS = [
    Raw("1e400"), Raw("-1e400"), Raw("-0"), Raw("-0.0"), Raw("1e308"), Raw("-1e308"), Raw("1e-400"), Raw("-1"), Raw("0"),
    Raw("9223372036854775807"), Raw("9223372036854775808"), Raw("-9223372036854775808"), Raw("-9223372036854775809"),
    Raw("18446744073709551616"), Raw("4294967296"), Raw("2147483648"), Raw("1.5"), Raw("0.1"), Raw("1E2"),
    Raw("123456789012345678901234567890123456789"), Raw("-2147483649"), Raw("1e19"), Raw("-1e19"), Raw("2e9"),
]
HOSTILE_STRINGS = [
    "", " ", "x" * 10_000, "\u0000", "a\u0000b", "\u202e\u200b\ufeff", "\x1b[2J\x07", "\r\n\r\n", "😀" * 500, "é" * 3000,
    "%s%n%x", "../../../etc/passwd", "<script>alert(1)</script>", "null", "true", "-1", "1e400", "\\", '"', "\t",
    "data:image/png;base64,!!!!", "data:;base64,", "http://127.0.0.1:1/none.png", "http://169.254.169.254/latest",
    "sim-chat\u0000", "SIM-CHAT", "sim-chat:7b", "sim-embed", "registry.ollama.ai/library/sim-chat:latest",
    Raw('"\\ud800"'), Raw('"\\udc00\\ud800x"'), Raw('"\\uDFFF"'), Raw('"\\u0000"'), Raw('"\\ud83d\\ude00"'),
]
# Durations and times, for the fields that hold them (keep_alive, expires_in, expires_at, since, until).
DOMAIN_STRINGS = [
    "9223372036854775807d", "106751991167301d", "99999999999999w", "9223372036854775807ns", "-1d", "-5m", "0s",
    "1e400s", "1.5h", "10y", "1h1h", "d", "infinite", "9999-12-31T23:59:59Z", "+275760-09-13T00:00:00Z",
    "0000-01-01T00:00:00Z", "2030-02-30T00:00:00Z", "2030-01-31T00:00:00+99:99", "99999-01-01T00:00:00Z",
]
HOSTILE_STRINGS += DOMAIN_STRINGS
# The values every number of every seed request is set to, one at a time.
EXTREMES = [Raw("9223372036854775807"), Raw("-9223372036854775808"), Raw("18446744073709551616"), Raw("-1")]
DOMAIN_FIELDS = {"keep_alive", "expires_in", "expires_at"}
HOSTILE_OTHERS = [
    None, True, False, [], {}, [None], {"": None}, [[]], [{}], {"type": None}, [1, "a", None, {}, []],
    Deep(64, "array"), Deep(600, "array"), Deep(600, "object"), Deep(20_000, "array"), Deep(20_000, "object"),
]
FIELD_NAMES = [
    "model", "messages", "stream", "options", "think", "tools", "tool_choice", "format", "images", "keep_alive", "prompt",
    "suffix", "system", "raw", "context", "template", "input", "dimensions", "truncate", "encoding_format", "max_tokens",
    "max_completion_tokens", "temperature", "top_p", "top_k", "n", "stop", "stop_sequences", "seed", "logprobs",
    "top_logprobs", "response_format", "stream_options", "reasoning_effort", "reasoning", "thinking", "metadata",
    "num_ctx", "num_predict", "extra_body", "echo", "best_of", "logit_bias", "user", "request_timeout", "timeout_ms",
    "exclude_reasoning", "shift", "presence_penalty", "frequency_penalty", "parallel_tool_calls", "content", "role",
    "name", "type", "tool_calls", "tool_call_id", "image_url", "source", "id", "input_schema", "parameters", "function",
    "", "\u0000", "x" * 300, "__proto__", "constructor", "$ref",
]


def hostile_value(rng):
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(HOSTILE_NUMBERS)
    if roll < 0.7:
        return rng.choice(HOSTILE_STRINGS)
    # A copy: later mutations change containers in place, and the list must stay as it is for the next case.
    return copy.deepcopy(rng.choice(HOSTILE_OTHERS))


def _slots(value, path=()):
    """Every (container, key) in a JSON tree, to pick a place to mutate."""
    slots = []
    if isinstance(value, dict):
        for key, item in value.items():
            slots.append((value, key, path + (key,)))
            slots.extend(_slots(item, path + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            slots.append((value, index, path + (index,)))
            slots.extend(_slots(item, path + (index,)))
    return slots


def _lookup(tree, path):
    for key in path:
        tree = tree[key]
    return tree


def _containers(value):
    found = []
    if isinstance(value, (dict, list)):
        found.append(value)
        for item in (value.values() if isinstance(value, dict) else value):
            found.extend(_containers(item))
    return found


def _path_text(path):
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "."


def mutate_tree(rng, tree):
    """Applies one structural mutation in place (the root may be replaced); returns (tree, description)."""
    slots = _slots(tree)
    op = rng.choice(["replace", "replace", "replace", "number", "number", "delete", "add", "wrap", "stringify",
                     "duplicate", "empty"])
    if op == "number":
        # Numbers and flags are where limits, counts and durations are read: give them extra attention.
        numeric = [slot for slot in slots if isinstance(slot[0][slot[1]], (int, float, bool, Raw))]
        if numeric:
            container, key, path = rng.choice(numeric)
            container[key] = rng.choice(HOSTILE_NUMBERS)
            return tree, f"{_path_text(path)}={_short(container[key])}"
        op = "replace"
    if op in ("replace", "delete", "wrap", "stringify", "empty") and not slots:
        op = "add"
    if op == "replace":
        container, key, path = rng.choice(slots)
        container[key] = hostile_value(rng)
        return tree, f"{_path_text(path)}={_short(container[key])}"
    if op == "delete":
        container, key, path = rng.choice(slots)
        if isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
        return tree, f"del {_path_text(path)}"
    if op == "wrap":
        container, key, path = rng.choice(slots)
        value = container[key]
        container[key] = rng.choice([[value], {"value": value}, [value, copy.deepcopy(value)]])
        return tree, f"wrap {_path_text(path)}"
    if op == "stringify":
        container, key, path = rng.choice(slots)
        container[key] = encode(container[key])[:2000]
        return tree, f"stringify {_path_text(path)}"
    if op == "empty":
        container, key, path = rng.choice(slots)
        container[key] = rng.choice([[], {}, "", None, 0])
        return tree, f"empty {_path_text(path)}"
    dicts = [c for c in _containers(tree) if isinstance(c, dict)]
    if not dicts:
        return hostile_value(rng), "root=hostile"
    target = rng.choice(dicts)
    name = rng.choice(FIELD_NAMES)
    if op == "duplicate" and target:
        key = rng.choice(list(target.keys()))
        return _replace_dict(tree, target, Dup(list(target.items()) + [(key, hostile_value(rng))])), f"dup key {key!r}"
    target[name] = hostile_value(rng)
    return tree, f"add {name[:20]!r}={_short(target[name])}"


def _replace_dict(tree, target, replacement):
    if tree is target:
        return replacement
    for container in _containers(tree):
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in list(items):
            if item is target:
                container[key] = replacement
                return tree
    return tree


def _short(value):
    text = encode(value) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + f"...({len(text)})"


INVALID_UTF8 = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]
RAW_BODIES = [
    b"", b"null", b"[]", b"{}", b'"text"', b"1", b"true", b"{", b"}", b"[", b"{{}}", b"\x00\x00", b"\xef\xbb\xbf{}",
    b"NaN", b"{'model': 'sim-chat'}", b'{"model":"sim-chat",}', b"model=sim-chat&stream=true", b"<xml/>",
    b'{"a":1}{"b":2}', b"[" * 100_000, b'{"a":' * 50_000, b"\xff\xfe{\x00}\x00", b'{"model":"sim-chat" /* c */}',
]


def mutate_bytes(rng, body):
    op = rng.choice(["truncate", "utf8", "utf8", "bom", "garbage", "raw", "huge"])
    if op == "truncate" and body:
        cut = rng.randrange(0, len(body))
        return body[:cut], f"truncated at {cut}"
    if op == "utf8":
        quotes = [m.end() for m in re.finditer(rb'"[^"\\]', body)]
        at = rng.choice(quotes) if quotes else rng.randrange(0, len(body) + 1)
        bad = rng.choice(INVALID_UTF8)
        return body[:at] + bad + body[at:], f"invalid UTF-8 {bad!r} at {at}"
    if op == "bom":
        return b"\xef\xbb\xbf" + body, "BOM"
    if op == "garbage":
        return body + rng.choice([b"x", b",", b"}", b"\x00", b" {}", b"\n\n{\"a\":1}"]), "trailing garbage"
    if op == "huge":
        return b'{"model":"sim-chat","pad":"' + b"x" * (MAX_BODY_BYTES + 10) + b'"}', "body over MAX_BODY_BYTES"
    raw = rng.choice(RAW_BODIES)
    return raw, f"raw body {raw[:20]!r}"


# --- requests --------------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Case:
    index: int
    method: str
    path: str
    api: str  # openai | anthropic | ollama | admin | none
    body: bytes = None
    headers: list = dataclasses.field(default_factory=list)
    label: str = ""
    raw: bytes = None  # a whole request sent on a socket as it is ("HOST" is replaced)
    check_format: bool = True
    exclusive: bool = False  # changes gateway-wide settings: runs alone, then `restore`
    restore: tuple = None  # (method, path, body) sent with the admin token after a 2xx
    session: bool = False  # authenticated by the admin session cookie and CSRF token
    probe: "Case" = None  # a request sent after this one's change was saved, before `restore`
    allow_timeout: bool = False  # a 504 is the documented answer (the request or a saved setting set a deadline)
    expect_success: bool = False  # an unmutated valid request: anything but a 2xx means the fuzz starts from a wrong base

    def describe(self, limit=300):
        if self.raw is not None:
            return f"raw socket: {self.raw[:limit]!r}"
        headers = " ".join(f"{k}: {v[:40]}" for k, v in self.headers if k.lower() not in ("authorization", "x-api-key"))
        auth = [k for k, _ in self.headers if k.lower() in ("authorization", "x-api-key")]
        body = "" if self.body is None else f" body({len(self.body)}B)={self.body[:limit]!r}"
        return f"{self.method} {self.path[:200]} [{headers}{' auth:' + ','.join(auth) if auth else ' no-auth'}]{body}"


def api_of(path):
    path = path.split("?", 1)[0]
    if path.startswith("/anthropic/") or path == "/v1/messages" or path.startswith("/v1/messages/"):
        return "anthropic"
    if path.startswith("/v1/"):
        return "openai"
    if path.startswith("/api/"):
        return "ollama"
    if path.startswith("/admin/api/"):
        return "admin"
    return "none"


WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                  "required": ["city"]}
OPENAI_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                                 "parameters": WEATHER_SCHEMA}}
OLLAMA_TOOL = OPENAI_TOOL
ANTHROPIC_TOOL = {"name": "get_weather", "description": "Weather in a city", "input_schema": WEATHER_SCHEMA}


def openai_chat(rng, stream):
    user = {"role": "user", "content": rng.choice(["Hello there", "What is the weather in Paris?", "ümlaut ✓ 😀"])}
    seeds = [
        {"model": "sim-chat", "messages": [user]},
        {"model": "sim-chat", "messages": [{"role": "system", "content": "Be brief."}, user], "max_tokens": 50,
         "temperature": 0.5, "top_p": 0.9, "seed": 7, "stop": ["\n\n"], "presence_penalty": 0.1, "n": 1, "user": "u1"},
        {"model": "sim-think", "messages": [{"role": "developer", "content": "Think."}, user], "reasoning_effort": "low",
         "max_completion_tokens": 200},
        {"model": "sim-think", "messages": [user], "reasoning": {"effort": "high", "exclude": False}},
        {"model": "sim-tools", "messages": [user], "tools": [OPENAI_TOOL], "tool_choice": "auto",
         "parallel_tool_calls": True},
        {"model": "sim-tools", "messages": [
            user, {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"}], "tools": [OPENAI_TOOL],
         "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"model": "sim-vision", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PIXEL_B64, "detail": "low"}}]}]},
        {"model": "sim-r1", "messages": [user], "response_format": {"type": "json_object"}, "logprobs": False},
        {"model": "sim-chat", "messages": [user], "response_format": {"type": "json_schema", "json_schema": {
            "name": "w", "schema": WEATHER_SCHEMA, "strict": True}}, "num_ctx": 4096, "keep_alive": "5m",
         "options": {"top_k": 20}, "extra_body": {"min_p": 0.05}},
    ]
    body = rng.choice(seeds)
    body = json.loads(json.dumps(body))
    body["stream"] = stream
    if stream and rng.random() < 0.5:
        body["stream_options"] = {"include_usage": True}
    return body


RESPONSES_TOOL = {"type": "function", "name": "get_weather", "description": "Weather in a city",
                  "parameters": WEATHER_SCHEMA}


def openai_response(rng, stream):
    text = rng.choice(["Hello there", "What is the weather in Paris?", "ümlaut ✓ 😀"])
    seeds = [
        {"model": "sim-chat", "input": text},
        {"model": "sim-chat", "instructions": "Be brief.", "input": [{"role": "user", "content": text}],
         "max_output_tokens": 50, "temperature": 0.5, "top_p": 0.9, "user": "u1", "metadata": {"k": "v"},
         "store": False, "truncation": "auto"},
        {"model": "sim-think", "input": text, "reasoning": {"effort": "low", "summary": "auto"},
         "include": ["reasoning.encrypted_content"]},
        {"model": "sim-tools", "input": text, "tools": [RESPONSES_TOOL], "tool_choice": "auto",
         "parallel_tool_calls": True},
        {"model": "sim-tools", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": text}]},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"}],
         "tools": [RESPONSES_TOOL], "tool_choice": {"type": "function", "name": "get_weather"}},
        {"model": "sim-vision", "input": [{"role": "user", "content": [
            {"type": "input_text", "text": "What is this?"},
            {"type": "input_image", "image_url": "data:image/png;base64," + PIXEL_B64, "detail": "low"}]}]},
        {"model": "sim-chat", "input": text, "text": {"format": {"type": "json_schema", "name": "w",
         "schema": WEATHER_SCHEMA, "strict": True}}, "num_ctx": 4096, "keep_alive": "5m",
         "options": {"top_k": 20}, "extra_body": {"min_p": 0.05}},
    ]
    body = json.loads(json.dumps(rng.choice(seeds)))
    body["stream"] = stream
    return body


def openai_completion(rng, stream):
    seeds = [
        {"model": "sim-chat", "prompt": "Say hello", "max_tokens": 20},
        {"model": "sim-chat", "prompt": ["one", "two"], "echo": True, "stop": "x", "temperature": 0},
        {"model": "sim-code", "prompt": "def f():", "suffix": "return 1", "max_tokens": 30},
        {"model": "sim-r1", "prompt": "Think", "seed": 1, "logprobs": None, "best_of": 1, "n": 1},
    ]
    body = json.loads(json.dumps(rng.choice(seeds)))
    body["stream"] = stream
    return body


def openai_embedding(rng, _stream):
    seeds = [
        {"model": "sim-embed", "input": "hello"},
        {"model": "sim-embed", "input": ["a", "b", "c"], "dimensions": 8},
        {"model": "sim-embed", "input": "hello", "encoding_format": "base64", "user": "u"},
        {"model": "sim-embed", "input": ["x", "y"], "encoding_format": "float", "dimensions": 4},
    ]
    return json.loads(json.dumps(rng.choice(seeds)))


def anthropic_message(rng, stream):
    user = {"role": "user", "content": rng.choice(["Hello there", "What is the weather in Paris?", "ümlaut ✓"])}
    seeds = [
        {"model": "sim-chat", "max_tokens": 100, "messages": [user]},
        {"model": "sim-chat", "max_tokens": 100, "system": "Be brief.", "messages": [user], "temperature": 0.2,
         "top_p": 0.9, "top_k": 5, "stop_sequences": ["zz"], "metadata": {"user_id": "u1"}},
        {"model": "sim-think", "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024},
         "system": [{"type": "text", "text": "Think."}], "messages": [user]},
        {"model": "sim-tools", "max_tokens": 100, "tools": [ANTHROPIC_TOOL], "tool_choice": {"type": "auto"},
         "messages": [user]},
        {"model": "sim-tools", "max_tokens": 100, "tools": [ANTHROPIC_TOOL], "messages": [
            user, {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "Sunny"}]}]},
        {"model": "sim-vision", "max_tokens": 100, "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL_B64}},
            {"type": "text", "text": "What is this?"}]}]},
        {"model": "sim-r1", "max_tokens": 100, "messages": [user, {"role": "assistant", "content": "Hm."}, user]},
    ]
    body = json.loads(json.dumps(rng.choice(seeds)))
    body["stream"] = stream
    return body


def anthropic_count(rng, _stream):
    body = anthropic_message(rng, False)
    body.pop("stream", None)
    body.pop("max_tokens", None)
    return body


def ollama_chat(rng, stream):
    user = {"role": "user", "content": rng.choice(["Hello there", "Weather in Paris?", "ümlaut ✓"])}
    seeds = [
        {"model": "sim-chat", "messages": [user]},
        {"model": "sim-chat", "messages": [user], "options": {"temperature": 0.1, "num_predict": 20, "stop": ["zz"]},
         "keep_alive": "5m"},
        {"model": "sim-think", "messages": [user], "think": rng.choice([True, "low", "high"])},
        {"model": "sim-tools", "messages": [user], "tools": [OLLAMA_TOOL]},
        {"model": "sim-tools", "messages": [user, {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
            {"role": "tool", "content": "Sunny", "tool_name": "get_weather"}], "tools": [OLLAMA_TOOL]},
        {"model": "sim-vision", "messages": [{"role": "user", "content": "What?", "images": [PIXEL_B64]}]},
        {"model": "sim-r1", "messages": [user], "format": "json", "options": {"seed": 3, "num_ctx": 2048}},
        {"model": "sim-chat", "messages": [user], "format": WEATHER_SCHEMA, "request_timeout": 60000},
    ]
    body = json.loads(json.dumps(rng.choice(seeds)))
    body["stream"] = stream
    return body


def ollama_generate(rng, stream):
    seeds = [
        {"model": "sim-chat", "prompt": "Say hello"},
        {"model": "sim-chat", "prompt": "Say hello", "system": "Be brief.", "options": {"num_predict": 10}},
        {"model": "sim-code", "prompt": "def f():", "suffix": "    return 1"},
        {"model": "sim-chat", "prompt": "raw", "raw": True, "keep_alive": 0},
        {"model": "sim-chat", "prompt": "again", "context": [1, 2, 3]},
        {"model": "sim-vision", "prompt": "What?", "images": [PIXEL_B64]},
        {"model": "sim-think", "prompt": "Think", "think": "medium", "format": "json"},
    ]
    body = json.loads(json.dumps(rng.choice(seeds)))
    body["stream"] = stream
    return body


def ollama_embed(rng, _stream):
    seeds = [
        {"model": "sim-embed", "input": "hello"},
        {"model": "sim-embed", "input": ["a", "b"], "truncate": True, "dimensions": 8, "keep_alive": "1m"},
        {"model": "sim-chat", "input": ["x"], "options": {"num_ctx": 256}},
    ]
    return json.loads(json.dumps(rng.choice(seeds)))


def ollama_embeddings(rng, _stream):
    return json.loads(json.dumps(rng.choice([
        {"model": "sim-embed", "prompt": "hello"},
        {"model": "sim-embed", "prompt": "hello", "options": {"num_ctx": 128}, "keep_alive": "1m"},
    ])))


def ollama_show(rng, _stream):
    return json.loads(json.dumps(rng.choice([{"model": "sim-chat"}, {"name": "sim-think", "verbose": True},
                                             {"model": "sim-embed:latest"}])))


POST_ROUTES = [
    # (path, body maker, can stream, weight)
    ("/v1/chat/completions", openai_chat, True, 14),
    ("/v1/completions", openai_completion, True, 6),
    ("/v1/responses", openai_response, True, 8),
    ("/v1/embeddings", openai_embedding, False, 5),
    ("/v1/messages", anthropic_message, True, 10),
    ("/anthropic/v1/messages", anthropic_message, True, 4),
    ("/v1/messages/count_tokens", anthropic_count, False, 4),
    ("/anthropic/v1/messages/count_tokens", anthropic_count, False, 1),
    ("/api/chat", ollama_chat, True, 10),
    ("/api/generate", ollama_generate, True, 7),
    ("/api/embed", ollama_embed, False, 4),
    ("/api/embeddings", ollama_embeddings, False, 3),
    ("/api/show", ollama_show, False, 3),
]

BAD_IDS = [
    "%", "%zz", "%E0%A4%A", "%00", "%FF%FE", "%2F..%2F..", "..", "%2e%2e", "x" * 5000, "%F0%9F%98%80", "sim-chat%00",
    "%25", "a%20b", "%C0%AF", "%ED%A0%80", "key_%00", "-1", "0", "9223372036854775808", "%0D%0AX-Injected:%201",
    "sim-chat:latest:extra", "sim-chat%3A7b", "hf.co%2Forg%2Fmodel", "a/b/c/d/e/f", "%u0041",
]
QUERY_VALUES = [
    "", "-1", "0", "1", "501", "1e400", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "abc",
    "%zz", "%", "%E0%A4%A", "%00", "%FF", "2030-13-45T25:61:61Z", "1970-01-01T00:00:00Z", "-62135596800",
    "99999999999999999999", "253402300800", "-9223372036854775808", "x" * 3000, "null", "%F0%9F%98%80", "true",
    "2026-01-01T00:00:00.000Z", "2026-01-01", "1.5", "NaN", "+1", "0x10", "%2B1", "eyJ4IjoxfQ", "!!!", "%20",
]
USAGE_QUERY = ["since", "until", "key", "model", "endpoint", "status", "group_by", "granularity", "by", "limit",
               "cursor", "request_id", "format", "include_revoked", "actor", "actor_kind", "action"]
ADMIN_GETS = ["/admin/api/keys", "/admin/api/audit", "/admin/api/usage/totals", "/admin/api/usage/series",
              "/admin/api/usage/top", "/admin/api/usage/percentiles", "/admin/api/usage/requests",
              "/admin/api/usage/export", "/admin/api/settings", "/admin/api/models", "/admin/api/session"]
GET_ROUTES = ["/v1/models", "/v1/models/sim-chat", "/api/tags", "/api/ps", "/api/version"]
ODD_REQUESTS = [
    ("GET", "/v1/chat/completions"), ("PUT", "/v1/embeddings"), ("DELETE", "/api/chat"), ("POST", "/v1/models"),
    ("PATCH", "/api/tags"), ("GET", "/v1/messages"), ("GET", "/anthropic/v1/messages"), ("PUT", "/v1/messages/count_tokens"),
    ("POST", "/health/live"), ("GET", "/v1/nope"), ("GET", "/v1/"), ("POST", "/api/nope"), ("GET", "/api/"),
    ("POST", "/anthropic/v1/nope"), ("GET", "/admin/api/nope"), ("PUT", "/admin/api/keys"), ("GET", "/admin/api/login"),
    ("DELETE", "/admin/api/settings"), ("GET", "/nope"), ("POST", "/"), ("POST", "/v1/chat/completions/extra"),
    ("GET", "//v1/models"), ("GET", "/v1//models"), ("GET", "/v1/models/"), ("POST", "/api/pull"), ("DELETE", "/api/delete"),
    ("POST", "/api/copy"), ("POST", "/api/create"), ("POST", "/api/push"), ("HEAD", "/api/blobs/sha256:abc"),
    ("GET", "/api/show"), ("OPTIONS", "/v1/chat/completions"), ("OPTIONS", "/admin/api/keys"), ("TRACE", "/v1/models"),
    ("POST", "/v1/chat/completions?stream=true&model=%zz"), ("GET", "/api/tags?%zz=%"), ("GET", "/v1/models?x=%E0%A4%A"),
    ("POST", "/v1/../api/chat"), ("GET", "/v1/models/%2E%2E/%2E%2E/admin/api/keys"), ("GET", "/metrics/../admin/api/keys"),
]
CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/json; charset=latin1", "application/xml", "", "application/json, text/html",
                 "application/json; charset=utf-16"]


class Generator:
    """Makes every case from the seed alone, so a run can be repeated request for request."""

    def __init__(self, seed, api_key, victim_key_id):
        self.rng = random.Random(seed)
        self.api_key = api_key
        self.victim = victim_key_id
        self.count = 0

    def _case(self, method, path, body=None, headers=None, **kwargs):
        case = Case(self.count, method, path, api_of(path), body, headers or [], **kwargs)
        self.count += 1
        if case.exclusive and case.path.startswith(("/admin/api/settings", "/admin/api/models/")) \
                and b"ollama_url" not in (body or b""):
            # What an administrator saved is used by the next request: one is sent before the change is undone.
            model = "sim-code" if "/models/" in path else "sim-chat"
            stream = self.rng.random() < 0.5
            body_text = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream})
            case.probe = Case(case.index, "POST", "/api/chat", "ollama", body_text.encode(),
                              [("Authorization", "Bearer " + self.api_key), ("Content-Type", "application/json")],
                              label=f"a chat after this was saved: {case.describe(200)}",
                              allow_timeout=b"request_timeout" in (body or b"") or b"timeout_ms" in (body or b""))
        return case

    def _auth(self, path):
        """Mostly a valid key; sometimes none, a wrong one, or one in an odd header."""
        roll = self.rng.random()
        if roll < 0.03:
            return [], "no key"
        if roll < 0.05:
            return [("Authorization", self.rng.choice(["Bearer sk-wrong", "Bearer ", "Basic Zm9vOmJhcg==", "Bearer " + "x" * 5000,
                                                       "bearer\t" + self.api_key, "Bearer sk-\u00e9".encode().decode("latin-1")]))], "bad key"
        if api_of(path) == "anthropic" and self.rng.random() < 0.7:
            return [("x-api-key", self.api_key), ("anthropic-version", "2023-06-01")], ""
        return [("Authorization", "Bearer " + self.api_key)], ""

    def _admin_auth(self, method):
        roll = self.rng.random()
        if roll < 0.03:
            return [], "no admin auth"
        if roll < 0.05:
            return [("Authorization", "Bearer " + self.rng.choice(["wrong-token-0123456789", "", "x" * 3000]))], "bad token"
        if roll < 0.15:
            return "session", "session"
        return [("Authorization", "Bearer " + ADMIN_TOKEN)], ""

    def mutated_body(self, tree):
        notes = []
        for _ in range(self.rng.choice([0, 1, 1, 1, 2, 2, 3])):
            tree, note = mutate_tree(self.rng, tree)
            notes.append(note)
        body = encode(tree).encode("utf-8", "surrogatepass")
        if self.rng.random() < 0.12:
            body, note = mutate_bytes(self.rng, body)
            notes.append(note)
        return body, notes

    def api_post(self):
        path, maker, can_stream, _ = self.rng.choices(POST_ROUTES, weights=[r[3] for r in POST_ROUTES])[0]
        stream = can_stream and self.rng.random() < 0.5
        body, notes = self.mutated_body(maker(self.rng, stream))
        headers, note = self._auth(path)
        if note:
            notes.append(note)
        method = "POST"
        roll = self.rng.random()
        if roll < 0.06:
            content_type = self.rng.choice(CONTENT_TYPES)
            if content_type:
                headers.append(("Content-Type", content_type))
            notes.append(f"content-type {content_type!r}")
        else:
            headers.append(("Content-Type", "application/json"))
        if roll > 0.97:
            method = self.rng.choice(["GET", "PUT", "DELETE", "PATCH"])
            notes.append("wrong method")
        return self._case(method, path, body, headers, label=f"{'stream ' if stream else ''}" + "; ".join(notes))

    def api_get(self):
        path = self.rng.choice(GET_ROUTES)
        if self.rng.random() < 0.5:
            path = "/v1/models/" + self.rng.choice(BAD_IDS + ["sim-chat", "sim-embed:latest", "SIM-THINK", "nope"])
        headers, note = self._auth(path)
        return self._case("GET", path, None, headers, label=note)

    def odd(self):
        method, path = self.rng.choice(ODD_REQUESTS)
        headers, note = self._auth(path)
        body = None
        if method in ("POST", "PUT", "PATCH", "DELETE") and self.rng.random() < 0.6:
            body = b'{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}'
            headers.append(("Content-Type", "application/json"))
        return self._case(method, path, body, headers, label="odd method/path " + note)

    def admin(self):
        rng = self.rng
        roll = rng.random()
        body_tree = None
        exclusive = False
        restore = None
        if roll < 0.3:
            path = rng.choice(ADMIN_GETS)
            params = rng.sample(USAGE_QUERY, rng.randint(1, 4))
            query = "&".join(f"{name}={rng.choice(QUERY_VALUES)}" for name in params)
            method, path = "GET", f"{path}?{query}"
        elif roll < 0.45:
            template = rng.choice([("GET", "/admin/api/keys/{}"), ("PATCH", "/admin/api/keys/{}"),
                                   ("POST", "/admin/api/keys/{}/rotate"), ("POST", "/admin/api/keys/{}/revoke"),
                                   ("DELETE", "/admin/api/keys/{}"), ("PUT", "/admin/api/models/{}")])
            method, path = template[0], template[1].format(rng.choice(BAD_IDS))
            if method in ("PATCH", "PUT"):
                body_tree = {"rpm": 10} if method == "PATCH" else {"display_name": "x"}
            if method == "PUT":
                exclusive, restore = True, ("PUT", path, b"{}")
        elif roll < 0.65:
            method, path = "POST", "/admin/api/keys"
            body_tree = rng.choice([
                {"name": "fz", "models": ["sim-*"], "rpm": 30, "tpm": 1000, "quota": 5000, "max_concurrent": 2,
                 "enabled": True, "expires_in": "7d"},
                {"name": "fz2", "expires_at": "2030-01-31T00:00:00Z", "models": []},
            ])
        elif roll < 0.78:
            method, path = "PATCH", f"/admin/api/keys/{self.victim}"
            body_tree = {"rpm": None, "quota": 1000, "models": ["sim-chat"], "name": "victim", "enabled": True,
                         "expires_in": "30d", "max_concurrent": 3, "tpm": 50}
        elif roll < 0.85:
            method, path = "PATCH", "/admin/api/settings"
            body_tree = rng.choice([{"reasoning_format": "both"},
                                    {"defaults": {"num_ctx": 4096, "think": "low", "keep_alive": "10m",
                                                  "options": {"temperature": 0.7}}},
                                    {"ollama_url": "http://127.0.0.1:1"}])
            exclusive = True
            restore = ("PATCH", "/admin/api/settings", b'{"ollama_url":null,"defaults":null,"reasoning_format":null}')
        elif roll < 0.92:
            method, path = "PUT", "/admin/api/models/sim-code"
            body_tree = {"display_name": "Sim Code", "aliases": ["fz-code"], "enabled": True,
                         "overrides": {"num_ctx": 4096, "request_timeout": 60000, "options": {"temperature": 0.2}}}
            exclusive, restore = True, ("PUT", "/admin/api/models/sim-code", b"{}")
        elif roll < 0.97:
            method, path = "POST", "/admin/api/login"
            body_tree = {"username": "admin", "password": rng.choice([ADMIN_PASSWORD, "wrong password"])}
        else:
            method, path = "POST", "/admin/api/password"
            body_tree = {"current_password": "not the password", "new_password": "another password 1"}
        notes = []
        body = None
        headers = []
        if body_tree is not None:
            body, notes = self.mutated_body(body_tree)
            content_type = "application/json"
            if rng.random() < 0.05:
                content_type = rng.choice(CONTENT_TYPES)
                notes.append(f"content-type {content_type!r}")
            if content_type:
                headers.append(("Content-Type", content_type))
        auth, note = self._admin_auth(method)
        if path == "/admin/api/login":
            auth, note = [], ""
        if note:
            notes.append(note)
        session = auth == "session"
        if not session:
            headers.extend(auth)
        return self._case(method, path, body, headers, label="; ".join(notes), exclusive=exclusive, restore=restore,
                          session=session)

    def raw_cases(self):
        """Requests no HTTP library sends: broken framing and bytes that are not allowed in a path."""
        key = self.api_key.encode()
        chat = b'{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}'
        head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer " + key + \
               b"\r\nContent-Type: application/json\r\nConnection: close\r\n"
        api = b"\r\nAuthorization: Bearer " + key + b"\r\nConnection: close\r\n\r\n"
        cases = [
            (head + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n" + chat + b"\r\n0\r\n\r\n", False),
            (head + b"Transfer-Encoding: chunked\r\n\r\n-5\r\n" + chat + b"\r\n0\r\n\r\n", False),
            (head + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n" + chat + b"\r\n0\r\n\r\n", False),
            (head + b"Transfer-Encoding: chunked\r\n\r\n10\r\n" + chat + b"\r\n0\r\n\r\n", False),
            (head + b"Transfer-Encoding: chunked\r\n\r\n" + hex(len(chat))[2:].encode() + b"\r\n" + chat, False),
            (head + b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n", False),
            (head + b"Content-Length: 9999\r\n\r\n" + chat, False),
            (head + b"Content-Length: -1\r\n\r\n" + chat, False),
            (head + b"Content-Length: 99999999999999999999999\r\n\r\n" + chat, False),
            (head + b"Content-Length: 3\r\nContent-Length: 70\r\n\r\n" + chat, False),
            (head + b"Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n", False),
            (head + b"Content-Encoding: gzip\r\nContent-Length: " + str(len(chat)).encode() + b"\r\n\r\n" + chat, True),
            (b"GET /v1/models/\xff\xfe HTTP/1.1\r\nHost: HOST" + api, True),
            (b"GET /v1/models/sim-chat\x00 HTTP/1.1\r\nHost: HOST" + api, False),
            (b"GET /api/tags\x7f HTTP/1.1\r\nHost: HOST" + api, False),
            (b"GET /v1/models/\xc3\xa9\xe2\x82 HTTP/1.1\r\nHost: HOST" + api, True),
            (b"GET /admin/api/keys/\xed\xa0\x80 HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer " + ADMIN_TOKEN.encode()
             + b"\r\nConnection: close\r\n\r\n", True),
            (b"GET /admin/api/audit?since=\xff&limit=%zz HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer "
             + ADMIN_TOKEN.encode() + b"\r\nConnection: close\r\n\r\n", True),
            (b"GET /v1/models/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: HOST" + api, False),
            (b"GET /v1/models HTTP/9.9\r\nHost: HOST" + api, False),
            (b"GET /v1/models HTTP/1.1\r\nHost: HOST\r\nBroken header line\r\n" + api[2:], False),
            (b"GET /v1/models HTTP/1.1\r\nHost: HOST\r\nX-Big: " + b"x" * 70_000 + api, False),
            (b"GET /v1/models HTTP/1.1\r\nHost: HOST\r\nX-Folded: a\r\n b" + api, False),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)), False),
            (b"GET /v1/models HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer \xff\xfe" + b"\r\nConnection: close\r\n\r\n", True),
            (b"POST /v1/chat/completions HTTP/1.1\r\nHost: HOST\r\nAuthorization: Bearer " + key +
             b"\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{\"model\":\"sim-chat\"", False),
        ]
        result = []
        for raw, check in cases:
            first = raw.split(b"\r\n", 1)[0].split(b" ")
            path = first[1].decode("latin-1")[:100] if len(first) > 1 else "?"
            result.append(self._case(first[0].decode("latin-1")[:10], path, raw=raw, check_format=check,
                                     label="raw socket"))
        return result

    def valid_cases(self):
        """Every seed request of every route as it is, both streamed and not: each must succeed, or the
        mutations of it would test only the refusal of a request that was wrong to begin with."""
        rng = random.Random(self.rng.random())
        seen = set()
        cases = []
        for path, maker, can_stream, _ in POST_ROUTES:
            for stream in ((False, True) if can_stream else (False,)):
                for _ in range(25):
                    body = encode(maker(rng, stream)).encode()
                    if (path, body) in seen:
                        continue
                    seen.add((path, body))
                    headers = [("Authorization", "Bearer " + self.api_key), ("Content-Type", "application/json")]
                    cases.append(self._case("POST", path, body, headers, label="valid request", expect_success=True))
        for path in GET_ROUTES:
            cases.append(self._case("GET", path, None, [("Authorization", "Bearer " + self.api_key)],
                                    label="valid request", expect_success=True))
        return cases

    def boundary_cases(self, valid):
        """Every number of every seed request set to each extreme, and every duration or time set to each hostile
        one, one at a time: the values where conversions overflow, systematically rather than by chance."""
        admin = [("Authorization", "Bearer " + ADMIN_TOKEN), ("Content-Type", "application/json")]
        seeds = [(c.method, c.path, json.loads(c.body), c.headers, False, None) for c in valid if c.body]
        seeds += [
            ("POST", "/admin/api/keys", {"name": "b", "models": ["sim-*"], "rpm": 30, "tpm": 1000, "quota": 5000,
                                         "max_concurrent": 2, "expires_in": "7d"}, admin, False, None),
            ("POST", "/admin/api/keys", {"name": "b", "expires_at": "2030-01-31T00:00:00Z"}, admin, False, None),
            ("PATCH", f"/admin/api/keys/{self.victim}", {"rpm": 5, "tpm": 5, "quota": 5, "max_concurrent": 5,
                                                         "expires_in": "30d"}, admin, False, None),
            ("PATCH", "/admin/api/settings", {"defaults": {"num_ctx": 4096, "keep_alive": 60, "request_timeout": 60000,
                                                           "options": {"temperature": 0.7, "num_predict": 10}}},
             admin, True, ("PATCH", "/admin/api/settings", b'{"defaults":null}')),
            ("PUT", "/admin/api/models/sim-code", {"overrides": {"num_ctx": 4096, "keep_alive": "5m",
                                                                 "request_timeout": 60000, "options": {"top_k": 5}}},
             admin, True, ("PUT", "/admin/api/models/sim-code", b"{}")),
        ]
        seen = set()
        cases = []
        for method, path, tree, headers, exclusive, restore in seeds:
            for index, (_, key, slot_path) in enumerate(_slots(tree)):
                value = _lookup(tree, slot_path)
                if isinstance(value, bool):
                    continue
                if isinstance(value, (int, float)):
                    replacements = EXTREMES
                elif key in DOMAIN_FIELDS:
                    replacements = DOMAIN_STRINGS
                else:
                    continue
                for replacement in replacements:
                    identity = (path, tree.get("model"), _path_text(slot_path), encode(replacement))
                    if identity in seen:
                        continue
                    seen.add(identity)
                    mutated = copy.deepcopy(tree)
                    container, last = _lookup(mutated, slot_path[:-1]), slot_path[-1]
                    container[last] = replacement
                    cases.append(self._case(method, path, encode(mutated).encode(), list(headers),
                                            label=f"boundary {_path_text(slot_path)}={encode(replacement)}",
                                            exclusive=exclusive, restore=restore))
        return cases

    def query_cases(self):
        """Each time, count and cursor parameter of the audit log and the usage reports alone at each extreme."""
        values = ["9223372036854775807", "-9223372036854775808", "99999999999999999999", "253402300800",
                  "-62135596800", "1e400", "%zz", "0", "-1"]
        cases = []
        for path in [p for p in ADMIN_GETS if "/usage/" in p or p.endswith("/audit")]:
            for name in ("since", "until", "limit", "cursor"):
                for value in values:
                    cases.append(self._case("GET", f"{path}?{name}={value}", None,
                                            [("Authorization", "Bearer " + ADMIN_TOKEN)], label="query boundary"))
        return cases

    def cases(self, total):
        cases = self.raw_cases() + self.query_cases()
        makers = [(self.api_post, 70), (self.api_get, 6), (self.odd, 6), (self.admin, 18)]
        while len(cases) < total:
            maker = self.rng.choices([m for m, _ in makers], weights=[w for _, w in makers])[0]
            cases.append(maker())
        # The raw cases are spread out, so that a time-bounded run still reaches some of them.
        self.rng.shuffle(cases)
        return cases


# --- processes -------------------------------------------------------------------------------------------------------

class Server:
    """A child process that prints `… listening on http://HOST:PORT`; its output is drained into a ring buffer
    (an undrained pipe would block it) so a crash report can show its last lines."""

    def __init__(self, args, env, name):
        self.args, self.env, self.name = args, env, name
        self.process = None
        self.url = None
        self.lines = collections.deque(maxlen=2000)

    def start(self):
        self.lines.clear()
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace")
            if "listening on " in line:
                self.url = line.strip().split("listening on ", 1)[1]
                break
            self.lines.append(line.rstrip())
        else:
            raise RuntimeError(f"{self.name} exited before listening: {self.process.stderr.read()!r}")
        for stream in (self.process.stdout, self.process.stderr):
            threading.Thread(target=self._drain, args=(stream,), daemon=True).start()
        parsed = urllib.parse.urlsplit(self.url)
        self.host, self.port = parsed.hostname, parsed.port
        return self

    def _drain(self, stream):
        for raw in stream:
            self.lines.append(raw.decode("utf-8", "replace").rstrip())

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def exit_description(self):
        code = self.process.poll()
        if code is None:
            return "running"
        return f"exit status {code}" if code >= 0 else f"killed by signal {-code}"

    def tail(self, count=6):
        """The crash message and the first frames of Swift's backtrace when there is one, else the last lines."""
        lines = list(self.lines)
        messages = [line.strip() for line in lines if "Fatal error" in line]
        crashed = [i for i, line in enumerate(lines) if line.rstrip().endswith("crashed:")]
        if messages or crashed:
            frames = []
            for line in lines[crashed[0] + 1:] if crashed else []:
                if re.match(r"\s*Thread \d+", line) or len(frames) >= count:
                    break
                match = re.match(r"\s*\d+ .*?0x[0-9a-f]+ (.*)", line)
                if match and "libswiftCore" not in line and "<compiler-generated>" not in line:
                    frames.append(re.sub(r"(?: \+ \d+)? in \S+ at /\S*?/(Sources/)", r" at \1", match.group(1))[:200])
            return messages[:1] + frames
        return [line[:300] for line in lines[-count:]]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- one request, its checks -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class Outcome:
    status: int = None
    headers: dict = None
    body: bytes = b""
    error: str = None  # the client saw no complete response
    timed_out: bool = False
    tolerated: bool = False  # an error that is not the gateway's fault
    probe: "Outcome" = None  # the answer to the case's probe request


def send(server, case, session):
    if case.raw is not None:
        return send_raw(server, case)
    connection = http.client.HTTPConnection(server.host, server.port, timeout=REQUEST_TIMEOUT_S)
    try:
        connection.putrequest(case.method, case.path, skip_accept_encoding=True)
        headers = list(case.headers)
        if case.session:
            headers += [("Cookie", session["cookie"]), ("X-CSRF-Token", session["csrf"])]
        for name, value in headers:
            connection.putheader(name, value.encode("latin-1", "replace") if isinstance(value, str) else value)
        if case.body is not None:
            connection.putheader("Content-Length", str(len(case.body)))
        try:
            connection.endheaders(case.body)
        except OSError as error:
            # A server may answer a body that is too large before reading all of it, and close.
            if len(case.body or b"") <= MAX_BODY_BYTES:
                raise
            try:
                response = connection.getresponse()
            except (http.client.HTTPException, OSError, AttributeError):  # AttributeError: http.client closed it
                return Outcome(error=f"closed while an oversized body was sent ({type(error).__name__})", tolerated=True)
        else:
            response = connection.getresponse()
        outcome = Outcome(response.status, {k.lower(): v for k, v in response.getheaders()})
        if case.method != "HEAD":
            outcome.body = response.read(8 * 1024 * 1024)
        return outcome
    except socket.timeout:
        return Outcome(error=f"no complete response within {REQUEST_TIMEOUT_S:.0f} s", timed_out=True)
    except (http.client.HTTPException, OSError) as error:
        return Outcome(error=f"{type(error).__name__}: {error}"[:300])
    finally:
        connection.close()


def send_raw(server, case):
    data = case.raw.replace(b"Host: HOST", f"Host: {server.host}:{server.port}".encode())
    chunks = []
    try:
        with socket.create_connection((server.host, server.port), timeout=3) as sock:
            try:
                sock.sendall(data)
            except OSError:
                pass  # the server may refuse to read the rest of a bad request: its answer is still read
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    break
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
    except OSError as error:
        return Outcome(error=f"connect: {error}")
    raw = b"".join(chunks)
    if not raw:
        return Outcome(error="no answer (connection closed or waiting for more bytes)", timed_out=False)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    if not match:
        return Outcome(error=f"not an HTTP answer: {raw[:100]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return Outcome(int(match.group(1)), headers, body)


def _dechunk(data):
    out = []
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out.append(rest[:size])
        data = rest[size + 2:]
    return b"".join(out)


@dataclasses.dataclass
class Failure:
    kind: str
    case: Case
    status: object
    detail: str
    response: bytes = b""

    def route(self):
        """The route with ids elided, so that one cause on many ids is one line."""
        route = re.sub(r"/(keys|models)/[^?]+", r"/\1/{id}", self.case.path.split("?", 1)[0])
        return f"{self.case.method} {'(raw socket) ' if self.case.raw is not None else ''}{route[:60]}"

    def cause(self):
        """Failures of one cause share kind, status and the normalised detail (numbers and addresses elided)."""
        detail = re.sub(r"\d+", "N", self.detail)
        detail = re.sub(r"invalid format: .*", "invalid format: …", detail)
        return (self.kind, str(self.status), detail[:200])

    def signature(self):
        return self.cause() + (self.route(),)


def _json(data):
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


def error_shape_problem(api, document):
    """None when `document` is an error in `api`'s format, else what is wrong with it."""
    if not isinstance(document, dict):
        return "error body is not a JSON object"
    if api in ("openai", "admin"):
        error = document.get("error")
        if not isinstance(error, dict):
            return "no 'error' object"
        if not isinstance(error.get("message"), str) or not isinstance(error.get("type"), str):
            return "error.message/error.type not strings"
        if api == "openai":
            for name in ("param", "code"):
                if name in error and error[name] is not None and not isinstance(error[name], (str, int)):
                    return f"error.{name} has a wrong type"
        return None
    if api == "anthropic":
        error = document.get("error")
        if document.get("type") != "error" or not isinstance(error, dict):
            return "not {\"type\":\"error\",\"error\":{…}}"
        if not isinstance(error.get("type"), str) or not isinstance(error.get("message"), str):
            return "error.type/error.message not strings"
        return None
    if api == "ollama":
        if not isinstance(document.get("error"), str):
            return "no 'error' string"
        return None
    return None


def check(case, outcome, sim_address, failures):
    """Appends every failure of one response."""

    def fail(kind, detail, response=None):
        failures.append(Failure(kind, case, outcome.status, detail, outcome.body if response is None else response))

    if outcome.error is not None:
        if case.raw is not None or outcome.tolerated:
            return  # refusing or closing on a request that is not HTTP is fine; the liveness check follows
        fail("hang" if outcome.timed_out else "broken response", outcome.error)
        return
    status = outcome.status
    if case.expect_success and not 200 <= status < 300:
        fail("valid request refused", f"status {status}: {_message_of(outcome.body)}")
    allowed_504 = status == 504 and (case.allow_timeout or (
        case.body is not None and (b"request_timeout" in case.body or b"timeout_ms" in case.body)))
    if status >= 500 and not allowed_504:
        fail("5xx status", f"status {status}: {_message_of(outcome.body)}")
    content_type = (outcome.headers or {}).get("content-type", "")
    leaked = sim_address.encode()
    if case.method == "HEAD" or case.api == "none" or not case.check_format:
        if status >= 400 and leaked in outcome.body:
            fail("Ollama address leaked", "an error names the Ollama address")
        return
    if status >= 400 or (status >= 300 and case.api != "admin"):
        document = _json(outcome.body)
        if document is None:
            fail("error not JSON", f"status {status}, content-type {content_type!r}, body {outcome.body[:80]!r}")
        else:
            problem = error_shape_problem(case.api, document)
            if problem:
                fail(f"error not in {case.api} format", f"status {status}: {problem}")
        if leaked in outcome.body:
            fail("Ollama address leaked", "an error names the Ollama address")
        return
    if case.api == "admin" or case.method == "OPTIONS" or status == 204:
        return  # admin successes are JSON, CSV or empty; their contents are other tests' business
    if "text/event-stream" in content_type:
        check_sse(case, outcome, leaked, fail)
    elif "ndjson" in content_type:
        check_ndjson(outcome, leaked, fail)
    elif _json(outcome.body) is None:
        fail("2xx body not JSON", f"status {status}, content-type {content_type!r}")


def check_sse(case, outcome, leaked, fail):
    text = outcome.body.decode("utf-8", "replace").replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if name is not None or data:
            events.append((name, "\n".join(data)))
    if not events:
        fail("stream did not end properly", "an empty event stream")
        return
    if case.api == "anthropic":
        names = [name for name, _ in events if name != "ping"]
        errors = [data for name, data in events if name == "error"]
        for data in errors:
            problem = error_shape_problem("anthropic", _json(data))
            if problem:
                fail("stream error event not in anthropic format", problem)
            if leaked in data.encode():
                fail("Ollama address leaked", "a stream error event names the Ollama address")
        if not names or names[-1] not in ("message_stop", "error"):
            fail("stream did not end properly", f"last events {names[-3:]}, expected message_stop or error")
        return
    if case.path.split("?", 1)[0] == "/v1/responses":
        check_responses_sse(events, leaked, fail)
        return
    datas = [data for _, data in events]
    error_events = []
    for data in datas:
        if data == "[DONE]":
            continue
        document = _json(data)
        if document is None:
            fail("stream chunk not JSON", f"data {data[:80]!r}")
            return
        if isinstance(document, dict) and "error" in document:
            error_events.append(document)
    for document in error_events:
        problem = error_shape_problem("openai", document)
        if problem:
            fail("stream error event not in openai format", problem)
        if leaked in json.dumps(document).encode():
            fail("Ollama address leaked", "a stream error event names the Ollama address")
    if datas[-1] != "[DONE]" and not error_events:
        fail("stream did not end properly", f"last data {datas[-1][:80]!r}, expected [DONE] or an error event")


def check_responses_sse(events, leaked, fail):
    """A Responses stream: every event named by its type, numbered from 0, ending with one terminal event."""
    documents = []
    for name, data in events:
        document = _json(data)
        if not isinstance(document, dict) or document.get("type") != name:
            fail("stream event not a Responses event", f"event {name!r}, data {data[:80]!r}")
            return
        documents.append(document)
    if [d.get("sequence_number") for d in documents] != list(range(len(documents))):
        fail("stream events out of sequence", f"{[d.get('sequence_number') for d in documents][:10]}")
    terminal = [d["type"] for d in documents if d["type"] in ("response.completed", "response.incomplete",
                                                                 "response.failed", "error")]
    if terminal != [documents[-1]["type"]]:
        fail("stream did not end properly", f"terminal events {terminal}, last {documents[-1]['type']}")
    if documents[-1]["type"] == "response.failed":
        error = (documents[-1].get("response") or {}).get("error") or {}
        if not isinstance(error.get("message"), str) or not isinstance(error.get("code"), str):
            fail("response.failed without its error", json.dumps(error)[:200])
        if leaked in json.dumps(error).encode():
            fail("Ollama address leaked", "a failed response names the Ollama address")


def check_ndjson(outcome, leaked, fail):
    lines = [line for line in outcome.body.split(b"\n") if line.strip()]
    if not lines:
        fail("stream did not end properly", "an empty NDJSON stream")
        return
    documents = []
    for line in lines:
        document = _json(line)
        if not isinstance(document, dict):
            fail("stream chunk not JSON", f"line {line[:80]!r}")
            return
        documents.append(document)
    errors = [d for d in documents if "error" in d]
    for document in errors:
        if not isinstance(document["error"], str):
            fail("stream error line not in ollama format", f"{json.dumps(document)[:80]}")
        if leaked in json.dumps(document).encode():
            fail("Ollama address leaked", "a stream error line names the Ollama address")
    if documents[-1].get("done") is not True and not errors:
        fail("stream did not end properly", f"last line {lines[-1][:80]!r}, expected done:true or an error line")


def _message_of(body):
    document = _json(body)
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict):
            return str(error.get("message"))[:160]
        if isinstance(error, str):
            return error[:160]
    return repr(body[:160])


# --- the run ---------------------------------------------------------------------------------------------------------

class Run:
    def __init__(self, tmp):
        self.data_dir = tempfile.mkdtemp(prefix="gateway-fuzz-", dir=tmp)
        self.sim = None
        self.gateway = None
        self.failures = []
        self.session = {}
        self.restarts = 0
        self.durations = []  # (seconds, case index, request): the slowest are printed, to keep the run fast
        self.statuses = collections.Counter()  # how many requests got past validation, to see the fuzz go deep

    def start_sim(self, port=0):
        # The crash message is enough for a simulator crash; writing its backtrace takes seconds of the budget.
        env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
        self.sim = Server([REPO_SIM_BIN, "--port", str(port)], env, "ollama-sim").start()
        self.sim_address = f"{self.sim.host}:{self.sim.port}"

    def start_gateway(self):
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OLLAMA_URL")}
        env.update({
            "ADMIN_TOKEN": ADMIN_TOKEN, "ADMIN_PASSWORD": ADMIN_PASSWORD, "BCRYPT_COST": "4", "LOG_LEVEL": "error",
            "MAX_BODY_BYTES": str(MAX_BODY_BYTES), "LOGIN_MAX_FAILURES": "1000", "LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
        })
        if os.environ.get("FUZZ_BACKTRACE") != "1":
            # Writing a backtrace keeps a crashed debug build alive for ~15 s: long enough to be taken for a hang and
            # to blame later requests. Without it a crash is seen at once; the fatal error message is still printed.
            env["SWIFT_BACKTRACE"] = "enable=no"
        self.gateway = Server([GATEWAY_BIN, "serve", "--port", "0", "--ollama-url", self.sim.url, "--data-dir",
                               self.data_dir], env, "ollama-gateway").start()

    def admin_call(self, method, path, body=None):
        connection = http.client.HTTPConnection(self.gateway.host, self.gateway.port, timeout=30)
        try:
            headers = {"Authorization": "Bearer " + ADMIN_TOKEN}
            if body is not None:
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def login(self):
        connection = http.client.HTTPConnection(self.gateway.host, self.gateway.port, timeout=30)
        try:
            connection.request("POST", "/admin/api/login", body=json.dumps(
                {"username": "admin", "password": ADMIN_PASSWORD}), headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            body = json.loads(response.read())
            assert response.status == 200, body
            cookie = [v for k, v in response.getheaders() if k.lower() == "set-cookie" and "gateway_session=" in v][0]
            self.session = {"cookie": cookie.split(";", 1)[0], "csrf": body["csrf_token"]}
        finally:
            connection.close()

    def live(self):
        outcome = send(self.gateway, Case(-1, "GET", "/health/live", "none"), self.session)
        return outcome.status == 200

    def run_one(self, case):
        started = time.monotonic()
        outcome = send(self.gateway, case, self.session)
        self.durations.append((time.monotonic() - started, case.index, case.describe(120)))
        self.statuses[f"{outcome.status // 100}xx" if outcome.status else "no answer"] += 1
        outcome.probe = None
        if case.restore and outcome.status is not None and 200 <= outcome.status < 300:
            if case.probe is not None:
                outcome.probe = send(self.gateway, case.probe, self.session)
            status, body = self.admin_call(*case.restore)
            if status >= 300:
                self.failures.append(Failure("restoring a setting failed", Case(-1, *case.restore[:2], "admin",
                                                                                case.restore[2]), status, "", body))
        return outcome

    def check(self, case, outcome):
        check(case, outcome, self.sim_address, self.failures)
        if outcome.probe is not None:
            check(case.probe, outcome.probe, self.sim_address, self.failures)

    def dead(self):
        return [server for server in (self.gateway, self.sim) if not server.alive()]

    def handle_crash(self, batch):
        """A process died during `batch`: restart and replay each request alone to find the one that kills it.
        The simulator dying is reported too (it is this project's, and the gateway sent it the request)."""
        reported = False
        died = "; ".join(f"{server.name} {server.exit_description()}: {server.tail()}" for server in self.dead())
        self.restart()
        for case in batch:
            if self.dead():
                self.restart()
            outcome = self.run_one(case)
            waited = time.monotonic() + 0.5
            while _suspect(outcome) and not self.dead() and time.monotonic() < waited:
                time.sleep(0.02)
            dead = self.dead()
            if dead:
                for server in dead:
                    kind = "crash" if server is self.gateway else "simulator crash (the gateway passed the request on)"
                    detail = f"{server.name} {server.exit_description()}: {server.tail()}"
                    if case.probe is not None and outcome.status is not None and outcome.status < 300:
                        detail += " (during the chat sent after the change was saved)"
                    self.failures.append(Failure(kind, case, outcome.status, detail, outcome.body))
                reported = True
            else:
                self.check(case, outcome)
        if not reported:
            # Something earlier left a state that killed a later request (a saved value, a loaded model's expiry).
            cases = ", ".join(f"#{c.index}" for c in batch)
            self.failures.append(Failure("crash (not reproduced alone)", batch[0], None,
                                         f"{died} (while cases {cases} were in flight)"))
        if self.dead():
            self.restart()

    def handle_hangs(self, hung):
        """Requests without an answer in time. A gateway busy with one may keep the others of its batch waiting,
        so each is sent alone to a fresh gateway: only one that hangs alone is reported as a hang."""
        for case in hung:
            self.gateway.stop()
            self.restart()
            outcome = self.run_one(case)
            waited = time.monotonic() + 0.5
            while _suspect(outcome) and not self.dead() and time.monotonic() < waited:
                time.sleep(0.02)
            if not self.gateway.alive():
                detail = f"{self.gateway.name} {self.gateway.exit_description()}: {self.gateway.tail()}"
                self.failures.append(Failure("crash", case, outcome.status, detail, outcome.body))
            elif outcome.timed_out:
                self.failures.append(Failure("hang", case, None, outcome.error + " when sent alone"))
            else:
                self.check(case, outcome)
        self.gateway.stop()
        self.restart()

    def restart(self):
        """Restarts whatever died. The simulator comes back on its port when it can, so that the gateway keeps
        its Ollama URL; otherwise the gateway is restarted with the new one."""
        if not self.sim.alive():
            port = self.sim.port
            try:
                self.start_sim(port)
            except RuntimeError:
                self.start_sim()
            if self.sim.port != port:
                self.gateway.stop()
        if not self.gateway.alive():
            self.restarts += 1
            self.start_gateway()
            self.login()

    def execute(self, cases, deadline, pool):
        done = 0
        since_health = 0
        position = 0
        while position < len(cases) and time.monotonic() < deadline:
            if cases[position].exclusive:
                batch = [cases[position]]
            else:
                batch = []
                while position + len(batch) < len(cases) and len(batch) < WORKERS * 2 \
                        and not cases[position + len(batch)].exclusive:
                    batch.append(cases[position + len(batch)])
            position += len(batch)
            outcomes = list(pool.map(self.run_one, batch))
            if any(_suspect(o) for o in outcomes) or any(c.raw is not None for c in batch):
                # A crash shows first as broken connections or a 502; give the process time to be reaped.
                waited = time.monotonic() + 0.5
                while not self.dead() and time.monotonic() < waited:
                    time.sleep(0.02)
            if self.dead():
                self.handle_crash(batch)
            else:
                for case, outcome in zip(batch, outcomes):
                    if not outcome.timed_out:
                        self.check(case, outcome)
                hung = [case for case, outcome in zip(batch, outcomes) if outcome.timed_out]
                if hung:
                    self.handle_hangs(hung)
            done += len(batch)
            since_health += len(batch)
            if since_health >= HEALTH_EVERY:
                since_health = 0
                if not self.live():
                    self.failures.append(Failure("health/live failed", batch[-1], None,
                                                 f"after case {batch[-1].index}; gateway {self.gateway.exit_description()}"))
                    self.gateway.stop()
                    self.restart()
        return done


def _suspect(outcome):
    """An answer that a process dying would give: no complete response, or a 5xx (also of the probe)."""
    probe = outcome.probe
    return bool(outcome.error or (outcome.status or 0) >= 500
                or (probe is not None and (probe.error or (probe.status or 0) >= 500)))


def report(failures, limit_examples=2):
    """Failures grouped by kind, then by cause; each cause lists its routes and the shortest reproductions."""
    kinds = collections.OrderedDict()
    for failure in sorted(failures, key=lambda f: (f.kind, f.cause(), len(f.case.body or f.case.raw or b""))):
        kinds.setdefault(failure.kind, collections.OrderedDict()).setdefault(failure.cause(), []).append(failure)
    lines = []
    for kind, causes in kinds.items():
        total = sum(len(v) for v in causes.values())
        lines.append(f"\n=== {kind}: {total} request(s), {len(causes)} distinct cause(s) ===")
        for (_, status, detail), members in causes.items():
            routes = collections.Counter(f.route() for f in members)
            lines.append(f"- status {status}: {detail}")
            lines.append(f"  {len(members)} request(s) on " + ", ".join(
                f"{route} ({count}x)" for route, count in sorted(routes.items())))
            shown = set()
            examples = 0
            for failure in members:
                if failure.route() in shown and failure.case.raw is None:
                    continue
                if examples >= limit_examples and failure.case.raw is None:
                    break
                shown.add(failure.route())
                examples += 1
                lines.append(f"    case #{failure.case.index} [{failure.case.label[:400]}]")
                lines.append(f"      request:  {failure.case.describe()}")
                if "crash" in failure.kind and examples == 1:
                    lines.append(f"      process:  {failure.detail[:3000]}")
                if failure.response:
                    lines.append(f"      response: {failure.response[:300]!r}")
    return "\n".join(lines)


def test_hostile_requests_never_crash_never_5xx_and_errors_keep_their_format(tmp_path):
    print(f"\nfuzz seed {SEED} (FUZZ_SEED), {CASES} cases (FUZZ_CASES), {SECONDS:.0f} s (FUZZ_SECONDS), "
          f"{WORKERS} workers (FUZZ_WORKERS)")
    run = Run(str(tmp_path))
    run.start_sim()
    try:
        run.start_gateway()
        run.login()
        status, body = run.admin_call("POST", "/admin/api/keys", json.dumps({"name": "fuzz"}).encode())
        assert status == 201, body
        api_key = json.loads(body)["secret"]
        status, body = run.admin_call("POST", "/admin/api/keys", json.dumps({"name": "victim"}).encode())
        assert status == 201, body
        victim = json.loads(body)["key"]["id"]
        generator = Generator(SEED, api_key, victim)
        valid = generator.valid_cases()
        boundary = generator.boundary_cases(valid)
        cases = valid + boundary + generator.cases(max(CASES - len(boundary), 0))
        print(f"fuzz: {len(valid)} valid requests, {len(boundary)} boundary values, {len(cases) - len(valid) - len(boundary)} "
              f"random mutations")

        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            done = run.execute(cases, started + SECONDS, pool)
        elapsed = time.monotonic() - started
        alive_at_end = run.gateway.alive() and run.live()
        if not alive_at_end:
            run.failures.append(Failure("health/live failed", cases[max(done - 1, 0)], None,
                                        f"at the end; gateway {run.gateway.exit_description()}"))
        print(f"fuzz: {done} of {len(cases)} cases in {elapsed:.1f} s, {len(run.failures)} failure(s), "
              f"{run.restarts} gateway restart(s)")
        print("fuzz: answers " + ", ".join(f"{name} {count}" for name, count in sorted(run.statuses.items())))
        for seconds, index, request in sorted(run.durations, reverse=True)[:3]:
            print(f"  slowest: {seconds:.2f} s case #{index}: {request}")
        assert done >= min(len(cases), 200), f"only {done} cases ran within {SECONDS} s"
        if run.failures:
            print(report(run.failures))
            kinds = collections.Counter(f.kind for f in run.failures)
            distinct = collections.Counter(kind for kind, *_ in {f.cause() for f in run.failures})
            summary = "\n".join(f"  {kind}: {count} request(s), {distinct[kind]} distinct" for kind, count in kinds.items())
            pytest.fail(f"{len(run.failures)} failure(s) in {done} hostile requests (seed {SEED}); the report with a "
                        f"reproduction of each is in the output above\n{summary}", pytrace=False)
    finally:
        if run.gateway:
            run.gateway.stop()
        run.sim.stop()
