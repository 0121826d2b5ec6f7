"""Where a stream's keys live: the plain layout, and the sharded one for Redis Cluster.

On one Redis (or a Sentinel-managed primary) a stream ``K`` is the key ``K`` itself, with
``K:lease`` and ``K:control`` beside it, and one blocking ``XREAD`` per process covers
every key (layout 1, unchanged).

A cluster refuses commands over keys of different hash slots, so layout 2 places every
stream into one of ``shards`` hash-tagged shards: ``K`` lives at
``rxstream:v2:{rxs<n>}:K`` (``n = crc32(K) % shards``), its lease and control keys at
the same name plus ``:lease`` / ``:control`` — one slot per shard, so a stream's keys
share it, one ``XREAD`` per shard covers every stream of that shard, and the shards'
slots spread over every primary. Every entry also carries ``n``, its 1-based position
in the stream, so a reader can drop an entry written twice (a write retried through a
failover) and name the entries a failover lost. The version is part of the key names:
a later layout change uses other names instead of misreading these.

Every process must use the same number of shards: ``RXSTREAM_REDIS_SHARDS`` (default
16, at most 1,024), read when a cluster client is first used.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from typing import Any, Final

LAYOUT_VERSION: Final = 2
DEFAULT_SHARDS: Final = 16
MAX_SHARDS: Final = 1024


def is_cluster(client: Any) -> bool:
    """Whether ``client`` is a redis-py cluster client (checked without importing redis)."""
    kind = type(client)
    return kind.__module__.startswith("redis.") and "Cluster" in kind.__name__


@dataclass(frozen=True, slots=True)
class Layout:
    """The key names of one client's streams; ``shards`` is 0 for the plain layout."""

    shards: int = 0

    @property
    def cluster(self) -> bool:
        return self.shards > 0

    def shard(self, key: str) -> int | None:
        """The shard of ``key`` (``None``: the plain layout has one reader for all)."""
        if not self.shards:
            return None
        return zlib.crc32(key.encode()) % self.shards

    def stream(self, key: str) -> str:
        """The Redis key of the stream ``key`` (``:lease``/``:control`` are appended)."""
        shard = self.shard(key)
        if shard is None:
            return key
        return f"rxstream:v{LAYOUT_VERSION}:{{rxs{shard}}}:{key}"

    def wake(self, shard: int | None, token: str) -> str:
        """A reader's private wake-up stream, in the slot of the keys it reads."""
        if shard is None:
            return f"rxstream:wake:{token}"
        return f"rxstream:v{LAYOUT_VERSION}:{{rxs{shard}}}:wake:{token}"


_PLAIN: Final = Layout()


def layout_for(client: Any) -> Layout:
    """The layout for ``client``: sharded on a cluster, plain otherwise."""
    if not is_cluster(client):
        return _PLAIN
    return Layout(shards=configured_shards())


def configured_shards() -> int:
    """``RXSTREAM_REDIS_SHARDS`` (default 16); ``ValueError`` if it is no count 1-1024."""
    raw = os.environ.get("RXSTREAM_REDIS_SHARDS", "")
    if not raw:
        return DEFAULT_SHARDS
    try:
        shards = int(raw)
    except ValueError:
        shards = 0
    if not 1 <= shards <= MAX_SHARDS:
        raise ValueError(f"RXSTREAM_REDIS_SHARDS must be 1..{MAX_SHARDS}, got {raw!r}")
    return shards
