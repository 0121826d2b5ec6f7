"""A small round-robin load balancer, so one browser page talks to every web worker.

Each request goes to the next worker (a dead one is skipped); responses stream through
as they arrive, so Server-Sent Events work. When a worker dies mid-answer the browser's
connection ends, ``EventSource`` reconnects through the balancer to another worker with
``Last-Event-ID``, and the answer continues there. For the demo and tests — in
production this is nginx, HAProxy or a cloud load balancer.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web

log = structlog.get_logger(__name__)

# hop-by-hop (RFC 9110 §7.6.1) or recomputed by aiohttp: never forwarded
SKIPPED = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "upgrade", "te"}
)


class Balancer:
    """Forwards each request to the next live backend; ``served`` logs (path, backend)."""

    def __init__(self, backends: list[str]) -> None:
        if not backends:
            raise ValueError("a balancer needs at least one backend")
        self.backends = list(backends)
        self.served: list[tuple[str, str]] = []
        self._next = itertools.cycle(range(len(self.backends)))
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self.forward)
        app.cleanup_ctx.append(self._client)
        return app

    async def _client(self, app: web.Application) -> AsyncIterator[None]:
        # no pool limit: every open EventSource holds one backend connection
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:
            self._session = session
            yield

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in SKIPPED}
        for _ in self.backends:
            backend = self.backends[next(self._next)]
            try:
                upstream = await self._session.request(
                    request.method,
                    backend + request.path_qs,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=None, connect=2),
                )
            except aiohttp.ClientConnectionError:
                log.info("backend_skipped", backend=backend)
                continue  # a dead worker: the next one serves the request
            self.served.append((request.path, backend))
            async with upstream:
                response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
                for name, value in upstream.headers.items():
                    if name.lower() not in SKIPPED:
                        response.headers.add(name, value)
                await response.prepare(request)
                try:
                    async for chunk in upstream.content.iter_any():
                        await response.write(chunk)
                except aiohttp.ClientError:
                    # the worker died mid-response: end this one; the browser reconnects
                    log.info("backend_lost", backend=backend, path=request.path)
                return response
        return web.Response(status=502, text="no web worker is reachable")
