"""rxstream.testing, used the way a user's own tests would."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
import reactivex
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream import operators as ops
from rxstream.testing import (
    Emission,
    MockConfig,
    MockServer,
    RedisServer,
    assert_no_leaks,
    load_recording,
    mock_server,  # noqa: F401 - the fixture under test
    recorded_stream,
    redis_server_url,  # noqa: F401 - the fixture under test
    run_virtual,
)


@pytest.mark.parametrize(
    "provider", ["openai", "openai_responses", "anthropic", "ollama", "gemini"]
)
async def test_recorded_stream_for_every_provider(provider: str) -> None:
    from rxstream.sources._chat import PROVIDERS

    stream = recorded_stream("One. Two.", provider=provider, chunk_size=1)  # type: ignore[arg-type]
    text = await rs.collect(stream.pipe(*PROVIDERS[provider].parse(), ops.text()))
    assert "".join(text) == "One. Two."


def test_run_virtual_reports_exact_times() -> None:
    def pipeline(clock: Any) -> Any:
        letters = reactivex.interval(0.2, scheduler=clock).pipe(
            rx_ops.map(lambda n: "abc"[n]), rx_ops.take(3)
        )
        return letters.pipe(ops.throttle_text(0.5, scheduler=clock))

    assert run_virtual(pipeline) == [
        Emission(0.2, "next", "a"),  # the first fragment at once
        Emission(0.6, "next", "bc"),  # b (0.4) and c (0.6): flushed on completion at 0.6
        Emission(0.6, "completed"),
    ]


def test_run_virtual_with_text() -> None:
    subject_free = run_virtual(
        lambda s: rs.from_chunks([b"data: x\n\n"], interval=1, scheduler=s).pipe(ops.parse_sse())
    )
    assert [e.kind for e in subject_free] == ["next", "completed"]
    assert subject_free[-1].time == 1.0


async def test_mock_server_fixture(mock_server: MockServer) -> None:  # noqa: F811
    text = await rs.collect(
        rs.chat([{"role": "user", "content": "hi"}], model="m", base_url=mock_server.base_url).pipe(
            ops.text()
        )
    )
    assert "".join(text).startswith('You asked: "hi".')
    await assert_no_leaks()


@pytest.mark.parametrize("mock_server", [MockConfig(text="Configured.")], indirect=True)
async def test_mock_server_fixture_with_a_config(mock_server: MockServer) -> None:  # noqa: F811
    text = await rs.collect(
        rs.chat([{"role": "user", "content": "x"}], model="m", base_url=mock_server.base_url).pipe(
            ops.text()
        )
    )
    assert "".join(text) == "Configured."


async def test_assert_no_leaks_catches_a_running_source(mock_server: MockServer) -> None:  # noqa: F811
    async with MockServer(MockConfig(tokens_per_second=5)) as slow:
        subscription = rs.from_http(
            slow.chat_url,
            json={"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
        ).subscribe(lambda _: None)
        await asyncio.sleep(0)  # let the request start
        with pytest.raises(AssertionError, match="still running"):
            await assert_no_leaks(wait=0.05)
        subscription.dispose()
        await assert_no_leaks()


async def test_assert_no_leaks_catches_a_disposed_source_that_does_not_end() -> None:
    release = asyncio.Event()

    async def stubborn() -> Any:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            await release.wait()  # ignores the dispose's cancellation for a while
        yield b"late"

    subscription = rs.from_async_iterable(stubborn()).subscribe(lambda _: None, lambda _: None)
    await asyncio.sleep(0)
    subscription.dispose()
    with pytest.raises(AssertionError, match="still running"):
        await assert_no_leaks(wait=0.05)
    release.set()
    await assert_no_leaks()


async def test_assert_no_leaks_checks_the_session(mock_server: MockServer) -> None:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        await rs.collect(
            rs.chat(
                [{"role": "user", "content": "x"}],
                model="m",
                base_url=mock_server.base_url,
                session=session,
            )
        )
        await assert_no_leaks(session)


async def test_load_recording(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "r.jsonl"
    path.write_text('{"t":0.1,"s":"x"}\n{"t":0.2,"end":"completed"}\n')
    assert await rs.collect(load_recording(path)) == ["x"]


needs_redis = pytest.mark.skipif(
    __import__("shutil").which("redis-server") is None, reason="needs redis-server"
)


@needs_redis
async def test_redis_server_serves_until_stopped() -> None:
    redis_asyncio = pytest.importorskip("redis.asyncio")
    with RedisServer() as server:
        client = redis_asyncio.Redis.from_url(server.url, socket_connect_timeout=1)
        assert await client.ping()
        server.stop()
        with pytest.raises(redis_asyncio.ConnectionError):
            await client.ping()
        await client.aclose()


@needs_redis
async def test_redis_server_url_fixture(redis_server_url: str) -> None:  # noqa: F811
    redis_asyncio = pytest.importorskip("redis.asyncio")
    client = redis_asyncio.Redis.from_url(redis_server_url)
    await rs.stop(client, "k")  # any rxstream call that writes
    assert await client.exists("k:control") == 1
    await client.aclose()


def test_redis_server_without_the_binary_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="apt-get install redis-server"):
        RedisServer(binary="/nonexistent/redis-server")
