"""One helper object per (Redis client, event loop), shared by every stream in a process."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from redis.asyncio import Redis

H = TypeVar("H", bound="SharedHelper")


class SharedHelper:
    """Base of the per-client helpers: bound to the running loop, and to the client only
    weakly — the registry is keyed by the client, so a strong reference back would keep
    every client (and its connection pool) alive for good."""

    def __init__(self, client: Redis) -> None:
        self._client = weakref.ref(client)
        self.loop = asyncio.get_running_loop()

    @property
    def client(self) -> Redis:
        client = self._client()
        if client is None:  # only reachable by a helper outliving every user of its client
            raise RuntimeError("the Redis client of this rxstream helper is gone")
        return client


_SHARED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def shared(client: Redis, kind: str, factory: Callable[[Redis], H]) -> H:
    """The ``kind`` helper of ``client`` on the running loop (made by ``factory`` once).

    redis-py's asyncio clients belong to one event loop, so a helper made on another
    (a test's earlier loop, say) is replaced rather than reused.
    """
    loop = asyncio.get_running_loop()
    helpers = _SHARED.setdefault(client, {})
    helper: H | None = helpers.get(kind)
    if helper is None or helper.loop is not loop:
        helper = helpers[kind] = factory(client)
    return helper
