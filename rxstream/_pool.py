"""Keep-alive HTTP connections, pooled per running event loop.

``from_http`` (and everything built on it) takes its ``aiohttp.ClientSession`` from the
running loop's ``ConnectionPool`` unless the caller passes ``session=``. So every request
after the first to a host skips the TCP (and TLS) handshake.

Why one pool per loop: an aiohttp session belongs to the loop it was created on, and
programs run several loops (``asyncio.run`` twice, test suites, one loop per thread).
How a pool ends: it registers an async generator with its loop, and ``asyncio.run`` (or
``asyncio.Runner``) finalises those at shutdown — that is where the session is closed,
so nothing is left open or warned about at exit when the user never closed anything.
A loop closed some other way has its pool dropped when the next pool is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import urllib.request
import weakref
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Final

import aiohttp
import yarl

from ._log import get_logger

log = get_logger(__name__)

DEFAULT_LIMIT: Final = 1000
"""Connections open at once over all hosts (as the openai SDK's ``max_connections``)."""
DEFAULT_LIMIT_PER_HOST: Final = 1000
"""Connections open at once to one host: LLM streams are long, so one API host may
well carry every concurrent stream."""
DEFAULT_KEEPALIVE: Final = 15.0
"""Seconds an idle connection is kept for reuse (below common server timeouts)."""


class ConnectionPool:
    """A bounded pool of keep-alive connections for ``from_http`` on one event loop.

    The running loop gets a default pool on first use (``rs.connection_pool()``), closed
    when the loop shuts down. To size it, or to scope and close it yourself::

        async with rs.ConnectionPool(limit=200, limit_per_host=50):
            ...  # every from_http / rs.chat on this loop uses this pool
        # closed here; the loop's default pool is used again afterwards

    Proxies come from the environment (``HTTP_PROXY``, ``HTTPS_PROXY``, ``NO_PROXY``, as
    aiohttp's ``trust_env`` reads them), read when the pool opens. A request waits for a
    free connection when the pool is full, within the connect timeout
    (``from_http(timeout=)``).

    Args:
        limit: Connections open at once over all hosts.
        limit_per_host: Connections open at once to one host (scheme, host, port).
        keepalive: Seconds an idle connection is kept for reuse.
        trust_env: Use the proxies named in the environment.
    """

    def __init__(
        self,
        *,
        limit: int = DEFAULT_LIMIT,
        limit_per_host: int = DEFAULT_LIMIT_PER_HOST,
        keepalive: float = DEFAULT_KEEPALIVE,
        trust_env: bool = True,
    ) -> None:
        if limit < 1 or limit_per_host < 1:
            raise ValueError("limit and limit_per_host must be >= 1 (the pool is bounded)")
        if not keepalive > 0:
            raise ValueError("keepalive must be a positive number of seconds")
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.keepalive = keepalive
        self.trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finaliser: AsyncGenerator[None, None] | None = None
        self._previous: ConnectionPool | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_of_host: dict[tuple[str, str], str | None] = {}

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.connections} connections"
        return (
            f"ConnectionPool(limit={self.limit}, limit_per_host={self.limit_per_host}, "
            f"keepalive={self.keepalive}, {state})"
        )

    @property
    def closed(self) -> bool:
        """Whether the pool holds no open session (before first use, or after close)."""
        return self._session is None or self._session.closed

    @property
    def connections(self) -> int:
        """Connections open now: checked out by requests plus idle ones kept for reuse."""
        return self.in_use + self.idle

    @property
    def in_use(self) -> int:
        """Connections checked out by requests still reading their response."""
        connector = self._connector()
        if connector is None:
            return 0
        return sum(len(held) for held in connector._acquired_per_host.values())

    @property
    def idle(self) -> int:
        """Idle keep-alive connections waiting to be reused."""
        connector = self._connector()
        if connector is None:
            return 0
        return sum(len(kept) for kept in connector._conns.values())

    def _connector(self) -> aiohttp.BaseConnector | None:
        session = self._session
        return None if session is None or session.closed else session.connector

    def session(self) -> aiohttp.ClientSession:
        """The pool's session, created on the running loop at first use.

        Raises ``RuntimeError`` outside a running loop, or on another loop than the one
        the pool was first used on (a session belongs to one loop).
        """
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            raise RuntimeError(
                "this ConnectionPool belongs to another event loop; use one pool per loop "
                "(rs.connection_pool() gives the running loop's)"
            )
        if self._session is None or self._session.closed:
            self._loop = loop
            # aiohttp's trust_env would read the environment and ~/.netrc on every
            # request (0.6 ms here, most of a warm request): read the proxies once
            self._proxies = _environment_proxies() if self.trust_env else {}
            self._proxy_of_host.clear()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.limit,
                    limit_per_host=self.limit_per_host,
                    keepalive_timeout=self.keepalive,
                ),
            )
            self._finaliser = _close_at_shutdown(self)
            # Its first step registers it with the loop's async-generator hooks, so
            # asyncio.run() finalises it (closing the session) when the loop shuts down.
            with contextlib.suppress(StopIteration):
                self._finaliser.asend(None).send(None)
            log.debug("connection_pool_opened", limit=self.limit, per_host=self.limit_per_host)
        return self._session

    def proxy_for(self, url: yarl.URL) -> str | None:
        """The proxy the environment names for ``url`` (``None``: connect directly)."""
        if not self._proxies:
            return None
        key = (url.scheme, url.host or "")
        if key not in self._proxy_of_host:
            proxy = self._proxies.get(url.scheme)
            if proxy is not None and _bypass(key[1], self._proxies):
                proxy = None
            if len(self._proxy_of_host) >= _MAX_PROXY_DECISIONS:
                self._proxy_of_host.clear()
            self._proxy_of_host[key] = proxy
        return self._proxy_of_host[key]

    async def close(self) -> None:
        """Close every connection; the pool can be used again (it reopens on demand)."""
        session, self._session = self._session, None
        finaliser, self._finaliser = self._finaliser, None
        if session is not None and not session.closed:
            await session.close()
            log.debug("connection_pool_closed")
        if finaliser is not None:
            await finaliser.aclose()
        self._loop = None

    async def __aenter__(self) -> ConnectionPool:
        loop = asyncio.get_running_loop()
        with _LOCK:
            self._previous = _POOLS.get(loop)
            _POOLS[loop] = self
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        with _LOCK:
            if _POOLS.get(loop) is self:
                if self._previous is not None:
                    _POOLS[loop] = self._previous
                else:
                    del _POOLS[loop]
            self._previous = None
        await self.close()


_MAX_PROXY_DECISIONS: Final = 1024
_bypass: Final = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]


def _environment_proxies() -> dict[str, str]:
    """``{"http": …, "https": …, "no": …}`` from ``*_PROXY`` variables (any case)."""
    found = urllib.request.getproxies_environment()
    return {k: v for k, v in found.items() if k in ("http", "https", "no")}


async def _close_at_shutdown(pool: ConnectionPool) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        session = pool._session
        if session is not None and not session.closed:
            pool._session = None
            await session.close()


_LOCK: Final = threading.Lock()
_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ConnectionPool] = (
    weakref.WeakKeyDictionary()
)


def connection_pool() -> ConnectionPool:
    """The running loop's pool (the default one, created on first use)."""
    loop = asyncio.get_running_loop()
    with _LOCK:
        pool = _POOLS.get(loop)
        if pool is None:
            _forget_closed_loops()
            pool = _POOLS[loop] = ConnectionPool()
    return pool


def _forget_closed_loops() -> None:
    """Drop the pools of loops that were closed without shutting their async generators
    down (not via ``asyncio.run``): their sockets went with the loop's selector."""
    for loop in [loop for loop in _POOLS if loop.is_closed()]:
        pool = _POOLS.pop(loop)
        session, pool._session = pool._session, None
        if session is not None and session.connector is not None:
            session.connector._close()  # the loop is gone: marks it closed, nothing to await


__all__ = ["ConnectionPool", "connection_pool"]
