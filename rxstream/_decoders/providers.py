"""Anthropic Messages, OpenAI Responses, Ollama and Gemini streams → rxstream's deltas.

Each decoder takes the provider's events (``SSEEvent`` after ``parse_sse()``, or the
JSON values after ``parse_ndjson()`` / already decoded) and emits the same delta types
as ``openai_chat()``, so ``text()``, ``accumulate()`` and everything after are shared.
Finish reasons are normalised to OpenAI's vocabulary (the provider's own value is kept
as ``raw_reason``), usage to prompt/completion/total tokens (the provider's fields are
kept in ``Usage.raw``). Tool-call arguments are always the complete JSON *string*.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ..errors import ParseError, ProviderError, StreamError, StreamInterrupted
from ..models import (
    Delta,
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    SSEEvent,
    ToolCallDelta,
    Usage,
    UsageDelta,
    new_text_delta,
)
from . import Decoder
from .inband import error_event, provider_error
from .json import loads


def usage(prompt: Any, completion: Any, raw: dict[str, Any], total: Any = None) -> Usage:
    """A normalised ``Usage``; ``total_tokens`` is computed when the provider omits it."""
    prompt = prompt if isinstance(prompt, int) else None
    completion = completion if isinstance(completion, int) else None
    if not isinstance(total, int):
        total = prompt + completion if prompt is not None and completion is not None else None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, raw=raw)


def json_text(value: Any) -> str:
    """Tool arguments as the JSON text (objects from Ollama/Gemini are encoded)."""
    if isinstance(value, str):
        return value
    return msgspec.json.encode({} if value is None else value).decode()


class _ProviderDecoder(Decoder[Any, Delta]):
    """Shared bookkeeping: JSON decoding of SSE events, partial text, truncation."""

    provider: str = ""
    __slots__ = ("_events", "_finished", "_last_event_id", "_text", "done")

    def __init__(self) -> None:
        self.done = False
        self._events = 0
        self._finished = False
        self._text: list[str] = []
        self._last_event_id: str | None = None

    def _payload(self, item: Any) -> Any:
        """The JSON value of ``item``; raises ``ProviderError`` for ``event: error``."""
        if isinstance(item, SSEEvent):
            self._last_event_id = item.id
            if item.event == "error":
                raise error_event(item.data)
            value = loads(item.data)
        else:
            value = item
        self._events += 1
        if not isinstance(value, dict):
            raise ParseError(
                f"Expected a {self.provider} stream event object, got {type(value).__name__}.",
                excerpt=repr(value),
            )
        return value

    def _text_delta(self, text: Any, out: list[Delta]) -> None:
        if text and isinstance(text, str):
            self._text.append(text)
            out.append(new_text_delta(text, 0))

    def flush(self) -> list[Delta]:
        if self.done or self._finished:
            return []
        raise self._interrupted()

    def _interrupted(self) -> StreamInterrupted:
        return StreamInterrupted(
            f"The {self.provider} stream ended before it was complete (no end event and no "
            "stop reason). The server or a proxy cut the response short; retry the request.",
            partial_text="".join(self._text),
            events=self._events,
            last_event_id=self._last_event_id,
        )

    def annotate(self, error: Exception) -> Exception:
        if isinstance(error, StreamError) and not error.partial_text:
            error.partial_text = "".join(self._text)
            error.events = error.events or self._events
            error.last_event_id = error.last_event_id or self._last_event_id
        return error


ANTHROPIC_FINISH: Final = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicDecoder(_ProviderDecoder):
    """Anthropic Messages streaming events (``message_start`` … ``message_stop``)."""

    provider = "Anthropic Messages"
    __slots__ = ("_blocks", "_input", "_tools")

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[int, tuple[str, int]] = {}  # block index -> (kind, tool ordinal)
        self._tools: dict[int, bool] = {}  # tool ordinal -> received input JSON
        self._input: dict[str, Any] = {}

    def feed(self, item: Any) -> list[Delta]:
        event = self._payload(item)
        kind = event.get("type")
        out: list[Delta] = []
        if kind == "content_block_delta":
            index = event.get("index") or 0
            delta = event.get("delta") or {}
            delta_type = delta.get("type")
            if delta_type == "text_delta":
                self._text_delta(delta.get("text"), out)
            elif delta_type == "input_json_delta":
                block = self._blocks.get(index)
                fragment = delta.get("partial_json") or ""
                if block is not None and fragment:
                    self._tools[block[1]] = True
                    out.append(ToolCallDelta(index=block[1], arguments=fragment))
            elif delta_type == "thinking_delta" and delta.get("thinking"):
                out.append(ReasoningDelta(delta["thinking"], 0))
        elif kind == "content_block_start":
            index = event.get("index") or 0
            content = event.get("content_block") or {}
            if content.get("type") in ("tool_use", "server_tool_use"):
                ordinal = len(self._tools)
                self._tools[ordinal] = False
                self._blocks[index] = ("tool", ordinal)
                out.append(
                    ToolCallDelta(index=ordinal, id=content.get("id"), name=content.get("name"))
                )
            elif content.get("type") == "text":
                self._text_delta(content.get("text"), out)
        elif kind == "content_block_stop":
            block = self._blocks.get(event.get("index") or 0)
            if block is not None and not self._tools[block[1]]:
                # A tool called without input streams no JSON at all: its input is {}.
                self._tools[block[1]] = True
                out.append(ToolCallDelta(index=block[1], arguments="{}"))
        elif kind == "message_start":
            self._input = dict((event.get("message") or {}).get("usage") or {})
        elif kind == "message_delta":
            reason = (event.get("delta") or {}).get("stop_reason")
            if reason:
                self._finished = True
                out.append(FinishDelta(ANTHROPIC_FINISH.get(reason, reason), reason, 0))
            raw = {**self._input, **(event.get("usage") or {})}
            prompt = raw.get("input_tokens")
            if isinstance(prompt, int):
                # cached prompt tokens are prompt tokens too
                prompt += (raw.get("cache_creation_input_tokens") or 0) + (
                    raw.get("cache_read_input_tokens") or 0
                )
            out.append(UsageDelta(usage(prompt, raw.get("output_tokens"), raw)))
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            raise provider_error(event) or ProviderError(str(event))
        return out  # ping and unknown events carry nothing


RESPONSES_INCOMPLETE: Final = {"max_output_tokens": "length", "content_filter": "content_filter"}
"""``response.incomplete``'s ``incomplete_details.reason`` as a finish reason."""


class ResponsesDecoder(_ProviderDecoder):
    """OpenAI Responses API streaming events (``response.*``)."""

    provider = "OpenAI Responses"
    __slots__ = ("_calls", "_count", "_streamed")

    def __init__(self) -> None:
        super().__init__()
        self._count = 0
        self._calls: dict[Any, int] = {}  # output_index and item id -> tool ordinal
        self._streamed: set[int] = set()  # tool ordinals whose arguments came as deltas

    def _ordinal(self, event: dict[str, Any]) -> int | None:
        for key in (event.get("item_id"), event.get("output_index")):
            if key is not None and key in self._calls:
                return self._calls[key]
        return None

    def feed(self, item: Any) -> list[Delta]:
        event = self._payload(item)
        kind = event.get("type")
        out: list[Delta] = []
        if kind == "response.output_text.delta":
            self._text_delta(event.get("delta"), out)
        elif kind == "response.function_call_arguments.delta":
            ordinal = self._ordinal(event)
            if ordinal is not None and event.get("delta"):
                self._streamed.add(ordinal)
                out.append(ToolCallDelta(index=ordinal, arguments=event["delta"]))
        elif kind == "response.function_call_arguments.done":
            ordinal = self._ordinal(event)
            if ordinal is not None and ordinal not in self._streamed:
                self._streamed.add(ordinal)
                out.append(ToolCallDelta(index=ordinal, arguments=event.get("arguments") or "{}"))
        elif kind == "response.output_item.added":
            output = event.get("item") or {}
            if output.get("type") == "function_call":
                ordinal = self._count
                self._count += 1
                self._calls[event.get("output_index")] = ordinal
                if output.get("id") is not None:
                    self._calls[output["id"]] = ordinal
                out.append(
                    ToolCallDelta(
                        index=ordinal,
                        id=output.get("call_id") or output.get("id"),
                        name=output.get("name"),
                        arguments=output.get("arguments") or "",
                    )
                )
                if output.get("arguments"):
                    self._streamed.add(ordinal)
        elif kind == "response.refusal.delta" and event.get("delta"):
            out.append(RefusalDelta(event["delta"], 0))
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            if event.get("delta"):
                out.append(ReasoningDelta(event["delta"], 0))
        elif kind == "response.completed":
            response = event.get("response") or {}
            reason = "tool_calls" if self._count else "stop"
            out.append(FinishDelta(reason, response.get("status") or "completed", 0))
            self._usage(response, out)
            self._finished = True
            self.done = True
        elif kind == "response.incomplete":
            # Cut short by a limit, as Chat Completions' "length" or "content_filter":
            # an ending, not an error, so every provider reports it the same way.
            response = event.get("response") or {}
            detail = (response.get("incomplete_details") or {}).get("reason") or "incomplete"
            reason = RESPONSES_INCOMPLETE.get(detail, "length")
            out.append(FinishDelta(reason, detail, 0))
            self._usage(response, out)
            self._finished = True
            self.done = True
        elif kind == "response.failed":
            error = (event.get("response") or {}).get("error") or {}
            raise ProviderError(
                str(error.get("message") or "The response failed."),
                type=error.get("code") or error.get("type") or "response.failed",
            )
        elif kind == "error":
            raise provider_error(event) or ProviderError(str(event))
        return out

    def _usage(self, response: dict[str, Any], out: list[Delta]) -> None:
        raw = response.get("usage") or {}
        if raw:
            usage_ = usage(
                raw.get("input_tokens"), raw.get("output_tokens"), raw, raw.get("total_tokens")
            )
            out.append(UsageDelta(usage_))


OLLAMA_FINISH: Final = {"stop": "stop", "length": "length", "load": "stop", "unload": "stop"}


class _WholeToolCallsDecoder(_ProviderDecoder):
    """Formats that send each tool call whole (Ollama, Gemini): numbered in order of
    arrival, and a plain "stop" after tool calls reported as OpenAI's "tool_calls"."""

    __slots__ = ("_tools",)

    def __init__(self) -> None:
        super().__init__()
        self._tools = 0

    def _tool_call(self, call_id: Any, name: Any, arguments: Any, out: list[Delta]) -> None:
        out.append(
            ToolCallDelta(index=self._tools, id=call_id, name=name, arguments=json_text(arguments))
        )
        self._tools += 1

    def _finish(self, reason: str, raw_reason: str, out: list[Delta]) -> None:
        if self._tools and reason == "stop":
            reason = "tool_calls"  # these formats say "stop" after tool calls; OpenAI does not
        out.append(FinishDelta(reason, raw_reason, 0))


class OllamaDecoder(_WholeToolCallsDecoder):
    """Ollama ``/api/chat`` NDJSON lines (``message`` pieces, then ``done: true``)."""

    provider = "Ollama"
    __slots__ = ()

    def feed(self, item: Any) -> list[Delta]:
        line = self._payload(item)
        error = provider_error(line)
        if error is not None:
            raise error
        out: list[Delta] = []
        message = line.get("message") or {}
        if message.get("thinking"):
            out.append(ReasoningDelta(message["thinking"], 0))
        self._text_delta(message.get("content"), out)
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            self._tool_call(call.get("id"), function.get("name"), function.get("arguments"), out)
        if line.get("done"):
            raw_reason = line.get("done_reason") or "stop"
            self._finish(OLLAMA_FINISH.get(raw_reason, raw_reason), raw_reason, out)
            counts = {k: v for k, v in line.items() if k.endswith(("_count", "_duration"))}
            out.append(
                UsageDelta(usage(line.get("prompt_eval_count"), line.get("eval_count"), counts))
            )
            self._finished = True
            self.done = True
        return out


GEMINI_FINISH: Final = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "error",
    "MALFORMED_FUNCTION_CALL": "error",
    "OTHER": "error",
}


class GeminiDecoder(_WholeToolCallsDecoder):
    """Gemini ``streamGenerateContent?alt=sse`` responses (no ``[DONE]``: ends with the body)."""

    provider = "Gemini"
    __slots__ = ("_usage",)

    def __init__(self) -> None:
        super().__init__()
        self._usage: dict[str, Any] | None = None

    def feed(self, item: Any) -> list[Delta]:
        response = self._payload(item)
        error = response.get("error")
        if error is not None:
            detail = error if isinstance(error, dict) else {"message": error}
            raise ProviderError(
                str(detail.get("message") or error), type=detail.get("status") or detail.get("code")
            )
        out: list[Delta] = []
        for candidate in response.get("candidates") or ():
            if candidate.get("index", 0) != 0:
                continue  # Gemini streams one candidate
            for part in (candidate.get("content") or {}).get("parts") or ():
                if part.get("thought") and part.get("text"):
                    out.append(ReasoningDelta(part["text"], 0))
                elif "text" in part:
                    self._text_delta(part.get("text"), out)
                elif "functionCall" in part:
                    call = part["functionCall"] or {}
                    self._tool_call(call.get("id"), call.get("name"), call.get("args"), out)
            raw_reason = candidate.get("finishReason")
            if raw_reason and raw_reason != "FINISH_REASON_UNSPECIFIED":
                self._finished = True
                self._finish(GEMINI_FINISH.get(raw_reason, "error"), raw_reason, out)
        if response.get("usageMetadata"):
            self._usage = response["usageMetadata"]  # cumulative: the last one counts
        return out

    def flush(self) -> list[Delta]:
        super().flush()  # raises StreamInterrupted when no finishReason ever came
        raw = self._usage
        if raw is None:
            return []
        completion = raw.get("candidatesTokenCount")
        if isinstance(completion, int) and isinstance(raw.get("thoughtsTokenCount"), int):
            completion += raw["thoughtsTokenCount"]
        return [
            UsageDelta(
                usage(raw.get("promptTokenCount"), completion, raw, raw.get("totalTokenCount"))
            )
        ]
