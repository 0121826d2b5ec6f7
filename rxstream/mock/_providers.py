"""What the mock says in the other providers' wire formats (pure: encoded events).

Each script returns a ``Script``: the encoded events in wire order, how many trailing
events make up "the end" (dropped by the ``no_done`` fault), and the encoded in-stream
error event of that format (for the ``provider_error`` fault).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from ._script import MockConfig, PlannedCall, answer_for, plan_calls, tokenize

_encode = msgspec.json.encode


@dataclass(frozen=True, slots=True)
class Script:
    """An answer in one wire format."""

    events: list[bytes]
    tail: int
    content_type: str
    error: Callable[[str], bytes]


def _sse(data: Any, event: str | None = None, newline: bytes = b"\n") -> bytes:
    head = b"event: " + event.encode() + newline if event else b""
    return head + b"data: " + _encode(data) + newline + newline


def _pieces(arguments: str) -> list[str]:
    return [arguments[i : i + 7] for i in range(0, len(arguments), 7)] or [""]


def _prompt_words(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


# -- Anthropic Messages -------------------------------------------------------------------


def _message_texts(messages: Any) -> list[str]:
    """The text of each message whose content is a string or a list of text blocks."""
    texts: list[str] = []
    for message in messages or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [b.get("text", "") for b in content if isinstance(b, dict)]
    return texts


def _anthropic_texts(request: Mapping[str, Any]) -> list[str]:
    system = [request["system"]] if isinstance(request.get("system"), str) else []
    return system + _message_texts(request.get("messages"))


def anthropic(request: Mapping[str, Any], config: MockConfig) -> Script:
    """``POST /v1/messages`` with ``stream: true``."""
    texts = _anthropic_texts(request)
    text = answer_for(texts[-1] if texts else "", config)
    tools = [(t.get("name"), t.get("input_schema")) for t in request.get("tools") or []]
    calls = plan_calls(tools, config, prefix="toolu_mock")
    prompt = _prompt_words(texts)
    pieces = tokenize(text)
    events = [
        _sse(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_mock",
                    "type": "message",
                    "role": "assistant",
                    "model": request.get("model") or config.model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": prompt, "output_tokens": 1},
                },
            },
            "message_start",
        )
    ]
    index = 0
    if request.get("thinking"):
        events.append(
            _sse(
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": ""},
                },
                "content_block_start",
            )
        )
        for piece in tokenize("Let me think about it."):
            events.append(
                _sse(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "thinking_delta", "thinking": piece},
                    },
                    "content_block_delta",
                )
            )
        events.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
        index = 1
    events.append(
        _sse(
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        )
    )
    events.append(_sse({"type": "ping"}, "ping"))
    for piece in pieces:
        events.append(
            _sse(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                },
                "content_block_delta",
            )
        )
    events.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    for call in calls:
        index += 1
        events.append(
            _sse(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": {},
                    },
                },
                "content_block_start",
            )
        )
        for piece in _pieces(call.arguments):
            events.append(
                _sse(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                    "content_block_delta",
                )
            )
        events.append(_sse({"type": "content_block_stop", "index": index}, "content_block_stop"))
    events.append(
        _sse(
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "tool_use" if calls else "end_turn",
                    "stop_sequence": None,
                },
                "usage": {"output_tokens": len(pieces) + len(calls)},
            },
            "message_delta",
        )
    )
    events.append(_sse({"type": "message_stop"}, "message_stop"))

    def error(kind: str) -> bytes:
        body = {"type": "error", "error": {"type": kind, "message": "The mock provider failed."}}
        return _sse(body, "error")

    return Script(events, 2, "text/event-stream", error)


# -- OpenAI Responses ---------------------------------------------------------------------


def _responses_texts(request: Mapping[str, Any]) -> list[str]:
    given = request.get("input")
    return [given] if isinstance(given, str) else _message_texts(given)


def responses(request: Mapping[str, Any], config: MockConfig) -> Script:
    """``POST /v1/responses`` with ``stream: true``."""
    texts = _responses_texts(request)
    text = answer_for(texts[-1] if texts else "", config)
    tools = [
        (t.get("name"), t.get("parameters"))
        for t in request.get("tools") or []
        if t.get("type") == "function"
    ]
    calls = plan_calls(tools, config, prefix="call_mock")
    model = request.get("model") or config.model
    sequence = iter(range(1_000_000))

    def event(kind: str, **fields: Any) -> bytes:
        return _sse({"type": kind, "sequence_number": next(sequence), **fields}, kind)

    base = {"id": "resp_mock", "object": "response", "model": model}
    message = {"id": "msg_mock", "type": "message", "role": "assistant"}
    events = [
        event("response.created", response={**base, "status": "in_progress", "output": []}),
        event("response.in_progress", response={**base, "status": "in_progress", "output": []}),
        event(
            "response.output_item.added",
            output_index=0,
            item={**message, "status": "in_progress", "content": []},
        ),
        event(
            "response.content_part.added",
            item_id="msg_mock",
            output_index=0,
            content_index=0,
            part={"type": "output_text", "text": ""},
        ),
    ]
    pieces = tokenize(text)
    for piece in pieces:
        events.append(
            event(
                "response.output_text.delta",
                item_id="msg_mock",
                output_index=0,
                content_index=0,
                delta=piece,
            )
        )
    events.append(
        event(
            "response.output_text.done",
            item_id="msg_mock",
            output_index=0,
            content_index=0,
            text=text,
        )
    )
    done_message = {
        **message,
        "status": "completed",
        "content": [{"type": "output_text", "text": text}],
    }
    events.append(event("response.output_item.done", output_index=0, item=done_message))
    output: list[dict[str, Any]] = [done_message]
    for number, call in enumerate(calls, start=1):
        item = {
            "id": f"fc_mock{number:04d}",
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
        }
        events.append(
            event(
                "response.output_item.added",
                output_index=number,
                item={**item, "status": "in_progress", "arguments": ""},
            )
        )
        for piece in _pieces(call.arguments):
            events.append(
                event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=number,
                    delta=piece,
                )
            )
        events.append(
            event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=number,
                arguments=call.arguments,
            )
        )
        finished = {**item, "status": "completed", "arguments": call.arguments}
        events.append(event("response.output_item.done", output_index=number, item=finished))
        output.append(finished)
    prompt = _prompt_words(texts)
    completion = len(pieces) + len(calls)
    usage = {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
    }
    events.append(
        event(
            "response.completed",
            response={**base, "status": "completed", "output": output, "usage": usage},
        )
    )

    def error(kind: str) -> bytes:
        return _sse(
            {"type": "error", "code": kind, "message": "The mock provider failed.", "param": None},
            "error",
        )

    return Script(events, 1, "text/event-stream", error)


# -- Ollama --------------------------------------------------------------------------------


def ollama(request: Mapping[str, Any], config: MockConfig) -> Script:
    """``POST /api/chat`` (NDJSON lines; Ollama streams unless ``stream`` is false)."""
    texts = [m.get("content", "") for m in request.get("messages") or [] if isinstance(m, dict)]
    texts = [t for t in texts if isinstance(t, str)]
    text = answer_for(texts[-1] if texts else "", config)
    tools = [
        ((t.get("function") or {}).get("name"), (t.get("function") or {}).get("parameters"))
        for t in request.get("tools") or []
    ]
    calls = plan_calls(tools, config, prefix="call_mock")
    model = request.get("model") or config.model
    stamp = "2026-01-01T00:00:00.000000Z"

    def line(message: dict[str, Any], **extra: Any) -> bytes:
        body = {
            "model": model,
            "created_at": stamp,
            "message": {"role": "assistant", **message},
            "done": False,
        }
        return _encode(body | extra) + b"\n"

    pieces = tokenize(text)
    events = [line({"content": piece}) for piece in pieces]
    if calls:
        events.append(
            line(
                {
                    "content": "",
                    "tool_calls": [
                        {
                            "function": {
                                "name": c.name,
                                "arguments": msgspec.json.decode(c.arguments),
                            }
                        }
                        for c in calls
                    ],
                }
            )
        )
    prompt = _prompt_words(texts)
    events.append(
        line(
            {"content": ""},
            done=True,
            done_reason="stop",
            total_duration=1_000_000,
            load_duration=1_000,
            prompt_eval_count=prompt,
            prompt_eval_duration=10_000,
            eval_count=len(pieces) + len(calls),
            eval_duration=100_000,
        )
    )

    def error(kind: str) -> bytes:
        return _encode({"error": f"{kind}: the mock provider failed"}) + b"\n"

    return Script(events, 1, "application/x-ndjson", error)


# -- Gemini --------------------------------------------------------------------------------


def gemini(request: Mapping[str, Any], config: MockConfig, model: str) -> Script:
    """``POST /v1beta/models/{model}:streamGenerateContent?alt=sse`` (CRLF-framed SSE)."""
    texts = [
        part.get("text", "")
        for content in request.get("contents") or []
        for part in (content.get("parts") or [] if isinstance(content, dict) else [])
        if isinstance(part, dict)
    ]
    text = answer_for(texts[-1] if texts else "", config)
    tools = [
        (d.get("name"), d.get("parameters"))
        for t in request.get("tools") or []
        for d in (t.get("functionDeclarations") or t.get("function_declarations") or [])
    ]
    calls = plan_calls(tools, config, prefix="")
    prompt = _prompt_words(texts)
    pieces = tokenize(text)

    def chunk(parts: list[dict[str, Any]], finish: str | None, completion: int | None) -> bytes:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        usage: dict[str, Any] = {
            "promptTokenCount": prompt,
            "totalTokenCount": prompt + (completion or 0),
        }
        if completion is not None:
            usage["candidatesTokenCount"] = completion
        body = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model}
        return _sse(body, newline=b"\r\n")

    events = [chunk([{"text": piece}], None, None) for piece in pieces[:-1]]
    completion = len(pieces) + len(calls)
    last_parts: list[dict[str, Any]] = [{"text": pieces[-1]}] if pieces else []
    last_parts += [
        {"functionCall": {"name": c.name, "args": msgspec.json.decode(c.arguments)}} for c in calls
    ]
    events.append(chunk(last_parts, "STOP", completion))

    def error(kind: str) -> bytes:
        body = {"error": {"code": 503, "message": "The mock provider failed.", "status": kind}}
        return _sse(body, newline=b"\r\n")

    return Script(events, 1, "text/event-stream", error)


__all__ = ["PlannedCall", "Script", "anthropic", "gemini", "ollama", "responses"]
