"""How items, terminals and entry ids look inside a Redis stream.

Entries have two fields: ``type`` (the SSE event name: ``delta``, ``tool_call``,
``usage``, ``finish`` …, or the terminals ``done``, ``error``, ``stopped``) and ``data``
(text, or JSON); on a cluster (layout 2, ``_layout``) a third, ``n``, numbers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any, Final

import msgspec

from .. import errors
from .._redact import redact_text
from ..errors import ConnectError, StreamError
from ..models import (
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageDelta,
)
from ..sinks._sse import event_name

TERMINALS: Final = frozenset({"done", "error", "stopped"})
TRACE: Final = "trace"
"""An entry carrying the producer's W3C ``traceparent`` (first, when it had a span)."""
_TEXT_TYPES: Final = (TextDelta, RefusalDelta, ReasoningDelta)

StreamId = tuple[int, int]
"""A Redis stream entry id ``"<ms>-<seq>"`` as a comparable pair."""


def parse_id(entry_id: str) -> StreamId:
    """``"1700000000000-3"`` → ``(1700000000000, 3)``; a bare ``"<ms>"`` means seq 0."""
    ms, _, seq = entry_id.partition("-")
    try:
        parsed = (int(ms), int(seq) if seq else 0)
    except ValueError:
        parsed = (-1, -1)
    if parsed[0] < 0 or parsed[1] < 0:
        raise ValueError(f"not a Redis stream entry id: {entry_id[:40]!r}")
    return parsed


def format_id(entry_id: StreamId) -> str:
    return f"{entry_id[0]}-{entry_id[1]}"


def text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def redis_errors() -> tuple[type[BaseException], ...]:
    """What redis-py raises when the server cannot be reached or stops answering."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


FAILOVER_WINDOW: Final = 20.0
"""Seconds a cluster client keeps retrying through a failover or resharding before the
failure is reported (a replica takes over within a few ``cluster-node-timeout``s)."""


def failover_errors() -> tuple[type[BaseException], ...]:
    """What a cluster raises while a primary fails over or slots move.

    Beyond redis-py's documented errors, a connection closed under a command can
    surface as an internal error (``AttributeError``, ``IndexError``, ``KeyError``,
    ``TypeError`` from its parser or node tables): those are retried too, but only
    around executing commands, never around building them.
    """
    from redis.exceptions import (
        AskError,
        ClusterError,
        ReadOnlyError,
        RedisClusterException,
        TryAgainError,
    )

    return (
        *redis_errors(),
        ClusterError,  # ClusterDownError, MasterDownError
        RedisClusterException,  # SlotNotCoveredError, no node reachable
        AskError,  # and MovedError: a slot moved and redis-py ran out of redirections
        ReadOnlyError,  # a write reached a primary that has just become a replica
        TryAgainError,
        AttributeError,
        IndexError,
        KeyError,
        TypeError,
    )


def is_failover(exc: BaseException) -> bool:
    """Whether ``exc`` is a cluster failing over or moving slots (worth sending again):
    one of ``failover_errors()``, or a blocked read the server released because its
    role changed (``UNBLOCKED … instance state changed``, a graceful failover)."""
    if isinstance(exc, failover_errors()):
        return True
    from redis.exceptions import ResponseError

    return isinstance(exc, ResponseError) and str(exc).startswith("UNBLOCKED")


def unreachable(exc: BaseException) -> ConnectError:
    return ConnectError(
        f"Redis is unreachable ({type(exc).__name__}). Check the Redis URL and that it runs."
    )


def encode_item(item: Any) -> dict[str, str]:
    """An item as stream entry fields (text as is; models and values as JSON)."""
    kind = event_name(item)
    if isinstance(item, str):
        data = item
    elif type(item) in _TEXT_TYPES:
        data = item.text
    elif dataclasses.is_dataclass(item) and not isinstance(item, type):
        data = msgspec.json.encode(dataclasses.asdict(item)).decode()
    else:
        data = msgspec.json.encode(item).decode()
    return {"type": kind, "data": data}


def decode_item(kind: str, data: str) -> Any:
    """The item back from its entry fields (the inverse of ``encode_item``)."""
    if kind == "delta":
        return data
    if kind == "refusal":
        return RefusalDelta(data)
    if kind == "reasoning":
        return ReasoningDelta(data)
    value = msgspec.json.decode(data) if data else None
    if kind == "tool_call" and isinstance(value, dict):
        return ToolCallDelta(**value)
    if kind == "finish" and isinstance(value, dict):
        return FinishDelta(**value)
    if kind == "usage" and isinstance(value, dict):
        return UsageDelta(Usage(**value["usage"]))
    return value


def terminal_fields(
    error: BaseException | None, *, text: str, usage: Usage | None, finish_reason: str | None
) -> dict[str, str]:
    """The last entry of a stream: ``done``, ``stopped`` (cancelled) or ``error``."""
    if error is None:
        summary = {
            "usage": dataclasses.asdict(usage) if usage else None,
            "finish_reason": finish_reason,
        }
        return {"type": "done", "data": msgspec.json.encode(summary).decode()}
    if isinstance(error, asyncio.CancelledError | errors.StreamStopped):
        return {"type": "stopped", "data": msgspec.json.encode({"partial_text": text}).decode()}
    # Only rxstream's own messages are known to be free of secrets (and redacted again).
    message = redact_text(str(error)) if isinstance(error, StreamError) else "The stream failed."
    detail = {"error": type(error).__name__, "message": message, "partial_text": text}
    return {"type": "error", "data": msgspec.json.encode(detail).decode()}


def rebuilt_error(data: str) -> StreamError:
    """The typed error an ``error`` terminal entry describes, with the partial text."""
    detail = _object(data)
    name = str(detail.get("error") or "StreamError")
    message = str(detail.get("message") or name)
    kind = getattr(errors, name, None)
    error: StreamError | None = None
    if isinstance(kind, type) and issubclass(kind, errors.StreamError):
        with contextlib.suppress(TypeError):  # a subclass needing more than a message
            error = kind(message)
    if error is None:
        error = errors.StreamError(f"{name}: {message}")
    error.partial_text = str(detail.get("partial_text") or "")
    return error


def stopped_error(data: str) -> errors.StreamStopped:
    """The ``StreamStopped`` a ``stopped`` terminal entry stands for."""
    text = str(_object(data).get("partial_text") or "")
    return errors.StreamStopped(
        f"The stream was stopped (rs.stop) after {len(text)} characters of text (on partial_text).",
        partial_text=text,
    )


def _object(data: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}
