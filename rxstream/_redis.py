"""Scale-out on Redis Streams: one producer per key, any number of consumers anywhere.

Layout for a key ``K``: the stream ``K`` (one entry per item, then one terminal entry),
the lease ``K:lease`` (held by the producing worker, renewed while it streams) and the
stop flag ``K:stop``. Entries have two fields: ``type`` (the SSE event name:
``delta``, ``tool_call``, ``usage``, ``finish`` …, or the terminals ``done``,
``error``, ``stopped``) and ``data`` (text, or JSON). Needs the ``redis`` extra.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import secrets
from typing import TYPE_CHECKING, Any, Final

import msgspec
import structlog
from reactivex import Observable

from ._redact import redact_text
from .errors import ConnectError, StreamError, StreamExpired
from .models import (
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageDelta,
)
from .sinks._core import run
from .sinks._sse import event_name
from .sources._task import Emitter, task_source

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger(__name__)

TERMINALS: Final = frozenset({"done", "error", "stopped"})
_TEXT_TYPES: Final = (TextDelta, RefusalDelta, ReasoningDelta)


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


def _unreachable(exc: BaseException) -> ConnectError:
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


def decode_item(fields: dict[str, str]) -> Any:
    """The item back from its entry fields (the inverse of ``encode_item``)."""
    kind, data = fields.get("type", "message"), fields.get("data", "")
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


class RedisStreamSink:
    """Appends items to a Redis stream; see ``to_redis_stream``."""

    def __init__(self, client: Redis, key: str, *, maxlen: int = 10_000, ttl: int = 3600) -> None:
        if maxlen < 1 or ttl < 1:
            raise ValueError("maxlen and ttl must be positive")
        self.client = client
        self.key = key
        self.maxlen = maxlen
        self.ttl = ttl
        self.text: list[str] = []  # delivered text, for the "stopped" terminal
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.entries = 0

    async def _add(self, fields: dict[str, str]) -> str:
        payload: dict[Any, Any] = dict(fields)  # redis-py's value type is wider than str
        try:
            entry: Any = await self.client.xadd(
                self.key, payload, maxlen=self.maxlen, approximate=True
            )
        except _redis_errors() as exc:
            raise _unreachable(exc) from None
        self.entries += 1
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    async def send(self, item: Any) -> None:
        """Append one item (``XADD`` with approximate ``MAXLEN`` trimming)."""
        if isinstance(item, str):
            self.text.append(item)
        elif type(item) is TextDelta and item.choice == 0:
            self.text.append(item.text)
        elif isinstance(item, UsageDelta):
            self.usage = item.usage
        elif isinstance(item, FinishDelta) and item.choice == 0:
            self.finish_reason = item.reason
        await self._add(encode_item(item))

    async def close(self, error: BaseException | None) -> None:
        """Append the terminal entry and set the key's expiry."""
        if error is None:
            usage = dataclasses.asdict(self.usage) if self.usage else None
            summary = {"usage": usage, "finish_reason": self.finish_reason}
            fields = {"type": "done", "data": msgspec.json.encode(summary).decode()}
        elif isinstance(error, asyncio.CancelledError):
            fields = {
                "type": "stopped",
                "data": msgspec.json.encode({"partial_text": "".join(self.text)}).decode(),
            }
        else:
            message = (
                redact_text(str(error)) if isinstance(error, StreamError) else "The stream failed."
            )
            fields = {
                "type": "error",
                "data": msgspec.json.encode(
                    {"error": type(error).__name__, "message": message}
                ).decode(),
            }
        await self._add(fields)
        try:
            await self.client.expire(self.key, self.ttl)
        except _redis_errors() as exc:
            raise _unreachable(exc) from None


def to_redis_stream(
    client: Redis, key: str, *, maxlen: int = 10_000, ttl: int = 3600
) -> RedisStreamSink:
    """A sink appending each item to the Redis stream ``key``, then a terminal entry.

    ``await rs.run(stream, rs.sinks.to_redis_stream(redis, "chat:1"))``. Items keep
    their type (text, tool calls, usage, finish …); the terminal entry is ``done``
    (with the final usage and finish reason), ``error`` (the typed error's class and
    message, never a secret) or ``stopped`` (with the partial text). The stream is
    trimmed to about ``maxlen`` entries and expires ``ttl`` seconds after the end.
    """
    return RedisStreamSink(client, key, maxlen=maxlen, ttl=ttl)


def from_redis_stream(
    client: Redis,
    key: str,
    *,
    after: str = "0-0",
    block: int = 1000,
    with_ids: bool = False,
    wait: float = 0.0,
) -> Observable[Any]:
    """Replay the Redis stream ``key`` from ``after``, then tail it live (``XREAD BLOCK``).

    Cold: every subscription reads on its own. Completes at the terminal entry
    (``done`` or ``stopped``) and re-raises an ``error`` entry as the same rxstream
    error. With ``with_ids``, items are ``(entry_id, item)`` pairs: ``sse_response``
    then uses the entry id as the SSE ``id``, so a browser's ``Last-Event-ID`` resumes
    on any worker (pass it as ``after``). A key that has expired (or never existed and
    has no producer after ``wait`` seconds) raises ``StreamExpired``; an unreachable
    Redis, ``ConnectError``.
    """
    if block < 1:
        raise ValueError("block is a number of milliseconds, >= 1")

    async def body(out: Emitter[Any]) -> None:
        errors = _redis_errors()
        last = after or "0-0"
        try:
            deadline = asyncio.get_running_loop().time() + wait
            while not await client.exists(key, f"{key}:lease"):
                if asyncio.get_running_loop().time() >= deadline:
                    break
                await asyncio.sleep(0.02)  # a producer may be about to take the job
            if not await client.exists(key, f"{key}:lease"):
                raise StreamExpired(
                    f"No stream at {key!r}: it expired or was never started. "
                    "Start the request again.",
                    key=key,
                )
            while True:
                response: Any = await client.xread({key: last}, count=512, block=block)
                if not response:
                    if not await client.exists(key, f"{key}:lease"):
                        raise StreamExpired(
                            f"The stream {key!r} expired while being read.", key=key
                        )
                    continue
                for _, entries in response:
                    for raw_id, raw_fields in entries:
                        last = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                        fields = {
                            (k.decode() if isinstance(k, bytes) else k): (
                                v.decode() if isinstance(v, bytes) else v
                            )
                            for k, v in raw_fields.items()
                        }
                        kind = fields.get("type")
                        if kind in TERMINALS:
                            if kind == "error":
                                raise _rebuilt_error(fields.get("data", ""))
                            return
                        item = decode_item(fields)
                        out.emit((last, item) if with_ids else item)
        except errors as exc:
            failure = _unreachable(exc)
        raise failure

    return task_source(body, name="from_redis_stream")


def _rebuilt_error(data: str) -> StreamError:
    from . import errors

    try:
        detail = msgspec.json.decode(data)
    except msgspec.DecodeError:
        detail = {}
    name = str(detail.get("error") or "StreamError")
    message = str(detail.get("message") or name)
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, errors.StreamError):
        try:
            return kind(message)
        except TypeError:
            pass
    return errors.StreamError(f"{name}: {message}")


async def produce_once(
    client: Redis,
    key: str,
    source: Observable[Any],
    *,
    lease: float = 5.0,
    poll: float = 0.05,
    maxlen: int = 10_000,
    ttl: int = 3600,
) -> bool:
    """Stream ``source`` into ``key`` unless another worker already does; True if this did.

    A ``SET NX PX`` lease on ``key:lease`` makes the request happen once however many
    workers ask; it is renewed while streaming, so a crashed producer's lease lapses
    within ``lease`` seconds. ``rs.stop(client, key)`` from any worker is seen within
    ``poll`` seconds: the upstream is disposed and a ``stopped`` terminal entry (with the
    partial text) is written.
    """
    token = secrets.token_hex(8)
    lease_ms = int(lease * 1000)
    try:
        acquired = await client.set(f"{key}:lease", token, nx=True, px=lease_ms)
    except _redis_errors() as exc:
        raise _unreachable(exc) from None
    if not acquired:
        log.info("producer_already_running", key=key)
        return False
    sink = to_redis_stream(client, key, maxlen=maxlen, ttl=ttl)
    production = asyncio.ensure_future(run(source, sink))
    next_renewal = asyncio.get_running_loop().time() + lease / 3
    try:
        while not production.done():
            await asyncio.wait({production}, timeout=poll)
            if production.done():
                break
            if await client.exists(f"{key}:stop"):
                log.info("producer_stopped", key=key)
                production.cancel()  # disposes the upstream request at once
                break
            if asyncio.get_running_loop().time() >= next_renewal:
                next_renewal += lease / 3
                await client.set(f"{key}:lease", token, xx=True, px=lease_ms)
        with contextlib.suppress(asyncio.CancelledError):
            await production  # when stopped, the sink wrote the "stopped" terminal entry
    finally:
        if not production.done():
            production.cancel()
        try:
            await client.delete(f"{key}:lease")
        except _redis_errors():
            pass  # the lease lapses on its own
    return True


async def stop(client: Redis, key: str) -> None:
    """Ask the producer of ``key`` (on any worker) to stop: seen within its ``poll``."""
    try:
        await client.set(f"{key}:stop", "1", px=60_000)
    except _redis_errors() as exc:
        raise _unreachable(exc) from None
