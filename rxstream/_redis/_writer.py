"""Writing to Redis streams; every short command in a process shares one pipeline per round trip."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._log import get_logger
from ..errors import LeaseLost, StreamError
from ..models import FinishDelta, TextDelta, Usage, UsageDelta
from ..telemetry import inject_trace_context
from ._codec import (
    FAILOVER_WINDOW,
    TRACE,
    encode_item,
    is_failover,
    redis_errors,
    terminal_fields,
    unreachable,
)
from ._layout import is_cluster, layout_for
from ._shared import SharedHelper, shared

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

log = get_logger(__name__)

MAX_BATCH: Final = 2048
"""Commands sent in one pipeline at most (a bigger backlog takes more round trips)."""
MAX_UNCONFIRMED: Final = 1024
"""Entries one sink may have in flight before ``send`` waits for Redis to confirm them."""

Command = Callable[["Pipeline"], Any]


class Batcher(SharedHelper):
    """Queues short commands from every stream on one client; sends them in one pipeline.

    While one pipeline is on the wire, new commands wait and go together in the next:
    100 producers each emitting a chunk cost one round trip, not 100, and one connection,
    not 100 (so 400 readers starting at once do not exhaust the pool). Order is kept.
    """

    def __init__(self, client: Redis) -> None:
        super().__init__(client)
        self._queue: list[tuple[Command, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._ride_out_failovers = is_cluster(client)
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
                try:  # building the pipeline can raise too (e.g. a value of a bad type)
                    replies = await self._execute(batch)
                except asyncio.CancelledError:
                    for _, reply in batch:
                        reply.cancel()
                    raise
                except Exception as exc:
                    lost = isinstance(exc, redis_errors()) or (
                        self._ride_out_failovers and is_failover(exc)
                    )  # a cluster still failing over when the window closed
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

    async def _execute(self, batch: list[tuple[Command, asyncio.Future[Any]]]) -> list[Any]:
        """One pipeline for ``batch``; on a cluster, sent again through a failover.

        Sending again may append an entry twice (its reply was lost with the old
        primary): entries are numbered on a cluster, and readers drop repeats.
        """
        deadline = self.loop.time() + FAILOVER_WINDOW
        delay = 0.05
        while True:
            pipeline = self.client.pipeline(transaction=False)
            for command, _ in batch:
                command(pipeline)
            self.round_trips += 1
            try:
                replies: list[Any] = await pipeline.execute(raise_on_error=False)
            except Exception as exc:
                if not (self._ride_out_failovers and is_failover(exc)):
                    raise
                failure: BaseException = exc
            else:
                failed = [
                    r for r in replies if isinstance(r, Exception) and is_failover(r)
                ] if self._ride_out_failovers else []  # fmt: skip
                if not failed:
                    return replies
                failure = failed[0]
            if self.loop.time() + delay > deadline:
                raise failure
            log.info("redis_failover_retry", error=type(failure).__name__, commands=len(batch))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


def batcher_for(client: Redis) -> Batcher:
    """The process-wide command batcher of ``client`` on the running loop."""
    return shared(client, "batcher", Batcher)


async def batched(client: Redis, command: Command) -> Any:
    """Run one short command in the next shared pipeline; ``ConnectError`` if Redis is down."""
    return await batcher_for(client).submit(command)


# Lua, so that checking the token and acting on the lease is one atomic step.
RENEW: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
FINISH: Final = """
local holder = redis.call('get', KEYS[1])
if holder == false or holder == ARGV[1] then
  return redis.call('set', KEYS[1], 'done', 'PX', ARGV[2])
end
return 0
"""


class RedisStreamSink:
    """Appends items to a Redis stream; see ``to_redis_stream``.

    While it writes, it keeps ``key:lease`` alive (renewed every ``lease / 3`` s, with
    the stream's own expiry), so readers can tell a live producer from a dead one; at
    the end the lease becomes ``done`` for as long as the stream lives.
    """

    def __init__(
        self,
        client: Redis,
        key: str,
        *,
        maxlen: int = 10_000,
        ttl: int = 3600,
        lease: float = 5.0,
        lease_token: str | None = None,
    ) -> None:
        if maxlen < 1 or ttl < 1 or lease <= 0:
            raise ValueError("maxlen, ttl and lease must be positive")
        layout = layout_for(client)
        self.client = client
        self.key = key
        self._stream = layout.stream(key)  # the Redis key (key itself, on one Redis)
        self._numbered = layout.cluster
        self._written = 0
        self.maxlen = maxlen
        self.ttl = ttl
        self.lease = lease
        self.text: list[str] = []  # delivered text, for the "stopped" terminal
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.lease_lost: asyncio.Event = asyncio.Event()
        self._lease_key = f"{self._stream}:lease"
        self._token = lease_token or secrets.token_hex(8)
        self._holds_lease = lease_token is not None  # produce_once took it already
        self._heartbeat: asyncio.Task[None] | None = None
        self._unconfirmed: deque[asyncio.Future[Any]] = deque()

    def _append(self, fields: dict[str, str]) -> None:
        payload: dict[Any, Any] = fields  # redis-py's value type is wider than str
        if self._numbered:
            self._written += 1
            payload = {**fields, "n": str(self._written)}
        key, maxlen = self._stream, self.maxlen
        reply = batcher_for(self.client).submit(
            lambda pipeline: pipeline.xadd(key, payload, maxlen=maxlen, approximate=True)
        )
        self._unconfirmed.append(reply)

    def check(self) -> None:
        """Raise ``LeaseLost``, or the first failed write, if any; forget confirmed ones."""
        if self.lease_lost.is_set():
            raise LeaseLost(
                f"Lost the producer lease on {self.key!r} (this worker stalled for longer "
                "than the lease); stopped writing so that only one producer writes the key.",
                key=self.key,
            )
        unconfirmed = self._unconfirmed
        while unconfirmed and unconfirmed[0].done():
            unconfirmed.popleft().result()

    def _start_heartbeat(self) -> None:
        """After the first entry: the lease (for a plain sink) and the stream's expiry."""
        lease_key, token, lease_ms = self._lease_key, self._token, int(self.lease * 1000)
        key, ttl = self._stream, self.ttl
        batcher = batcher_for(self.client)
        if not self._holds_lease:  # a plain sink: announce itself as the stream's producer
            self._unconfirmed.append(batcher.submit(lambda p: p.set(lease_key, token, px=lease_ms)))
        self._unconfirmed.append(batcher.submit(lambda p: p.expire(key, ttl)))
        self._heartbeat = asyncio.get_running_loop().create_task(
            self._keep_lease(), name="rxstream:redis-lease"
        )

    async def _keep_lease(self) -> None:
        lease_key, token, lease_ms = self._lease_key, self._token, int(self.lease * 1000)
        key, ttl = self._stream, self.ttl
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                renewed, _ = await asyncio.gather(
                    batched(self.client, lambda p: p.eval(RENEW, 1, lease_key, token, lease_ms)),
                    # a producer that dies leaves a stream that still expires
                    batched(self.client, lambda p: p.expire(key, ttl)),
                )
            except StreamError:
                continue  # Redis is away: the writes report it; the lease may lapse
            if not renewed:
                log.warning("producer_lease_lost", key=key)
                self.lease_lost.set()
                return

    async def send(self, item: Any) -> None:
        """Append one item (``XADD`` with approximate ``MAXLEN`` trimming).

        Returns once queued; a write that failed is raised by a later ``send`` or by
        ``close``. At most ``MAX_UNCONFIRMED`` entries are in flight per stream.
        """
        self.check()
        if self._heartbeat is None:
            carrier: dict[str, str] = {}
            inject_trace_context(carrier)  # readers link their spans to this producer
            if "traceparent" in carrier:
                self._append({"type": TRACE, "data": carrier["traceparent"]})
        if isinstance(item, str):
            self.text.append(item)
        elif type(item) is TextDelta and item.choice == 0:
            self.text.append(item.text)
        elif isinstance(item, UsageDelta):
            self.usage = item.usage
        elif isinstance(item, FinishDelta) and item.choice == 0:
            self.finish_reason = item.reason
        self._append(encode_item(item))
        if self._heartbeat is None:
            self._start_heartbeat()
        if len(self._unconfirmed) > MAX_UNCONFIRMED:
            await asyncio.wait({self._unconfirmed[0]})
            self.check()

    async def close(self, error: BaseException | None) -> None:
        """Append the terminal entry, set the key's expiry and wait for Redis to confirm.

        After a lost lease, writes nothing: the key belongs to another producer.
        """
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if self.lease_lost.is_set():
            await asyncio.gather(*self._unconfirmed, return_exceptions=True)
            self._unconfirmed.clear()
            return
        terminal = terminal_fields(
            error, text="".join(self.text), usage=self.usage, finish_reason=self.finish_reason
        )
        self._append(terminal)
        key, ttl, lease_key, token = self._stream, self.ttl, self._lease_key, self._token
        batcher = batcher_for(self.client)
        self._unconfirmed.append(batcher.submit(lambda pipeline: pipeline.expire(key, ttl)))
        # "done" for the stream's lifetime: a late produce_once does not start it again
        self._unconfirmed.append(
            batcher.submit(lambda p: p.eval(FINISH, 1, lease_key, token, ttl * 1000))
        )
        pending, self._unconfirmed = list(self._unconfirmed), deque()
        outcomes = await asyncio.gather(*pending, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
