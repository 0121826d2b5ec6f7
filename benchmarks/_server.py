"""Benchmark servers, run in their own process so the client's CPU is measured alone.

``python -m benchmarks._server mock TOKENS EVENTS_PER_WRITE``: the embedded mock,
streaming TOKENS chunks as fast as it can.

``python -m benchmarks._server mock-tls TOKENS CERTFILE KEYFILE``: the same mock over
HTTPS (for ``https://localhost:PORT``), answering each request with TOKENS chunks.

``python -m benchmarks._server tail SLOW_SHARE SLOW_SECONDS FAST_SECONDS``: short
OpenAI answers whose first event comes after FAST_SECONDS, or (for a seeded SLOW_SHARE
of requests) after SLOW_SECONDS: a heavy-tailed time to first token. ``GET /count``
tells how many requests it got; a request with ``x-down: 1`` never gets an answer.

``python -m benchmarks._server gateway UPSTREAM`` / ``proxy UPSTREAM``: rxstream's
OpenAI gateway in front of UPSTREAM (a ``…/v1`` URL), or a byte-for-byte pass-through
proxy (the floor); ``GET /cpu`` tells the process CPU seconds used so far.

``python -m benchmarks._server ticker TOKENS RATE``: every stream gets TOKENS chunks at
RATE chunks/s, each chunk's content being its send time (``time.time()``), so clients
can measure added latency. Streams are spread over 20 phase slots of a 1 ms ticker, so
a thousand of them cost the server one timer, not a thousand.

Both print ``PORT n`` when ready and run until killed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import structlog

_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
_PREFIX = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":" '
)
_SUFFIX = b'"},"finish_reason":null}]}\n\n'
_FINISH = (
    b'data: {"id":"c","object":"chat.completion.chunk","created":0,"model":"m","choices":'
    b'[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class _Stream(asyncio.Protocol):
    def __init__(self, server: TickerServer) -> None:
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head, sep, body = self.buffer.partition(b"\r\n\r\n")
        if not sep:
            return
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if len(body) < length:
            return
        # A kept-alive connection carries the next request later: start it afresh.
        self.buffer = body[length:]
        self.sent = 0
        assert self.transport is not None
        self.transport.write(_HEAD)
        self.server.join(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.leave(self)

    def tick(self) -> bool:
        """Send the next chunk; False when this stream is done."""
        assert self.transport is not None
        if self.sent < self.server.tokens:
            self.sent += 1
            stamp = b"%.6f" % time.time()
            self.transport.write(_chunked(_PREFIX + stamp + _SUFFIX))
            return True
        self.transport.write(_chunked(_FINISH) + b"0\r\n\r\n")
        return False


class TickerServer:
    """Paced streams for the concurrency suite."""

    SLOTS = 20

    def __init__(self, tokens: int, rate: float) -> None:
        self.tokens = tokens
        self.period = 1.0 / rate
        self.slots: list[set[_Stream]] = [set() for _ in range(self.SLOTS)]
        self.next_slot = 0

    def join(self, stream: _Stream) -> None:
        self.slots[self.next_slot].add(stream)
        self.next_slot = (self.next_slot + 1) % self.SLOTS

    def leave(self, stream: _Stream) -> None:
        for slot in self.slots:
            slot.discard(stream)

    async def run(self) -> None:
        tick = self.period / self.SLOTS
        started = time.perf_counter()
        step = 0
        while True:
            for stream in list(self.slots[step % self.SLOTS]):
                if not stream.tick():
                    self.leave(stream)
            step += 1
            delay = started + step * tick - time.perf_counter()
            await asyncio.sleep(max(delay, 0))


async def _serve(argv: list[str]) -> None:
    loop = asyncio.get_running_loop()
    if argv[0] == "ticker":
        ticker = TickerServer(int(argv[1]), float(argv[2]))
        server = await loop.create_server(lambda: _Stream(ticker), "127.0.0.1", 0, backlog=4096)
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await ticker.run()
    elif argv[0] in ("gateway", "proxy"):
        await _serve_front(argv[0], argv[1])
    elif argv[0] == "tail":
        await _serve_tail(float(argv[1]), float(argv[2]), float(argv[3]))
    elif argv[0] == "mock-tls":
        import ssl

        from benchmarks._data import text_of
        from rxstream.mock import MockConfig, create_app

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(argv[2], argv[3])
        app = create_app(MockConfig(text=text_of(int(argv[1]))))
        await _serve_app(app, ssl_context=context)
    else:
        from benchmarks._data import text_of
        from rxstream.mock import MockConfig, MockServer

        config = MockConfig(text=text_of(int(argv[1])), events_per_write=int(argv[2]))
        async with MockServer(config) as mock:
            print(f"PORT {mock.port}", flush=True)
            await asyncio.Event().wait()


async def _serve_app(app: Any, *, ssl_context: Any = None) -> None:
    """Serve ``app`` on a free 127.0.0.1 port, announce it, and run until killed."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context, backlog=4096).start()
    print(f"PORT {runner.addresses[0][1]}", flush=True)
    await asyncio.Event().wait()


async def _serve_front(kind: str, upstream: str) -> None:
    import aiohttp
    from aiohttp import web

    async def cpu(request: web.Request) -> web.Response:
        return web.json_response({"cpu": time.process_time()})

    if kind == "gateway":
        from rxstream.gateway import create_app

        app = create_app(provider="openai", base_url=upstream, api_key="benchmark")
    else:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

        async def forward(request: web.Request) -> web.StreamResponse:
            target = upstream.removesuffix("/v1") + request.path
            async with session.post(
                target, data=await request.read(), headers={"Content-Type": "application/json"}
            ) as upstream_response:
                response = web.StreamResponse(
                    status=upstream_response.status,
                    headers={"Content-Type": upstream_response.content_type},
                )
                await response.prepare(request)
                async for data in upstream_response.content.iter_any():
                    await response.write(data)
                await response.write_eof()
                return response

        app = web.Application()
        app.router.add_post("/v1/chat/completions", forward)
    app.router.add_get("/cpu", cpu)
    await _serve_app(app)


async def _serve_tail(slow_share: float, slow: float, fast: float) -> None:
    import random

    from aiohttp import web

    rng = random.Random(2026)
    count = [0]
    body = b"".join(
        b'data: {"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":%s}]}\n\n'
        % (word, reason)
        for word, reason in ((b"Hello", b"null"), (b" there", b"null"), (b"", b'"stop"'))
    )

    async def answer(request: web.Request) -> web.StreamResponse:
        count[0] += 1
        if request.headers.get("x-down"):
            await asyncio.Event().wait()  # a provider that is down: never answers
        delay = slow if rng.random() < slow_share else fast
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(delay)
        await response.write(body + b"data: [DONE]\n\n")
        return response

    async def counted(request: web.Request) -> web.Response:
        return web.json_response({"requests": count[0]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    app.router.add_get("/count", counted)
    await _serve_app(app)


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    asyncio.run(_serve(sys.argv[1:]))
