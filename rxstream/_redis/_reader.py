"""Reading Redis streams: every reader in a process shares one blocking ``XREAD``.

A reader registers its key and position with the process's ``StreamHub``; the hub
keeps one ``XREAD BLOCK`` over every key being read (from the lowest position any
reader of a key needs), decodes each entry once and hands it to each reader past that
point. 400 readers of 100 streams cost one connection and one round trip per batch of
entries, not 400 blocked connections. A private "wake" stream in the same ``XREAD``
lets a new reader join without waiting for the current block to end.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from reactivex import Observable

from .._log import get_logger
from ..errors import StreamError, StreamExpired, StreamInterrupted
from ..sources._task import Emitter, task_source
from ..telemetry import linked_span
from ._codec import (
    FAILOVER_WINDOW,
    TERMINALS,
    TRACE,
    StreamId,
    decode_item,
    format_id,
    is_failover,
    parse_id,
    rebuilt_error,
    redis_errors,
    stopped_error,
    text_of,
    unreachable,
)
from ._layout import Layout, layout_for
from ._shared import SharedHelper, shared
from ._writer import batched

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

READ_COUNT: Final = 512
"""Entries per key in one ``XREAD`` (a replaying reader catches up 512 at a time)."""
WAKE_TTL: Final = 60
"""Seconds a hub's wake stream outlives its last use (it is tiny, one entry)."""

OnEntry = Callable[[str, str, str, Any], bool]
"""``(entry_id, type, data, item) -> finished``: what a reader does with one entry."""


class Reader:
    """One position in one stream, fed by the hub; ``finished`` resolves at the end.

    ``key`` is the Redis key read, ``name`` the stream's name in messages (they differ
    on a cluster). ``number`` is the ``n`` of the last entry delivered (cluster layout):
    a repeat is dropped, a jump is a loss and ends the reader with ``StreamInterrupted``.
    """

    __slots__ = ("block", "expires", "finished", "key", "last", "name", "number", "on_entry")

    def __init__(
        self,
        key: str,
        after: StreamId,
        on_entry: OnEntry,
        *,
        block: int,
        expires: bool,
        name: str | None = None,
    ) -> None:
        self.key = key
        self.name = name or key
        self.last = after
        self.number: int | None = 0 if after == (0, 0) else None  # None: resumed mid-stream
        self.on_entry = on_entry
        self.block = block
        self.expires = expires  # a missing key is an error (not for control streams)
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fail(self, error: BaseException) -> None:
        if not self.finished.done():
            self.finished.set_exception(error)

    def deliver(
        self,
        entry_id: str,
        position: StreamId,
        kind: str,
        data: str,
        item: Any,
        number: int | None = None,
    ) -> None:
        self.last = position
        if number is not None:
            if self.number is not None and number <= self.number:
                return  # written twice: a write retried through a failover
            if self.number is not None and number > self.number + 1:
                self.fail(_lost(self.name, self.number + 1, number - 1))
                return
            self.number = number
        try:
            done = self.on_entry(entry_id, kind, data, item)
        except Exception as error:  # a subscriber's failure ends that subscriber only
            self.fail(error)
            return
        if done and not self.finished.done():
            self.finished.set_result(None)


class StreamHub(SharedHelper):
    """The shared ``XREAD BLOCK`` loop of one client on one event loop."""

    def __init__(self, client: Redis, shard: int | None = None) -> None:
        super().__init__(client)
        layout = layout_for(client)
        self._readers: dict[str, list[Reader]] = {}
        self._heard: dict[str, float] = {}  # key -> when it last had an entry or was checked
        self._wake_key = layout.wake(shard, secrets.token_hex(8))
        self._ride_out_failovers = layout.cluster
        self._wake_last = "0-0"
        self._reading: dict[str, StreamId] | None = None  # positions of the XREAD in flight
        self._wake_sent = False
        self._task: asyncio.Task[None] | None = None
        self._wakes: set[asyncio.Task[None]] = set()

    def add(self, reader: Reader) -> None:
        """Start feeding ``reader`` (at once, even if an ``XREAD`` is blocked)."""
        self._readers.setdefault(reader.key, []).append(reader)
        self._heard.setdefault(reader.key, self.loop.time())
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._read_all(), name="rxstream:redis-reader")
        elif self._reading is not None:
            position = self._reading.get(reader.key)
            if position is None or reader.last < position:
                self._wake()

    def remove(self, reader: Reader) -> None:
        """Stop feeding ``reader``; the loop ends with its last reader."""
        readers = self._readers.get(reader.key, [])
        if reader in readers:
            readers.remove(reader)
        if not readers:
            self._readers.pop(reader.key, None)
            self._heard.pop(reader.key, None)
        if not self._readers and self._task is not None:
            if self._task is not asyncio.current_task():
                self._task.cancel()  # redis-py drops the connection of a cancelled command
            self._task = None

    def _finish(self, reader: Reader) -> None:
        if reader.finished.done():
            self.remove(reader)

    def _wake(self) -> None:
        if self._wake_sent:
            return
        self._wake_sent = True
        task = self.loop.create_task(self._send_wake())
        self._wakes.add(task)
        task.add_done_callback(self._wakes.discard)

    async def _send_wake(self) -> None:
        pipeline = self.client.pipeline(transaction=False)
        pipeline.xadd(self._wake_key, {"wake": "1"}, maxlen=1, approximate=False)
        pipeline.expire(self._wake_key, WAKE_TTL)
        try:
            await pipeline.execute()
        except Exception:  # the read loop meets the same failure and reports it
            log.debug("wake_failed", key=self._wake_key)

    async def _read_all(self) -> None:
        failing_since: float | None = None
        delay = 0.05
        try:
            while self._readers and self._task is asyncio.current_task():
                try:
                    await self._read_once()
                except Exception as exc:
                    if not (self._ride_out_failovers and is_failover(exc)):
                        raise
                    # A cluster failing over or resharding: read again (each reader from
                    # its last entry) until it answers or the window closes.
                    now = self.loop.time()
                    failing_since = now if failing_since is None else failing_since
                    if now - failing_since + delay > FAILOVER_WINDOW:
                        raise
                    log.info("redis_failover_retry", error=type(exc).__name__, reading=True)
                    self._reading = None
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
                else:
                    failing_since, delay = None, 0.05
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            lost = isinstance(exc, redis_errors()) or (
                self._ride_out_failovers and is_failover(exc)
            )  # a cluster still failing over when the window closed
            for readers in list(self._readers.values()):
                for reader in list(readers):
                    reader.fail(unreachable(exc) if lost else exc)
                    self.remove(reader)

    async def _read_once(self) -> None:
        positions: dict[str, StreamId] = {}
        block = 60_000
        for key, readers in self._readers.items():
            positions[key] = min(reader.last for reader in readers)
            block = min([block, *(reader.block for reader in readers)])
        streams: dict[Any, Any] = {key: format_id(at) for key, at in positions.items()}
        streams[self._wake_key] = self._wake_last
        self._reading, self._wake_sent = positions, False
        response: Any = await self.client.xread(streams, count=READ_COUNT, block=block)
        self._reading = None
        now = self.loop.time()
        for raw_key, entries in _by_key(response):
            key = text_of(raw_key)
            if key == self._wake_key:
                self._wake_last = text_of(entries[-1][0])
                continue
            self._heard[key] = now
            for raw_id, raw_fields in entries:
                self._dispatch(key, text_of(raw_id), raw_fields)
        await self._check_quiet(now)

    def _dispatch(self, key: str, entry_id: str, raw_fields: dict[Any, Any]) -> None:
        readers = self._readers.get(key)
        if not readers:
            return
        position = parse_id(entry_id)
        kind, data, number = "message", "", None
        for name, value in raw_fields.items():
            name = text_of(name)
            if name == "type":
                kind = text_of(value)
            elif name == "data":
                data = text_of(value)
            elif name == "n":
                number = int(value)
        item = None if kind in TERMINALS or kind == TRACE else _decoded(kind, data)
        for reader in tuple(readers):
            if position > reader.last:
                reader.deliver(entry_id, position, kind, data, item, number)
                self._finish(reader)

    async def _check_quiet(self, now: float) -> None:
        """Readers of a key quiet for ``block`` ms learn whether its producer still lives.

        A producer keeps ``key:lease`` alive while it writes and leaves it ``done`` for
        as long as the stream lives: a stream without a lease lost its producer, and
        neither stream nor lease means the stream expired.
        """
        quiet = [
            key
            for key, readers in self._readers.items()
            if any(r.expires and now - self._heard[key] >= r.block / 1000 for r in readers)
        ]
        if not quiet:
            return
        pipeline = self.client.pipeline(transaction=False)
        for key in quiet:
            pipeline.exists(key)
            pipeline.exists(f"{key}:lease")
        found = await pipeline.execute()
        for index, key in enumerate(quiet):
            self._heard[key] = now
            stream, lease = found[2 * index], found[2 * index + 1]
            if lease:
                continue
            for reader in list(self._readers.get(key, ())):
                if reader.expires:
                    reader.fail(_ended_early(reader.name, expired=not stream))
                    self.remove(reader)


def _ended_early(key: str, *, expired: bool) -> StreamError:
    if expired:
        return StreamExpired(f"The stream {key!r} expired while being read.", key=key)
    return StreamInterrupted(
        f"The producer of {key!r} stopped without finishing (its lease lapsed: the worker "
        "died or lost Redis). Start the request again."
    )


def _lost(name: str, first: int, last: int) -> StreamInterrupted:
    lost = f"entry {first}" if first == last else f"entries {first}-{last}"
    return StreamInterrupted(
        f"The stream {name!r} lost {lost} (a Redis failover dropped writes that had not "
        "reached a replica, or they were trimmed). Start the request again."
    )


def _by_key(response: Any) -> list[tuple[Any, list[Any]]]:
    """``XREAD``'s reply as (key, entries) pairs, from RESP2 (a list of pairs) or RESP3
    (redis-py gives a dict of key -> [entries])."""
    if not response:
        return []
    if isinstance(response, dict):
        return [(key, value[0] if value and isinstance(value[0], list) else value)
                for key, value in response.items()]  # fmt: skip
    return [(key, entries) for key, entries in response]


def _decoded(kind: str, data: str) -> Any:
    try:
        return decode_item(kind, data)
    except Exception:  # an entry rxstream did not write: pass its text on
        log.warning("undecodable_entry", type=kind)
        return data


def hub_for(client: Redis, key: str = "", layout: Layout | None = None) -> StreamHub:
    """The reader of ``client`` on the running loop that reads ``key`` (the stream's
    name): one for everything on one Redis, one per shard on a cluster."""
    shard = (layout or layout_for(client)).shard(key)
    if shard is None:
        return shared(client, "hub", StreamHub)
    return shared(client, f"hub:{shard}", lambda c: StreamHub(c, shard))


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

    Cold: every subscription has its own position; all subscriptions on one client share
    one blocking ``XREAD`` (one connection, one round trip per batch of entries).
    Completes at the ``done`` entry, ends with ``StreamStopped`` at a ``stopped`` one
    (``rs.stop``) and re-raises an ``error`` entry as the same rxstream error, each
    carrying the stream's ``partial_text``. With ``with_ids``, items are ``(entry_id, item)``
    pairs: ``sse_response`` then uses the entry id as the SSE ``id``, so a browser's
    ``Last-Event-ID`` resumes on any worker (pass it as ``after``; a value that is not a
    stream id raises ``ValueError`` here). A key that has expired (or never existed and
    has no producer after ``wait`` seconds) raises ``StreamExpired``; a stream whose
    producer died (its lease lapsed before a terminal entry) raises
    ``StreamInterrupted`` — both checked when the stream has been quiet for ``block``
    ms. An unreachable Redis raises ``ConnectError``.
    """
    if block < 1:
        raise ValueError("block is a number of milliseconds, >= 1")
    start = parse_id(after or "0-0")
    layout = layout_for(client)
    stream = layout.stream(key)

    async def body(out: Emitter[Any]) -> None:
        await _wait_for(client, stream, key, wait)

        span: Any = None

        def on_entry(entry_id: str, kind: str, data: str, item: Any) -> bool:
            nonlocal span
            if kind == TRACE:
                if span is None:
                    span = linked_span(f"redis stream read {key}", data)
                return False
            if kind in TERMINALS:
                if kind == "error":
                    raise rebuilt_error(data)
                if kind == "stopped":
                    raise stopped_error(data)
                return True
            out.emit((entry_id, item) if with_ids else item)
            return False

        reader = Reader(stream, start, on_entry, block=block, expires=True, name=key)
        hub = hub_for(client, key, layout)
        hub.add(reader)
        try:
            await reader.finished
        finally:
            hub.remove(reader)
            if span is not None:
                span.end()

    return task_source(body, name="from_redis_stream")


async def _wait_for(client: Redis, key: str, name: str, wait: float) -> None:
    """Return once ``key`` or its producer's lease exists; ``StreamExpired`` after ``wait``."""
    deadline = asyncio.get_running_loop().time() + wait
    lease = f"{key}:lease"
    while True:
        found, kind = await asyncio.gather(
            batched(client, lambda p: p.exists(key, lease)), batched(client, lambda p: p.type(key))
        )
        if text_of(kind) not in ("stream", "none"):
            # caught here: in the shared XREAD it would fail every reader in the process
            raise StreamError(f"The key {name!r} holds a {text_of(kind)}, not a stream.")
        if found:
            return
        if asyncio.get_running_loop().time() >= deadline:
            raise StreamExpired(
                f"No stream at {name!r}: it expired or was never started. Start the request again.",
                key=name,
            )
        await asyncio.sleep(0.02)  # a producer may be about to take the job
