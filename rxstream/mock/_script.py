"""What the mock says: OpenAI chat completion payloads, computed up front (pure)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import msgspec

DEFAULT_TEXT: Final = (
    "rxstream turns a streaming HTTP response into a ReactiveX pipeline. "
    "Bytes arrive from aiohttp, become Server-Sent Events, then typed deltas. "
    "You can buffer, throttle or split them into sentences, retry on failure, "
    "and send the result to a terminal, a file or a browser."
)
_TOKEN = re.compile(r"\s*\S{1,6}|\s+")


@dataclass(frozen=True, slots=True)
class MockConfig:
    """How the mock server answers.

    Attributes:
        text: The answer text; ``None`` answers with a canned text quoting the prompt.
        tokens_per_second: Pace of content chunks; ``None`` streams as fast as possible.
        events_per_write: How many SSE events go into one socket write.
        model: The model name reported back.
        api_key: When set, requests must carry ``Authorization: Bearer <api_key>``.
        tool_arguments: Arguments per tool name; other tools get arguments made up
            from their JSON schema.
        first_event_delay: Seconds between the response headers and the first event
            (a slow first token; per request, the ``slow_start=S`` fault does the same).
    """

    text: str | None = None
    tokens_per_second: float | None = None
    events_per_write: int = 1
    model: str = "mock-gpt"
    api_key: str | None = None
    tool_arguments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    first_event_delay: float = 0.0


def tokenize(text: str) -> list[str]:
    """Split text into token-sized pieces whose concatenation is exactly ``text``."""
    return _TOKEN.findall(text)


def answer_text(request: Mapping[str, Any], config: MockConfig) -> str:
    """The text the mock answers an OpenAI chat ``request`` with (choice 0)."""
    return answer_for(_last_user_message(request), config)


def answer_for(prompt: str, config: MockConfig) -> str:
    """The configured text, or a canned answer quoting ``prompt``."""
    if config.text is not None:
        return config.text
    prompt = " ".join(prompt.split())
    if not prompt:
        return DEFAULT_TEXT
    return f'You asked: "{prompt[:200]}". {DEFAULT_TEXT}'


def _last_user_message(request: Mapping[str, Any]) -> str:
    for message in reversed(request.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return " ".join(content.split())
    return ""


def choice_text(base: str, index: int) -> str:
    """Each choice answers differently, so tests can tell them apart."""
    return base if index == 0 else f"(Variant {index + 1}) {base}"


@dataclass(frozen=True, slots=True)
class PlannedCall:
    """A tool call the mock will make."""

    id: str
    name: str
    arguments: str


def planned_calls(request: Mapping[str, Any], config: MockConfig) -> list[PlannedCall]:
    """One call per requested tool (only the first if ``parallel_tool_calls`` is false)."""
    tools = [t for t in request.get("tools") or [] if isinstance(t, dict)]
    if request.get("tool_choice") == "none":
        return []
    if request.get("parallel_tool_calls") is False:
        tools = tools[:1]
    specs = [
        ((t.get("function") or {}).get("name"), (t.get("function") or {}).get("parameters"))
        for t in tools
    ]
    return plan_calls(specs, config, prefix="call_mock")


def plan_calls(
    tools: list[tuple[Any, Any]], config: MockConfig, *, prefix: str
) -> list[PlannedCall]:
    """One call per ``(name, JSON schema)`` tool; ids are ``prefix`` + a number."""
    calls = []
    for number, (name, schema) in enumerate(tools):
        tool_name = str(name or f"tool_{number}")
        arguments = config.tool_arguments.get(tool_name)
        if arguments is None:
            arguments = _example_arguments(schema if isinstance(schema, dict) else {})
        calls.append(
            PlannedCall(
                id=f"{prefix}{number:04d}" if prefix else "",
                name=tool_name,
                arguments=msgspec.json.encode(arguments).decode(),
            )
        )
    return calls


def _example_arguments(schema: Mapping[str, Any]) -> dict[str, Any]:
    examples = {"string": "example", "number": 1.5, "integer": 1, "boolean": True}
    properties = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name, spec in properties.items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        if isinstance(spec, dict) and spec.get("enum"):
            out[name] = spec["enum"][0]
        elif kind == "array":
            out[name] = []
        elif kind == "object":
            out[name] = {}
        else:
            out[name] = examples.get(str(kind), "example")
    return out


def prompt_tokens(request: Mapping[str, Any]) -> int:
    """A stand-in token count: words in all message contents."""
    count = 0
    for message in request.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            count += len(content.split())
    return count


def stream_events(request: Mapping[str, Any], config: MockConfig) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer, in wire order.

    Content and tool-call fragments of all choices are interleaved round-robin, as a
    real server may; the usage chunk (empty ``choices``) comes last when
    ``stream_options.include_usage`` asks for it.
    """
    n = _choices(request)
    include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
    created = int(time.time())
    base = answer_text(request, config)
    calls = planned_calls(request, config)

    def chunk(choice: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": created,
            "model": config.model,
            "system_fingerprint": "fp_mock",
            "choices": [
                {"index": choice, "delta": delta, "logprobs": None, "finish_reason": finish}
            ],
        }
        if include_usage:
            body["usage"] = None
        return body

    lanes: list[list[dict[str, Any]]] = []
    completion_tokens = 0
    for index in range(n):
        lane = [chunk(index, {"role": "assistant", "content": "", "refusal": None})]
        pieces = tokenize(choice_text(base, index))
        completion_tokens += len(pieces)
        lane += [chunk(index, {"content": piece}) for piece in pieces]
        fragments = [_call_fragments(number, call) for number, call in enumerate(calls)]
        # interleave the calls' fragments so assembly by index is exercised
        for step in range(max((len(f) for f in fragments), default=0)):
            for frags in fragments:
                if step < len(frags):
                    lane.append(chunk(index, {"tool_calls": [frags[step]]}))
                    completion_tokens += 1
        lane.append(chunk(index, {}, "tool_calls" if calls else "stop"))
        lanes.append(lane)
    events = [lane[i] for i in range(max(map(len, lanes))) for lane in lanes if i < len(lane)]
    if include_usage:
        prompt = prompt_tokens(request)
        usage_chunk = chunk(0, {})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        }
        events.append(usage_chunk)
    return events


def _call_fragments(number: int, call: PlannedCall) -> list[dict[str, Any]]:
    head = {
        "index": number,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    pieces = [call.arguments[i : i + 7] for i in range(0, len(call.arguments), 7)]
    return [head] + [{"index": number, "function": {"arguments": p}} for p in pieces]


def completion(request: Mapping[str, Any], config: MockConfig) -> dict[str, Any]:
    """The ``chat.completion`` object of a non-streamed answer."""
    base = answer_text(request, config)
    calls = planned_calls(request, config)
    choices = []
    completion_tokens = 0
    for index in range(_choices(request)):
        text = choice_text(base, index)
        completion_tokens += len(tokenize(text))
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in calls
            ]
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if calls else "stop",
            }
        )
    prompt = prompt_tokens(request)
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": config.model,
        "system_fingerprint": "fp_mock",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


def _choices(request: Mapping[str, Any]) -> int:
    n = request.get("n", 1)
    return n if isinstance(n, int) and 1 <= n <= 16 else 1
