"""Scale-out on Redis Streams: one producer per key, any number of consumers anywhere.

Layout for a key ``K``: the stream ``K`` (one entry per item, then one terminal entry),
the lease ``K:lease`` (the producer's token, renewed while it writes; ``done`` after the
end, for as long as the stream lives) and the control stream ``K:control`` (``rs.stop``
appends to it). In each process, all streams on one client share one command batcher
(a pipeline per round trip, ``_writer``) and one reader (a blocking ``XREAD`` over
every key, ``_reader``). On Redis Cluster the same keys live under hash-tagged shards,
with one reader per shard and numbered entries (``_layout``). Needs the ``redis`` extra;
redis-py is imported only when Redis is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._producer import produce_once, stop
from ._reader import from_redis_stream
from ._writer import RedisStreamSink

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "RedisStreamSink",
    "from_redis_stream",
    "produce_once",
    "stop",
    "to_redis_stream",
]


def to_redis_stream(
    client: Redis, key: str, *, maxlen: int = 10_000, ttl: int = 3600, lease: float = 5.0
) -> RedisStreamSink:
    """A sink appending each item to the Redis stream ``key``, then a terminal entry.

    ``await rs.run(stream, rs.sinks.to_redis_stream(redis, "chat:1"))``. Items keep
    their type (text, tool calls, usage, finish …); the terminal entry is ``done``
    (with the final usage and finish reason), ``error`` (the typed error's class and
    message, never a secret) or ``stopped`` (with the partial text). The stream is
    trimmed to about ``maxlen`` entries and expires ``ttl`` seconds after the end (or
    after the producer's last sign of life). While writing, the sink keeps
    ``key:lease`` alive (renewed every ``lease / 3`` s) so readers tell a quiet producer
    from a dead one. Writes from every stream in the process go out together, one
    pipeline per round trip.
    """
    return RedisStreamSink(client, key, maxlen=maxlen, ttl=ttl, lease=lease)
