"""Writing to Redis streams; every short command in a process shares one pipeline per round trip."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import structlog

from ..models import FinishDelta, TextDelta, Usage, UsageDelta
from ._codec import encode_item, redis_errors, terminal_fields, unreachable
from ._shared import shared

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

log = structlog.get_logger(__name__)

MAX_BATCH: Final = 2048
"""Commands sent in one pipeline at most (a bigger backlog takes more round trips)."""
MAX_UNCONFIRMED: Final = 1024
"""Entries one sink may have in flight before ``send`` waits for Redis to confirm them."""

Command = Callable[["Pipeline"], Any]


class Batcher:
    """Queues short commands from every stream on one client; sends them in one pipeline.

    While one pipeline is on the wire, new commands wait and go together in the next:
    100 producers each emitting a chunk cost one round trip, not 100, and one connection,
    not 100 (so 400 readers starting at once do not exhaust the pool). Order is kept.
    """

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.loop = asyncio.get_running_loop()
        self._queue: list[tuple[Command, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self.round_trips = 0

    def submit(self, command: Command) -> asyncio.Future[Any]:
        """Queue ``command`` (a call on a pipeline); the future gets its reply."""
        reply: asyncio.Future[Any] = self.loop.create_future()
        self._queue.append((command, reply))
        if self._task is None:
            self._task = self.loop.create_task(self._send_all(), name="rxstream:redis-batcher")
        return reply

    async def _send_all(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                pipeline = self.client.pipeline(transaction=False)
                for command, _ in batch:
                    command(pipeline)
                try:
                    self.round_trips += 1
                    replies = await pipeline.execute(raise_on_error=False)
                except asyncio.CancelledError:
                    for _, reply in batch:
                        reply.cancel()
                    raise
                except Exception as exc:
                    lost = isinstance(exc, redis_errors())
                    for _, reply in batch:
                        if not reply.done():  # a fresh error each: they are raised apart
                            reply.set_exception(unreachable(exc) if lost else exc)
                    continue
                for (_, reply), value in zip(batch, replies, strict=True):
                    if reply.done():
                        continue
                    if isinstance(value, Exception):
                        reply.set_exception(value)
                    else:
                        reply.set_result(value)
        finally:
            self._task = None
            if self._queue:  # cancelled with work left: nobody will send it
                for _, reply in self._queue:
                    reply.cancel()
                self._queue = []


def batcher_for(client: Redis) -> Batcher:
    """The process-wide command batcher of ``client`` on the running loop."""
    return shared(client, "batcher", Batcher)


async def batched(client: Redis, command: Command) -> Any:
    """Run one short command in the next shared pipeline; ``ConnectError`` if Redis is down."""
    return await batcher_for(client).submit(command)


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
        self._unconfirmed: deque[asyncio.Future[Any]] = deque()
        self._abandoned = False

    def abandon(self) -> None:
        """Write nothing more: not even a terminal entry (another producer owns the key)."""
        self._abandoned = True

    def _append(self, fields: dict[str, str]) -> asyncio.Future[Any]:
        payload: dict[Any, Any] = fields  # redis-py's value type is wider than str
        key, maxlen = self.key, self.maxlen
        reply = batcher_for(self.client).submit(
            lambda pipeline: pipeline.xadd(key, payload, maxlen=maxlen, approximate=True)
        )
        self._unconfirmed.append(reply)
        self.entries += 1
        return reply

    def _check_confirmed(self) -> None:
        """Raise the first failed write, if any; forget the confirmed ones."""
        unconfirmed = self._unconfirmed
        while unconfirmed and unconfirmed[0].done():
            unconfirmed.popleft().result()

    async def send(self, item: Any) -> None:
        """Append one item (``XADD`` with approximate ``MAXLEN`` trimming).

        Returns once queued; a write that failed is raised by a later ``send`` or by
        ``close``. At most ``MAX_UNCONFIRMED`` entries are in flight per stream.
        """
        self._check_confirmed()
        if self._abandoned:
            return
        if isinstance(item, str):
            self.text.append(item)
        elif type(item) is TextDelta and item.choice == 0:
            self.text.append(item.text)
        elif isinstance(item, UsageDelta):
            self.usage = item.usage
        elif isinstance(item, FinishDelta) and item.choice == 0:
            self.finish_reason = item.reason
        self._append(encode_item(item))
        if len(self._unconfirmed) > MAX_UNCONFIRMED:
            await asyncio.wait({self._unconfirmed[0]})
            self._check_confirmed()

    async def close(self, error: BaseException | None) -> None:
        """Append the terminal entry, set the key's expiry and wait for Redis to confirm."""
        if self._abandoned:
            await asyncio.gather(*self._unconfirmed, return_exceptions=True)
            self._unconfirmed.clear()
            return
        terminal = terminal_fields(
            error, text="".join(self.text), usage=self.usage, finish_reason=self.finish_reason
        )
        self._append(terminal)
        key, ttl = self.key, self.ttl
        self._unconfirmed.append(
            batcher_for(self.client).submit(lambda pipeline: pipeline.expire(key, ttl))
        )
        pending, self._unconfirmed = list(self._unconfirmed), deque()
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
