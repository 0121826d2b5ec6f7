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
    within ``lease`` seconds. ``rs.stop(client, key)`` from any worker reaches the
    producer through the process's shared ``XREAD`` (no polling): the upstream is
    disposed and a ``stopped`` terminal entry (with the partial text) is written.
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
            await batched(client, lambda p: p.set(lease_key, token, xx=True, px=lease_ms))
        with contextlib.suppress(asyncio.CancelledError):
            await production  # when stopped, the sink wrote the "stopped" terminal entry
    finally:
        hub.remove(watcher)
        if not production.done():
            production.cancel()
        await _release(client, lease_key, token)
    return True


async def _release(client: Redis, lease_key: str, token: str) -> None:
    try:
        if text(await batched(client, lambda p: p.get(lease_key))) == token:
            await batched(client, lambda p: p.delete(lease_key))  # never another worker's
    except StreamError:
        pass  # Redis is gone: the lease lapses on its own


def text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


async def stop(client: Redis, key: str) -> None:
    """Ask the producer of ``key`` (on any worker) to stop; it sees this within one
    Redis round trip. A producer that starts within ``STOP_TTL`` s is stopped too."""
    control = control_key(key)
    request: dict[Any, Any] = {"type": "stop", "data": ""}
    await asyncio.gather(
        batched(client, lambda p: p.xadd(control, request, maxlen=16, approximate=False)),
        batched(client, lambda p: p.expire(control, STOP_TTL)),
    )
