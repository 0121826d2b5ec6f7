"""``from_http`` against real aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from reactivex import Observable

import rxstream as rs
from rxstream import operators as ops
from rxstream.errors import ConnectError, HTTPStatusError, RateLimitError, StreamInterrupted
from rxstream.mock import MockConfig, MockServer
from rxstream.sources._task import pending_tasks

from ..conftest import Serve, settle

pytestmark = pytest.mark.usefixtures("no_leaks")

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def chat_pipeline(url: str, **kwargs: Any) -> Observable[str]:
    return rs.from_http(url, json=REQUEST, **kwargs).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )


async def test_streams_the_mock_answer(mock_server: MockServer) -> None:
    text = "".join(await rs.collect(chat_pipeline(mock_server.chat_url)))
    assert text == "Hello there. How are you today?"
    assert mock_server.records[0].outcome == "completed"


async def test_a_finished_stream_logs_completion_not_failure(mock_server: MockServer) -> None:
    # sse_json stops reading at [DONE] and disposes the source: that is not a failure.
    with structlog.testing.capture_logs() as logs:
        await rs.collect(chat_pipeline(mock_server.chat_url))
        await settle()  # the source task has seen the dispose
    # capture_logs is process-wide: look only at this test's stream
    events = [entry["event"] for entry in logs if entry.get("url") == mock_server.chat_url]
    assert "request_started" in events
    assert "stream_failed" not in events


async def test_each_subscription_is_a_new_request(mock_server: MockServer) -> None:
    stream = chat_pipeline(mock_server.chat_url)
    first, second = await asyncio.gather(rs.collect(stream), rs.collect(stream))
    assert first == second
    assert len(mock_server.records) == 2


async def test_non_2xx_becomes_http_status_error_with_body(serve: Serve) -> None:
    async def fail(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": {"message": "The server had an error", "type": "server_error"}},
            status=503,
            headers={"x-request-id": "req-1"},
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", fail)
    base = await serve(app)
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(rs.from_http(base + "/v1/chat/completions", json=REQUEST))
    error = info.value
    assert error.status == 503
    assert error.headers["x-request-id"] == "req-1"
    assert "The server had an error" in error.body
    assert "HTTP 503" in str(error)
    assert error.attempts == 1


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "1.5", "retry-after-ms": "250"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
async def test_429_becomes_rate_limit_error(
    serve: Serve, headers: dict[str, str], expected: float | None
) -> None:
    async def limited(request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "slow down"}}, status=429, headers=headers)

    app = web.Application()
    app.router.add_post("/", limited)
    base = await serve(app)
    with pytest.raises(RateLimitError) as info:
        await rs.collect(rs.from_http(base + "/", json=REQUEST))
    assert info.value.status == 429
    assert info.value.retry_after == expected


async def test_retry_after_http_date(serve: Serve) -> None:
    from email.utils import formatdate

    async def limited(request: web.Request) -> web.Response:
        return web.Response(
            status=429, headers={"retry-after": formatdate(time.time() + 30, usegmt=True)}
        )

    app = web.Application()
    app.router.add_post("/", limited)
    base = await serve(app)
    with pytest.raises(RateLimitError) as info:
        await rs.collect(rs.from_http(base + "/", json=REQUEST))
    assert info.value.retry_after is not None
    assert 28 <= info.value.retry_after <= 31


async def test_huge_error_body_is_read_only_up_to_64_kib(serve: Serve) -> None:
    sent: list[int] = []

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=500)
        await response.prepare(request)
        try:
            for _ in range(1000):  # 64 MiB if anyone read it all
                await response.write(b"E" * 65536)
                sent.append(1)
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    app = web.Application()
    app.router.add_post("/", huge)
    base = await serve(app)
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(rs.from_http(base + "/", json=REQUEST))
    assert info.value.status == 500
    assert len(info.value.body) <= 2048
    assert len(sent) < 1000  # the client closed instead of draining


async def test_redirects_are_not_followed_by_default(serve: Serve) -> None:
    hits: list[str] = []

    async def target(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="data: x\n\n")

    target_app = web.Application()
    target_app.router.add_post("/elsewhere", target)
    target_base = await serve(target_app)

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(target_base + "/elsewhere")

    app = web.Application()
    app.router.add_post("/", redirect)
    base = await serve(app)
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(rs.from_http(base + "/", json=REQUEST))
    assert info.value.status == 307
    assert info.value.headers["Location"] == target_base + "/elsewhere"
    assert "follow_redirects=True" in str(info.value)
    assert hits == []
    chunks = await rs.collect(rs.from_http(base + "/", json=REQUEST, follow_redirects=True))
    assert b"".join(chunks) == b"data: x\n\n"
    assert hits == ["/elsewhere"]


async def test_connection_refused_is_connect_error() -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectError, match="Could not connect") as info:
        await rs.collect(rs.from_http(f"http://127.0.0.1:{port}/v1/chat/completions", json=REQUEST))
    assert info.value.attempts == 1
    assert info.value.__context__ is None
    assert info.value.__cause__ is None


async def test_connection_lost_mid_body_is_stream_interrupted_with_partial_text(
    serve: Serve,
) -> None:
    async def breaks(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b'data: {"choices":[{"index":0,"delta":{"content":"partial "}}]}\n\n')
        await response.write(b'data: {"choices":[{"index":0,"delta":{"content":"answer"}}]}\n\n')
        await asyncio.sleep(0.05)  # let the client read both events before the reset
        assert request.transport is not None
        request.transport.abort()
        return response

    app = web.Application()
    app.router.add_post("/", breaks)
    base = await serve(app)
    stream = rs.from_http(base + "/", json=REQUEST).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat()
    )
    with pytest.raises(StreamInterrupted) as info:
        await rs.collect(stream)
    assert info.value.partial_text == "partial answer"
    assert "broke mid-stream" in str(info.value)
    assert not isinstance(info.value.__context__, aiohttp.ClientError)


async def test_clean_end_without_done_or_finish_is_interrupted(serve: Serve) -> None:
    async def truncated(request: web.Request) -> web.Response:
        body = b'data: {"choices":[{"index":0,"delta":{"content":"cut"}}]}\n\n'
        return web.Response(body=body, content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/", truncated)
    base = await serve(app)
    stream = rs.from_http(base + "/", json=REQUEST).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat()
    )
    with pytest.raises(StreamInterrupted) as info:
        await rs.collect(stream)
    assert info.value.partial_text == "cut"


async def test_dispose_closes_the_connection_at_once() -> None:
    async with MockServer(MockConfig(tokens_per_second=20)) as server:
        first = asyncio.Event()
        received: list[str] = []

        def on_next(item: str) -> None:
            received.append(item)
            first.set()

        subscription = chat_pipeline(server.chat_url).subscribe(on_next)
        await asyncio.wait_for(first.wait(), 5)
        disposed_at = time.perf_counter()
        subscription.dispose()
        record = server.records[0]
        await asyncio.wait_for(record.finished.wait(), 1)
        assert record.outcome == "disconnected"
        assert record.ended is not None
        assert record.ended - disposed_at < 0.1
        count = len(received)
        await settle()  # the source task is gone: nothing can arrive any more
        assert pending_tasks() == []
        assert len(received) == count


async def test_internal_session_is_closed_and_user_session_left_open(
    mock_server: MockServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            await rs.collect(chat_pipeline(mock_server.chat_url, session=session))
        assert not session.closed
        connector = session.connector
        assert connector is not None
        assert sum(len(c) for c in connector._acquired_per_host.values()) == 0


async def test_invalid_url_is_rejected_eagerly() -> None:
    with pytest.raises(ValueError, match="absolute http"):
        rs.from_http("ftp://example.invalid/x")
    with pytest.raises(ValueError, match=r"key=\[redacted\]"):
        rs.from_http("/relative?key=sk-secret")
