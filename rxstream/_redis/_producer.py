"""One producer per key across all workers (a lease), and Stop from any worker."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import TYPE_CHECKING, Any, Final

import structlog
from reactivex import Observable

from ..errors import StreamError
from ..sinks._core import run
from ._reader import Reader, hub_for
from ._writer import RedisStreamSink, batched

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger(__name__)

STOP_TTL: Final = 60
"""Seconds a Stop request is kept: a producer starting later than that is not stopped."""


def control_key(key: str) -> str:
    """The small stream ``rs.stop`` writes to; producers watch it through the shared reader."""
    return f"{key}:control"


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
    workers ask; it is renewed while streaming, so a crashed producer's lease lapses
    within ``lease`` seconds; a producer that finds its lease taken (it stalled for
    longer than ``lease``) stops writing and raises ``StreamError``.
    ``rs.stop(client, key)`` from any worker reaches the producer through the process's
    shared ``XREAD`` (no polling): the upstream is disposed and a ``stopped`` terminal
    entry (with the partial text) is written.
    """
    if lease <= 0:
        raise ValueError("lease must be positive")
    token = secrets.token_hex(8)
    lease_key, lease_ms = f"{key}:lease", int(lease * 1000)
    acquired = batched(client, lambda p: p.set(lease_key, token, nx=True, px=lease_ms))
    stop_requested = batched(client, lambda p: p.exists(control_key(key)))
    acquired, stop_requested = await asyncio.gather(acquired, stop_requested)
    if not acquired:
        log.info("producer_already_running", key=key)
        return False
    sink = RedisStreamSink(client, key, maxlen=maxlen, ttl=ttl)
    if stop_requested:  # stopped before it started: no upstream request at all
        log.info("producer_stopped", key=key, before_start=True)
        await sink.close(asyncio.CancelledError())
        await _release(client, lease_key, token)
        return True

    loop = asyncio.get_running_loop()
    stop_asked = loop.create_future()

    def on_control(entry_id: str, kind: str, data: str, item: Any) -> bool:
        if not stop_asked.done():
            stop_asked.set_result(None)
        return True

    watcher = Reader(control_key(key), (0, 0), on_control, block=60_000, expires=False)
    hub = hub_for(client)
    hub.add(watcher)
    production = asyncio.ensure_future(run(source, sink))
    try:
        while not production.done():
            await asyncio.wait(
                {production, stop_asked}, timeout=lease / 3, return_when=asyncio.FIRST_COMPLETED
            )
            if production.done():
                break
            if stop_asked.done():
                log.info("producer_stopped", key=key)
                production.cancel()  # disposes the upstream request at once
                break
            renewed = await batched(client, lambda p: p.eval(RENEW, 1, lease_key, token, lease_ms))
            if not renewed:
                # Stalled past the lease, and another worker may be producing this key:
                # two writers would interleave their text, so this one gives up, silently.
                log.warning("producer_lease_lost", key=key)
                sink.abandon()
                production.cancel()
                await asyncio.wait({production})
                raise StreamError(
                    f"Lost the producer lease on {key!r} (this worker stalled for longer "
                    "than the lease); stopped producing so only one worker writes the key."
                )
        await asyncio.wait({production})
        if not production.cancelled():
            production.result()  # the stream's own error, re-raised
        # when stopped, the sink has written the "stopped" terminal entry
    finally:
        hub.remove(watcher)
        if not production.done():
            production.cancel()
        await _release(client, lease_key, token)
    return True


# Lua, so that checking the token and acting on the lease is one atomic step
RENEW: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE: Final = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


async def _release(client: Redis, lease_key: str, token: str) -> None:
    with contextlib.suppress(StreamError):  # Redis is gone: the lease lapses on its own
        await batched(client, lambda p: p.eval(RELEASE, 1, lease_key, token))


async def stop(client: Redis, key: str) -> None:
    """Ask the producer of ``key`` (on any worker) to stop; it sees this within one
    Redis round trip. A producer that starts within ``STOP_TTL`` s is stopped too."""
    control = control_key(key)
    request: dict[Any, Any] = {"type": "stop", "data": ""}
    await asyncio.gather(
        batched(client, lambda p: p.xadd(control, request, maxlen=16, approximate=False)),
        batched(client, lambda p: p.expire(control, STOP_TTL)),
    )
