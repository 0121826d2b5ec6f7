"""OpenAI Chat Completions stream chunks → typed deltas.

Also used for OpenAI-compatible servers (vLLM, llama.cpp, OpenRouter, DeepSeek …):
unknown fields are ignored and ``reasoning_content``/``reasoning`` become
``ReasoningDelta`` so they never mix into the answer text.
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


class _Function(msgspec.Struct):
    name: Any = None
    arguments: Any = None


class _ToolCall(msgspec.Struct):
    index: int | None = None
    id: Any = None
    function: _Function | None = None


class _Delta(msgspec.Struct):
    content: Any = None
    refusal: Any = None
    reasoning_content: Any = None
    reasoning: Any = None
    tool_calls: list[_ToolCall] | None = None
    function_call: _Function | None = None


class _Choice(msgspec.Struct):
    index: int | None = None
    delta: _Delta | None = None
    finish_reason: Any = None


class _Chunk(msgspec.Struct):
    """The fields rxstream reads; msgspec skips the rest without building them."""

    choices: list[_Choice] | None = None
    usage: dict[str, Any] | None = None
    error: Any = None


_decode_chunk = msgspec.json.Decoder(_Chunk).decode

FINISH_REASONS: Final = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
}


def _not_a_chunk(raw: Any, exc: Exception) -> ParseError:
    return ParseError(
        f"Expected a chat.completion.chunk object ({exc}). "
        "Is this endpoint an OpenAI-compatible chat completions stream?",
        excerpt=raw if isinstance(raw, str) else repr(raw),
    )


def _arguments(value: Any) -> str:
    # Arguments are a JSON string on the wire; a server sending an object gets it
    # re-encoded, so ToolCall.arguments is always the JSON text.
    if value is None:
        return ""
    return value if isinstance(value, str) else msgspec.json.encode(value).decode()


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

    The stream is complete when every choice seen has a ``finish_reason`` (with or
    without ``[DONE]``); otherwise ``flush()`` raises ``StreamInterrupted`` with the
    partial text.
    """

    __slots__ = (
        "_chunks",
        "_finished",
        "_last_event_id",
        "_seen",
        "_text",
        "_text_choice",
        "done",
        "read_sse",
    )

    def __init__(self, *, text_choice: int | bool | None = False) -> None:
        """``text_choice``: ``False`` emits deltas; a choice index (or ``None`` for all)
        emits only that text, as ``str``, like ``openai_chat()`` followed by ``text()``."""
        self._text_choice = text_choice
        self.done = False
        self._chunks = 0
        self._seen: set[int] = set()
        self._finished: set[int] = set()
        self._text: list[str] = []  # choice 0's text, for StreamInterrupted.partial_text
        self._last_event_id: str | None = None
        self.read_sse = False  # fed SSE events, so [DONE] was ours to see

    @property
    def chunks(self) -> int:
        """Chunks received so far."""
        return self._chunks

    def feed(self, item: SSEEvent | dict[str, Any]) -> list[Any]:
        if isinstance(item, SSEEvent):
            if item.event == "error" and item.data != "[DONE]":
                self.read_sse = True
                self._last_event_id = item.id
                raise error_event(item.data)
            return self.feed_sse_data(item.data, item.id)
        raw: Any = item
        if type(raw) is not dict and hasattr(raw, "model_dump"):
            raw = raw.model_dump()  # e.g. the openai SDK's ChatCompletionChunk
        try:
            chunk = msgspec.convert(raw, _Chunk)
        except msgspec.ValidationError as exc:
            raise _not_a_chunk(raw, exc) from None
        if chunk.error is not None:
            raise provider_error({"error": chunk.error}) or ProviderError(str(chunk.error))
        return self._typed(chunk)

    def feed_sse_data(self, data: str, last_event_id: str | None) -> list[Any]:
        """The data of one ``message`` event (from ``parse_sse`` run in one with this)."""
        self.read_sse = True
        self._last_event_id = last_event_id
        if data == "[DONE]":
            self.done = True
            return self.flush()
        try:
            chunk = _decode_chunk(data)
        except msgspec.ValidationError as exc:
            raise _not_a_chunk(data, exc) from None
        except (msgspec.DecodeError, RecursionError):
            loads(data)  # raises the ParseError with position and excerpt
            raise  # pragma: no cover - loads raised already
        if chunk.error is not None:
            raise provider_error({"error": chunk.error}) or ProviderError(str(chunk.error))
        return self._typed(chunk)

    def _typed(self, chunk: _Chunk) -> list[Any]:
        """The deltas of one decoded chunk."""
        wanted = self._text_choice
        choices = chunk.choices
        if wanted is not False and choices is not None and len(choices) == 1:
            # Text only (text() absorbed this stage) and one choice: nothing but its
            # content and finish matter, so skip the general walk.
            self._chunks += 1
            choice = choices[0]
            index = choice.index or 0
            if index not in self._seen:
                self._seen.add(index)
            finish = choice.finish_reason
            if finish and isinstance(finish, str):
                self._finished.add(index)
            delta = choice.delta
            content = delta.content if delta is not None else None
            if not content or type(content) is not str:
                return []
            if index == 0:
                self._text.append(content)
            return [content] if wanted is None or wanted == index else []
        self._chunks += 1
        out: list[Any] = []
        wanted = self._text_choice
        for choice in chunk.choices or ():
            index = choice.index or 0
            if index not in self._seen:
                self._seen.add(index)
            delta = choice.delta
            if delta is not None:
                content = delta.content
                if content and type(content) is str:
                    if index == 0:
                        self._text.append(content)
                    if wanted is False:
                        out.append(new_text_delta(content, index))
                    elif wanted is None or wanted == index:
                        out.append(content)
                if wanted is False:
                    self._typed_extras(delta, index, out)
            finish = choice.finish_reason
            if finish and isinstance(finish, str):
                self._finished.add(index)
                if wanted is False:
                    out.append(FinishDelta(FINISH_REASONS.get(finish, finish), finish, index))
        if chunk.usage and wanted is False:
            out.append(UsageDelta(usage_from_openai(chunk.usage)))
        return out

    def _typed_extras(self, delta: _Delta, index: int, out: list[Any]) -> None:
        reasoning = delta.reasoning_content or delta.reasoning
        if reasoning and isinstance(reasoning, str):
            out.append(ReasoningDelta(reasoning, index))
        if delta.refusal and isinstance(delta.refusal, str):
            out.append(RefusalDelta(delta.refusal, index))
        for call in delta.tool_calls or ():
            function = call.function or _Function()
            out.append(
                ToolCallDelta(
                    index=call.index or 0,
                    arguments=_arguments(function.arguments),
                    id=call.id if isinstance(call.id, str) else None,
                    name=function.name if isinstance(function.name, str) else None,
                    choice=index,
                )
            )
        legacy = delta.function_call
        if legacy is not None:
            out.append(
                ToolCallDelta(
                    index=0,
                    arguments=_arguments(legacy.arguments),
                    name=legacy.name if isinstance(legacy.name, str) else None,
                    choice=index,
                )
            )

    def flush(self) -> list[Delta]:
        # The answer is complete when every choice has its finish_reason. [DONE] alone
        # does not prove it (a proxy may send it after its upstream broke), and an
        # operator between sse_json() and openai_chat() could not even see it: so the
        # rule is the same whether or not this decoder read the SSE events itself.
        unfinished = self._seen - self._finished
        if self._chunks == 0 or unfinished:
            ending = "[DONE]" if self.done else "no [DONE]"
            raise self._interrupted(
                f"The stream ended before it was complete ({ending} and no finish_reason"
                + (f" for choice {min(unfinished)})" if unfinished else ")")
                + ". The server or a proxy cut the response short; retry the request."
            )
        return []

    def annotate(self, error: Exception) -> Exception:
        if isinstance(error, StreamError) and not error.partial_text:
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
