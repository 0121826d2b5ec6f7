"""One producer per key across all workers (a lease), and Stop from any worker."""

from __future__ import annotations

import asyncio
import contextvars
import secrets
from typing import TYPE_CHECKING, Any, Final

from reactivex import Observable

from .._ending import stream_stopped
from .._log import get_logger
from ..sinks._core import run
from ._layout import layout_for
from ._reader import Reader, hub_for
from ._writer import RedisStreamSink, batched

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = get_logger(__name__)

STOP_TTL: Final = 60
"""Seconds a Stop request is kept: a producer starting later than that is not stopped."""


def control_key(client: Redis, key: str) -> str:
    """The small stream ``rs.stop`` writes to; producers watch it through the shared reader."""
    return f"{layout_for(client).stream(key)}:control"


# SET NX, and also "yes" when this token holds it already: sent again through a
# failover, the first SET's lost reply must not make the producer think it lost.
ACQUIRE: Final = """
local holder = redis.call('get', KEYS[1])
if holder == ARGV[1] then return 1 end
if holder then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


async def produce_once(
    client: Redis,
    key: str,
    source: Observable[Any],
    *,
    lease: float = 5.0,
    maxlen: int = 10_000,
    ttl: int = 3600,
) -> bool:
    """Stream ``source`` into ``key`` unless another worker already does; True if this did.

    A ``SET NX PX`` lease on ``key:lease`` makes the request happen once however many
    workers ask, and reads ``done`` after the end for as long as the stream lives (a
    late call returns False too). It is renewed while streaming, so a crashed producer's
    lease lapses within ``lease`` seconds (its readers then raise ``StreamInterrupted``);
    a producer that finds its lease taken (it stalled for longer than ``lease``) stops
    writing and raises ``LeaseLost``.
    ``rs.stop(client, key)`` from any worker reaches the producer through the process's
    shared ``XREAD`` (no polling): the upstream is disposed and a ``stopped`` terminal
    entry (with the partial text) is written.
    """
    if lease <= 0:
        raise ValueError("lease must be positive")
    token = secrets.token_hex(8)
    control = control_key(client, key)
    lease_key = f"{layout_for(client).stream(key)}:lease"  # "done" once finished
    lease_ms = int(lease * 1000)
    acquired = batched(client, lambda p: p.eval(ACQUIRE, 1, lease_key, token, lease_ms))
    stop_requested = batched(client, lambda p: p.exists(control))
    acquired, stop_requested = await asyncio.gather(acquired, stop_requested)
    if not acquired:
        log.info("producer_already_running", key=key)
        return False
    sink = RedisStreamSink(client, key, maxlen=maxlen, ttl=ttl, lease=lease, lease_token=token)
    if stop_requested:  # stopped before it started: no upstream request at all
        log.info("producer_stopped", key=key, before_start=True)
        await sink.close(asyncio.CancelledError())
        return True

    loop = asyncio.get_running_loop()
    stop_asked = loop.create_future()

    def on_control(entry_id: str, kind: str, data: str, item: Any) -> bool:
        if not stop_asked.done():
            stop_asked.set_result(None)
        return True

    watcher = Reader(control, (0, 0), on_control, block=60_000, expires=False)
    hub = hub_for(client, key)
    hub.add(watcher)
    # its own context, so a Stop can mark the disposal that cancelling it causes
    production_context = contextvars.copy_context()
    production = loop.create_task(run(source, sink), context=production_context)
    lease_lost = asyncio.ensure_future(sink.lease_lost.wait())
    try:
        await asyncio.wait(
            {production, stop_asked, lease_lost}, return_when=asyncio.FIRST_COMPLETED
        )
        if not production.done():
            # Stop: the sink writes "stopped". Lease lost: another worker may be producing
            # this key, and two writers would interleave their text; the sink writes nothing.
            log.info("producer_stopped", key=key, lease_lost=lease_lost.done())
            if stop_asked.done():
                production_context.run(stream_stopped.set, True)
            production.cancel()  # disposes the upstream request at once
        await asyncio.wait({production})
        if lease_lost.done():
            sink.check()  # raises LeaseLost
        if not production.cancelled():
            production.result()  # the stream's own error, re-raised
    finally:
        hub.remove(watcher)
        lease_lost.cancel()
        if not production.done():
            production.cancel()
    return True


async def stop(client: Redis, key: str) -> None:
    """Ask the producer of ``key`` (on any worker) to stop; it sees this within one
    Redis round trip. A producer that starts within ``STOP_TTL`` s is stopped too."""
    control = control_key(client, key)
    request: dict[Any, Any] = {"type": "stop", "data": ""}
    await asyncio.gather(
        batched(client, lambda p: p.xadd(control, request, maxlen=16, approximate=False)),
        batched(client, lambda p: p.expire(control, STOP_TTL)),
    )
