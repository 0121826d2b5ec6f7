"""One helper object per (Redis client, event loop), shared by every stream in a process."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from redis.asyncio import Redis

H = TypeVar("H")

_SHARED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def shared(client: Redis, kind: str, factory: Callable[[Redis], H]) -> H:
    """The ``kind`` helper of ``client`` on the running loop (made by ``factory`` once).

    redis-py's asyncio clients belong to one event loop, so a helper made on another
    (a test's earlier loop, say) is replaced rather than reused.
    """
    loop = asyncio.get_running_loop()
    helpers = _SHARED.setdefault(client, {})
    helper = helpers.get(kind)
    if helper is None or helper.loop is not loop:
        helper = helpers[kind] = factory(client)
    return helper
