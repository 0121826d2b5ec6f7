"""Warm connections: from_http reuses keep-alive connections from the loop's pool.

The server is HTTPS on loopback with a throwaway CA trusted through aiohttp's default
verification path, and it counts TCP connections (by client port) and TLS handshakes
(by the SNI callback), so reuse is seen where it matters: no new handshake.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aiohttp.connector
import msgspec
import pytest
from aiohttp import web

import rxstream as rs
from rxstream import operators as ops

from ..conftest import Serve, until

trustme = pytest.importorskip("trustme")
pytestmark = pytest.mark.usefixtures("no_leaks")

TEXT_PIECES = ["Warm ", "connections ", "are ", "fast."]
REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def chunk(content: str | None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return b"data: " + msgspec.json.encode({"choices": [choice]}) + b"\n\n"


@dataclass
class Counting:
    """What the server saw: connections (client ports), handshakes, requests at once."""

    url: str = ""
    ports: list[int] = field(default_factory=list)
    handshakes: int = 0
    active: int = 0
    most_active: int = 0
    requests: int = 0
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connections(self) -> int:
        return len(set(self.ports))


@pytest.fixture(scope="module")
def authority() -> Any:
    """A throwaway CA, trusted by aiohttp's default (verifying) SSL context."""
    ca = trustme.CA()
    ca.configure_trust(aiohttp.connector._SSL_CONTEXT_VERIFIED)
    return ca


@pytest.fixture
async def https(authority: Any) -> AsyncIterator[Counting]:
    seen = Counting()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)

    def on_handshake(_sock: Any, _name: str | None, _context: Any) -> None:
        seen.handshakes += 1

    context.sni_callback = on_handshake

    async def answer(request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        seen.ports.append(peer[1] if peer else -1)
        seen.requests += 1
        seen.active += 1
        seen.most_active = max(seen.most_active, seen.active)
        mode = request.query.get("mode", "")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        try:
            await response.prepare(request)
            if mode == "hold":  # a long answer, until the client goes away
                await response.write(chunk("partial "))
                await seen.release.wait()
            if mode == "wave":  # stay busy until the whole wave is under way
                await seen.release.wait()
            for piece in TEXT_PIECES:
                await response.write(chunk(piece))
            await response.write(chunk(None, "stop") + b"data: [DONE]\n\n")
            if mode == "late_end":  # the body's end comes after [DONE], as over a network
                await asyncio.sleep(0.01)
            if mode == "never_ends":  # the body's end is too late to wait for
                await asyncio.sleep(1.0)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            seen.disconnected.set()
            raise
        finally:
            seen.active -= 1
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    seen.url = f"https://localhost:{runner.addresses[0][1]}/v1/chat/completions"
    try:
        yield seen
    finally:
        seen.release.set()
        await rs.connection_pool().close()  # before the server, so it sees clean closes
        await runner.cleanup()


def answer_text(url: str, **http: Any) -> Any:
    return rs.from_http(url, json=REQUEST, **http).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )


async def text_of(url: str, **http: Any) -> str:
    return "".join(await rs.collect(answer_text(url, **http)))


@pytest.mark.parametrize("mode", ["", "late_end"])
async def test_sequential_requests_reuse_one_connection_and_one_handshake(
    https: Counting, mode: str
) -> None:
    # late_end: [DONE] completes the stream before the body's last bytes arrive; the
    # transport reads them (briefly) instead of throwing the connection away
    pool = rs.connection_pool()
    for _ in range(5):
        assert await text_of(f"{https.url}?mode={mode}") == "".join(TEXT_PIECES)
        # the answer is complete at [DONE]; the connection is back once its body ended
        await until(lambda: pool.in_use == 0)
    assert https.requests == 5
    assert (https.connections, https.handshakes) == (1, 1)
    assert pool.idle == 1


async def test_a_body_that_does_not_end_in_time_costs_its_connection_not_the_answer(
    https: Counting,
) -> None:
    pool = rs.connection_pool()
    started = time.perf_counter()
    assert await text_of(f"{https.url}?mode=never_ends") == "".join(TEXT_PIECES)
    assert time.perf_counter() - started < 0.5  # the answer does not wait for the body
    await until(lambda: pool.in_use == 0)  # 50 ms of reading, then given up
    assert pool.idle == 0  # closed, not pooled half-read
    assert await text_of(https.url) == "".join(TEXT_PIECES)
    assert https.connections == 2


async def test_concurrent_waves_stay_within_the_bound_and_reuse_it(https: Counting) -> None:
    async with rs.ConnectionPool(limit=3, limit_per_host=3) as pool:
        for _ in range(3):
            https.release.clear()
            wave = [asyncio.ensure_future(text_of(f"{https.url}?mode=wave")) for _ in range(7)]
            await until(lambda: https.active == 3)  # the pool's bound: 3 at once
            https.release.set()
            assert await asyncio.gather(*wave) == ["".join(TEXT_PIECES)] * 7
        assert https.most_active == 3
        assert https.requests == 21
        assert https.connections == 3  # every later request reused one of the three
        assert https.handshakes == 3
        assert pool.in_use == 0
    assert pool.closed


async def test_dispose_mid_body_closes_that_connection_and_the_next_request_is_exact(
    https: Counting,
) -> None:
    assert await text_of(https.url) == "".join(TEXT_PIECES)  # one warm connection
    seen: list[str] = []
    got_some = asyncio.Event()

    def on_text(piece: str) -> None:
        seen.append(piece)
        got_some.set()

    subscription = answer_text(f"{https.url}?mode=hold").subscribe(on_text)
    await asyncio.wait_for(got_some.wait(), 5)
    subscription.dispose()
    disposed = time.perf_counter()
    await asyncio.wait_for(https.disconnected.wait(), 1)
    assert time.perf_counter() - disposed < 0.1  # the server sees it at once
    assert seen == ["partial "]
    await until(lambda: rs.connection_pool().in_use == 0)
    assert rs.connection_pool().idle == 0  # the half-read connection was not pooled
    assert await text_of(https.url) == "".join(TEXT_PIECES)
    assert https.connections == 2  # a new connection for the request after the drop


async def test_a_failed_connection_is_discarded_and_the_next_request_works(
    serve: Serve,
) -> None:
    calls = 0

    async def flaky(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(chunk("a"))
        if calls == 1:
            assert request.transport is not None
            request.transport.abort()  # the connection breaks mid-body
            return response
        await response.write(chunk("b", "stop") + b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", flaky)
    url = await serve(app) + "/v1/chat/completions"
    with pytest.raises(rs.StreamInterrupted):
        await text_of(url)
    assert rs.connection_pool().idle == 0
    assert await text_of(url) == "ab"
    await rs.connection_pool().close()


async def test_a_session_passed_in_is_used_and_left_open(https: Counting) -> None:
    async with aiohttp.ClientSession() as session:
        assert await text_of(https.url, session=session) == "".join(TEXT_PIECES)
        assert not session.closed
        assert rs.connection_pool().closed  # the pool was never opened
        assert session.connector is not None
        assert sum(len(c) for c in session.connector._conns.values()) == 1


async def test_proxies_come_from_the_environment(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxied: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        proxied.append(str(request.url))  # a forward proxy sees the absolute target URL
        body = chunk("via proxy", "stop") + b"data: [DONE]\n\n"
        return web.Response(body=body, content_type="text/event-stream")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy)
    proxy_url = await serve(app)
    target = "http://127.0.0.2:9/v1/chat/completions"  # reached only through the proxy
    monkeypatch.setenv("HTTP_PROXY", proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with rs.ConnectionPool():
        assert await text_of(target) == "via proxy"
    assert proxied == [target]
    monkeypatch.setenv("NO_PROXY", "127.0.0.2")  # now direct, and nobody listens there
    async with rs.ConnectionPool():
        with pytest.raises(rs.ConnectError, match="connection refused"):
            await text_of(target)
    assert len(proxied) == 1


def test_pool_options_are_validated() -> None:
    with pytest.raises(ValueError, match="bounded"):
        rs.ConnectionPool(limit=0)
    with pytest.raises(ValueError, match="keepalive"):
        rs.ConnectionPool(keepalive=0)


async def test_a_pool_is_never_used_from_another_loop() -> None:
    pool = rs.ConnectionPool()
    pool.session()

    async def elsewhere() -> None:
        pool.session()

    def other_loop() -> None:
        asyncio.run(elsewhere())

    with pytest.raises(RuntimeError, match="another event loop"):
        await asyncio.to_thread(other_loop)
    await pool.close()


SCRIPT = textwrap.dedent(
    """
    import asyncio, threading
    import rxstream as rs
    from rxstream import operators as ops
    from rxstream.mock import MockConfig, MockServer

    async def ask(times):
        async with MockServer(MockConfig(text="Hello there.")) as mock:
            texts = []
            pool = rs.connection_pool()
            for _ in range(times):
                stream = rs.chat([{"role": "user", "content": "hi"}], model="m",
                                 base_url=mock.base_url).pipe(ops.text())
                texts.append("".join(await rs.collect(stream)))
                while pool.in_use:  # back in the pool once the body has ended
                    await asyncio.sleep(0.001)
            assert pool.connections == 1, pool
            return texts, pool

    first = asyncio.run(ask(3))
    assert first[1].closed           # closed when its loop shut down
    second = asyncio.run(ask(2))     # a new loop: a new pool
    assert second[1] is not first[1] and second[1].closed
    results = []
    threads = [threading.Thread(target=lambda: results.append(asyncio.run(ask(2))))
               for _ in range(3)]    # three loops at the same time, one per thread
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(pool) for _, pool in results}) == 3
    assert all(pool.closed for _, pool in results)
    print(first[0] + second[0] + [t for texts, _ in results for t in texts])
    """
)


def test_several_loops_each_get_a_pool_and_exit_cleanly() -> None:
    # -X dev shows unclosed sessions/connectors, unawaited coroutines and pending tasks;
    # -W error turns every warning into a failure
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONASYNCIODEBUG": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(["Hello there."] * 11)
    assert result.stderr == ""
