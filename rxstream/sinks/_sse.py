"""``sse_response``: any observable to a browser (or any client) as Server-Sent Events."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any, Final

import msgspec
from aiohttp import web
from reactivex import Observable

from .._log import get_logger
from ..errors import StreamError, StreamStopped
from ..models import (
    Completion,
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    Restart,
    SSEEvent,
    TextDelta,
    ToolCallDelta,
    UsageDelta,
)
from ._core import iterate
from ._live import LiveStream

log = get_logger(__name__)

EVENT_NAMES: Final[dict[type, str]] = {
    str: "delta",
    TextDelta: "delta",
    RefusalDelta: "refusal",
    ReasoningDelta: "reasoning",
    ToolCallDelta: "tool_call",
    UsageDelta: "usage",
    FinishDelta: "finish",
    Completion: "completion",
    Restart: "restart",
}
_DISCONNECT_POLL: Final = 0.05
_TEXT_TYPES: Final = (TextDelta, RefusalDelta, ReasoningDelta)


def event_name(item: Any) -> str:
    """The SSE ``event:`` name for an item (``message`` for anything else)."""
    return EVENT_NAMES.get(type(item), "message")


def encode_event(item: Any, event_id: int | str | None, *, name: str | None = None) -> bytes:
    """One SSE event: strings and text deltas as plain text, other values as JSON."""
    if isinstance(item, str):
        data = item
    elif type(item) is SSEEvent:
        data = item.data  # an event the application named itself
        name = name or item.event
    elif type(item) in _TEXT_TYPES:
        data = item.text  # choice 0 of one answer: the browser wants the text itself
    elif dataclasses.is_dataclass(item) and not isinstance(item, type):
        data = msgspec.json.encode(dataclasses.asdict(item)).decode()
    else:
        data = msgspec.json.encode(item).decode()
    lines = [f"event: {name or event_name(item)}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    # a line break inside the data becomes another data line (the client joins them)
    lines += [
        f"data: {line}" for line in data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    return ("\n".join(lines) + "\n\n").encode()


async def sse_response(
    request: web.Request,
    source: Observable[Any] | LiveStream,
    *,
    keepalive: float = 15.0,
    retry_ms: int | None = None,
    headers: dict[str, str] | None = None,
    on_item: Callable[[Any], Any] | None = None,
) -> web.StreamResponse:
    """Stream ``source`` to the client as spec-conformant SSE; returns when it ends.

    Each item becomes one event: ``str`` and ``TextDelta`` as ``event: delta`` with the text
    as data, an ``SSEEvent`` with its own ``event`` name and ``data`` (its ``id`` is
    replaced by the stream's), other models and values as JSON (``tool_call``, ``usage``,
    ``finish``, ``completion`` …). Every event has an ``id``: a running number, or the id of
    an ``(id, item)`` pair (as ``LiveStream.observe`` and
    ``from_redis_stream(with_ids=True)`` emit). A comment goes out after ``keepalive`` idle
    seconds, and the stream ends with ``event: done``, ``event: stopped`` (a Stop ended it:
    ``StreamStopped``, with ``{"partial_text"}``) or ``event: error`` (``{"type",
    "message"}`` of the typed error, never a secret).

    With a plain observable, a client that disconnects disposes the upstream at once
    (cancelling the LLM request). With a ``LiveStream``, the client only detaches, and
    a reconnect's ``Last-Event-ID`` resumes from its replay buffer with no gap and no
    duplicate. ``retry_ms`` sets the client's reconnection delay.
    """
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # let proxies pass events through at once
            **(headers or {}),
        }
    )
    await response.prepare(request)
    if retry_ms is not None:
        await response.write(f"retry: {int(retry_ms)}\n\n".encode())
    resume_after = request.headers.get("Last-Event-ID")
    stream: Observable[Any] = (
        source.observe(resume_after) if isinstance(source, LiveStream) else source
    )
    sequence = 0
    written = 0
    last_write = time.monotonic()
    async with iterate(stream, max_buffer=100_000) as items:
        iterator = aiter(items)
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(iterator))
                done, _ = await asyncio.wait({pending}, timeout=_DISCONNECT_POLL)
                if request.transport is None or request.transport.is_closing():
                    log.debug("sse_client_disconnected", events=written)
                    break
                if not done:
                    if time.monotonic() - last_write >= keepalive:
                        await response.write(b": keep-alive\n\n")
                        last_write = time.monotonic()
                    continue
                future, pending = pending, None
                try:
                    item = future.result()
                except StopAsyncIteration:
                    await response.write(encode_event({}, None, name="done"))
                    break
                except StreamStopped as stopped:
                    log.info("sse_stream_stopped", events=written)
                    await response.write(
                        encode_event({"partial_text": stopped.partial_text}, None, name="stopped")
                    )
                    break
                except Exception as error:
                    await response.write(_error_event(error))
                    break
                if isinstance(item, tuple) and len(item) == 2:
                    event_id, value = item
                else:
                    sequence += 1
                    event_id, value = sequence, item
                if on_item is not None:
                    on_item(value)
                await response.write(encode_event(value, event_id))
                written += 1
                last_write = time.monotonic()
        except ConnectionError:
            log.debug("sse_client_disconnected", events=written)
        finally:
            if pending is not None:
                pending.cancel()
    return response


def _error_event(error: Exception) -> bytes:
    kind = type(error).__name__
    message = str(error) if isinstance(error, StreamError) else "The stream failed."
    log.info("sse_stream_failed", error=kind)
    return encode_event({"type": kind, "message": message}, None, name="error")
