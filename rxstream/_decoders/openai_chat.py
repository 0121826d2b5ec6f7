"""OpenAI Chat Completions stream chunks → typed deltas.

Also used for OpenAI-compatible servers (vLLM, llama.cpp, OpenRouter, DeepSeek …):
unknown fields are ignored and ``reasoning_content``/``reasoning`` become
``ReasoningDelta`` so they never mix into the answer text.
"""

from __future__ import annotations

from typing import Any, Final

from ..errors import ParseError, StreamInterrupted
from ..models import (
    Delta,
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    SSEEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageDelta,
)
from . import Decoder
from .inband import error_event, provider_error
from .json import loads

FINISH_REASONS: Final = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
}


def usage_from_openai(raw: dict[str, Any]) -> Usage:
    """Normalise an OpenAI ``usage`` object (computing ``total_tokens`` when missing)."""
    prompt = raw.get("prompt_tokens")
    completion = raw.get("completion_tokens")
    total = raw.get("total_tokens")
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, raw=raw)


class OpenAIChatDecoder(Decoder[SSEEvent | dict[str, Any], Delta]):
    """Feed ``chat.completion.chunk`` objects (or the SSE events carrying them).

    Ending without ``[DONE]`` is accepted only when every choice seen has finished;
    otherwise ``flush()`` raises ``StreamInterrupted`` with the partial text.
    """

    __slots__ = ("_chunks", "_finished", "_last_event_id", "_seen", "_text", "done", "read_sse")

    def __init__(self) -> None:
        self.done = False
        self._chunks = 0
        self._seen: set[int] = set()
        self._finished: set[int] = set()
        self._text: list[str] = []  # choice 0's text, for StreamInterrupted.partial_text
        self._last_event_id: str | None = None
        self.read_sse = False  # fed SSE events, so [DONE] was ours to see

    def feed(self, item: SSEEvent | dict[str, Any]) -> list[Delta]:
        if isinstance(item, SSEEvent):
            self.read_sse = True
            self._last_event_id = item.id
            if item.data == "[DONE]":
                self.done = True
                return []
            if item.event == "error":
                raise error_event(item.data)
            chunk = loads(item.data)
            error = provider_error(chunk)
            if error is not None:
                raise error
        else:
            chunk = item
        if type(chunk) is not dict:
            raise ParseError(
                f"Expected a chat.completion.chunk object, got {type(chunk).__name__}. "
                "Is this endpoint an OpenAI-compatible chat completions stream?",
                excerpt=repr(chunk),
            )
        self._chunks += 1
        out: list[Delta] = []
        choices = chunk.get("choices")
        if choices:
            for choice in choices:
                self._choice(choice, out)
        usage = chunk.get("usage")
        if usage:
            out.append(UsageDelta(usage_from_openai(usage)))
        return out

    def _choice(self, choice: dict[str, Any], out: list[Delta]) -> None:
        index = choice.get("index") or 0
        self._seen.add(index)
        delta = choice.get("delta")
        if delta:
            content = delta.get("content")
            if content:
                out.append(TextDelta(content, index))
                if index == 0:
                    self._text.append(content)
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                out.append(ReasoningDelta(reasoning, index))
            refusal = delta.get("refusal")
            if refusal:
                out.append(RefusalDelta(refusal, index))
            tool_calls = delta.get("tool_calls")
            if tool_calls:
                for call in tool_calls:
                    function = call.get("function") or {}
                    out.append(
                        ToolCallDelta(
                            index=call.get("index") or 0,
                            arguments=function.get("arguments") or "",
                            id=call.get("id"),
                            name=function.get("name"),
                            choice=index,
                        )
                    )
            legacy = delta.get("function_call")
            if legacy:
                out.append(
                    ToolCallDelta(
                        index=0,
                        arguments=legacy.get("arguments") or "",
                        name=legacy.get("name"),
                        choice=index,
                    )
                )
        finish = choice.get("finish_reason")
        if finish:
            self._finished.add(index)
            out.append(FinishDelta(FINISH_REASONS.get(finish, finish), finish, index))

    def flush(self) -> list[Delta]:
        if self.done:
            return []
        unfinished = self._seen - self._finished
        if self._chunks == 0 or unfinished:
            raise self._interrupted(
                "The stream ended before it was complete (no [DONE] and no finish_reason"
                + (f" for choice {min(unfinished)})" if unfinished else ")")
                + ". The server or a proxy cut the response short; retry the request."
            )
        return []

    def annotate(self, error: Exception) -> Exception:
        if isinstance(error, StreamInterrupted) and not error.partial_text:
            error.partial_text = "".join(self._text)
            error.events = error.events or self._chunks
            error.last_event_id = error.last_event_id or self._last_event_id
        return error

    def _interrupted(self, message: str) -> StreamInterrupted:
        return StreamInterrupted(
            message,
            partial_text="".join(self._text),
            events=self._chunks,
            last_event_id=self._last_event_id,
        )
