"""``openai_sse``: any delta stream as OpenAI ``chat.completion.chunk`` Server-Sent Events.

So every OpenAI client (the official SDKs, LangChain, editors, agents) can consume any
rxstream pipeline, whatever provider is behind it. The details the SDKs rely on are
exact: a role chunk first; a tool call's ``id``, ``type`` and ``function.name`` once,
on its first chunk (the SDK concatenates repeated strings); ``finish_reason`` on the
last chunk of each choice (``tool_calls`` when the answer ends in tool calls); the
usage chunk (empty ``choices``) only when asked for; ``data: [DONE]`` last. A failure
before any output is a proper HTTP error response; after output it is an in-band
``{"error": …}`` event and no ``[DONE]``, as OpenAI does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import time
from typing import Any, Final

import msgspec
from aiohttp import web
from reactivex import Observable
from reactivex.scheduler.eventloop import AsyncIOScheduler

from .._log import get_logger
from .._redact import redact_text
from ..errors import (
    BufferOverflow,
    CircuitOpen,
    ConnectError,
    HTTPStatusError,
    ProviderError,
    RateLimitError,
    StreamError,
    StreamTimeout,
)
from ..models import (
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageDelta,
)

log = get_logger(__name__)

_DISCONNECT_POLL: Final = 0.05
_KEPT_STATUSES: Final = frozenset({400, 404, 413, 422, 429})
_encode = msgspec.json.Encoder().encode


def completion_id() -> str:
    """A fresh ``chatcmpl-…`` id."""
    return "chatcmpl-" + secrets.token_hex(12)


class ChunkWriter:
    """Turns deltas into ``chat.completion.chunk`` dicts (one object per answer)."""

    def __init__(self, model: str, *, include_usage: bool = False) -> None:
        self.id = completion_id()
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage
        self.usage: Usage | None = None
        self._started: set[int] = set()
        self._tool_ids: dict[tuple[int, int], str] = {}
        self._had_tools: set[int] = set()
        self._synthetic = itertools.count(1)

    def chunks(self, delta: Any) -> list[dict[str, Any]]:
        """The chunks one delta becomes (a role chunk first for a new choice)."""
        kind = type(delta)
        if kind is UsageDelta:
            self.usage = delta.usage
            return []
        if kind is str:
            delta, kind = TextDelta(delta), TextDelta
        choice = getattr(delta, "choice", 0)
        out = []
        if choice not in self._started:
            self._started.add(choice)
            out.append(self._chunk(choice, {"role": "assistant", "content": ""}))
        if kind is TextDelta:
            out.append(self._chunk(choice, {"content": delta.text}))
        elif kind is RefusalDelta:
            out.append(self._chunk(choice, {"refusal": delta.text}))
        elif kind is ReasoningDelta:
            out.append(self._chunk(choice, {"reasoning_content": delta.text}))
        elif kind is ToolCallDelta:
            out.append(self._chunk(choice, {"tool_calls": [self._tool_call(delta)]}))
        elif kind is FinishDelta:
            reason = "tool_calls" if choice in self._had_tools else delta.reason
            out.append(self._chunk(choice, {}, finish_reason=reason))
        return out

    def _tool_call(self, delta: ToolCallDelta) -> dict[str, Any]:
        key = (delta.choice, delta.index)
        self._had_tools.add(delta.choice)
        if key in self._tool_ids:
            return {"index": delta.index, "function": {"arguments": delta.arguments}}
        # providers without ids (Ollama, Gemini) get one: clients match results by it
        call_id = delta.id or f"call_{self.id[9:21]}{next(self._synthetic)}"
        self._tool_ids[key] = call_id
        return {
            "index": delta.index,
            "id": call_id,
            "type": "function",
            "function": {"name": delta.name or "", "arguments": delta.arguments},
        }

    def usage_chunk(self) -> dict[str, Any] | None:
        """The final usage chunk (empty ``choices``), when asked for."""
        if not self.include_usage:
            return None
        return {**self._base(), "choices": [], "usage": usage_json(self.usage)}

    def _base(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(
        self, choice: int, delta: dict[str, Any], *, finish_reason: str | None = None
    ) -> dict[str, Any]:
        return {
            **self._base(),
            "choices": [
                {"index": choice, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
            ],
        }


def usage_json(usage: Usage | None) -> dict[str, Any]:
    """OpenAI's usage object (zeros where the provider reported nothing)."""
    prompt = (usage.prompt_tokens if usage else None) or 0
    completion = (usage.completion_tokens if usage else None) or 0
    total = (usage.total_tokens if usage else None) or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def error_response(error: BaseException) -> web.Response:
    """The HTTP error a client expects for a failure before any output."""
    status = error_mapping(error)[0]
    headers = {}
    wait = error.retry_after if isinstance(error, RateLimitError | CircuitOpen) else None
    if wait is not None:
        headers["retry-after"] = f"{max(0.0, wait):g}"  # clients such as the SDK honour it
    return web.json_response(error_body(error), status=status, headers=headers)


def error_body(error: BaseException) -> dict[str, Any]:
    """OpenAI's ``{"error": {"message", "type", "code"}}`` for ``error``, without secrets."""
    _, kind, code = error_mapping(error)
    return {"error": {"message": error_message(error), "type": kind, "code": code}}


def error_mapping(error: BaseException) -> tuple[int, str, str | None]:
    """``(status, type, code)``: upstream 400/404/413/422/429 keep their status, the
    gateway's own credentials refused (401/403) or an upstream failure is 502, a
    timeout 504, an open breaker 503."""
    if isinstance(error, HTTPStatusError):
        if error.status in _KEPT_STATUSES:
            kind = error.type or (
                "rate_limit_error" if error.status == 429 else "invalid_request_error"
            )
            return error.status, kind, error.code
        return 502, "upstream_error", f"upstream_{error.status}"
    if isinstance(error, StreamTimeout):
        return 504, "timeout", f"upstream_timeout_{error.which}"
    if isinstance(error, CircuitOpen):
        return 503, "service_unavailable", "circuit_open"
    if isinstance(error, ConnectError):
        return 502, "upstream_error", "upstream_unreachable"
    if isinstance(error, ProviderError):
        return 502, error.type or "upstream_error", "upstream_error"
    if isinstance(error, StreamError):
        return 502, "upstream_error", type(error).__name__
    return 500, "server_error", None


def error_message(error: BaseException) -> str:
    """A message that is safe to send: rxstream's own (redacted again), else generic."""
    if isinstance(error, HTTPStatusError) and error.message:
        return redact_text(error.message)
    if isinstance(error, StreamError):
        return redact_text(str(error))
    return "The gateway failed."


def sse_data(value: Any) -> bytes:
    return b"data: " + _encode(value) + b"\n\n"


async def openai_sse(
    request: web.Request,
    deltas: Observable[Any],
    *,
    model: str,
    include_usage: bool = False,
) -> web.StreamResponse:
    """Stream ``deltas`` (any provider's, after any control operators) to ``request`` as
    OpenAI ``chat.completion.chunk`` SSE; returns the response when the stream ends.

    The response is prepared on the first item, so a failure before any output is an
    HTTP error in OpenAI's ``{"error": {...}}`` shape (upstream 429 keeps its status
    and ``retry-after``); after output a failure is an in-band error event and no
    ``[DONE]``. A client that disconnects — also while the upstream is still silent —
    disposes the upstream at once. What arrives while a write is under way goes out in
    the next write (at most ``MAX_PENDING_BYTES`` wait: a client that slow fails with
    ``BufferOverflow``).
    """
    writer = ChunkWriter(model, include_usage=include_usage)
    pending: list[bytes] = []
    held = 0
    ended: list[Exception | None] = []  # the stream's end: None, or its error
    wake = asyncio.Event()

    def on_next(delta: Any) -> None:
        nonlocal held
        if ended:
            return
        try:
            data = b"".join(sse_data(chunk) for chunk in writer.chunks(delta))
        except Exception as error:  # a delta it cannot encode: end with it, typed
            on_end(error)
            return
        if data:
            pending.append(data)
            held += len(data)
            if held > MAX_PENDING_BYTES:
                on_end(BufferOverflow(_TOO_SLOW, limit=MAX_PENDING_BYTES))
            wake.set()

    def on_end(error: Exception | None) -> None:
        if not ended:
            ended.append(error)
            wake.set()

    subscription = deltas.subscribe(
        on_next,
        on_end,
        lambda: on_end(None),
        scheduler=AsyncIOScheduler(asyncio.get_running_loop()),
    )
    response: web.StreamResponse | None = None
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_DISCONNECT_POLL):
                    await wake.wait()
            if request.transport is None or request.transport.is_closing():
                log.debug("openai_sse_client_disconnected", started=response is not None)
                break
            wake.clear()
            if pending:
                data = b"".join(pending)
                pending.clear()
                held = 0
                response = response or await _prepare(request)
                await response.write(data)
            if not ended:
                continue
            error = ended[0]
            if error is None:
                response = response or await _prepare(request)
                usage = writer.usage_chunk()
                await response.write((sse_data(usage) if usage else b"") + b"data: [DONE]\n\n")
                break
            log.info("openai_sse_failed", error=type(error).__name__, started=response is not None)
            if response is None:
                return error_response(error)
            await response.write(sse_data(error_body(error)))  # and no [DONE]
            break
    except ConnectionError:
        log.debug("openai_sse_client_disconnected", started=response is not None)
    finally:
        subscription.dispose()
    return response if response is not None else web.Response(status=499)


MAX_PENDING_BYTES: Final = 8 * 1024 * 1024
"""Encoded chunks waiting for a slow client, at most."""
_TOO_SLOW: Final = "The client read the stream too slowly; it was stopped."


async def _prepare(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    return response


__all__ = ["ChunkWriter", "error_mapping", "error_response", "openai_sse", "usage_json"]
