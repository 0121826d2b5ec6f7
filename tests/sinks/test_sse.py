"""sse_response and LiveStream over a real aiohttp server, read with our own SSE parser."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import reactivex
from aiohttp import web
from reactivex import operators as rx_ops
from reactivex.subject import Subject

import rxstream as rs
from rxstream import operators as ops
from rxstream.errors import StreamInterrupted, StreamStopped
from rxstream.models import SSEEvent, TextDelta, ToolCallDelta
from rxstream.sinks import LiveStream, encode_event, sse_response

from ..conftest import Serve


async def read_events(url: str, headers: dict[str, str] | None = None) -> list[Any]:
    return await rs.collect(rs.from_http(url, method="GET", headers=headers).pipe(ops.parse_sse()))


def test_encoding_names_ids_and_multiline_data() -> None:
    assert encode_event("a\nb", 3) == b"event: delta\nid: 3\ndata: a\ndata: b\n\n"
    tool = encode_event(ToolCallDelta(0, "{}", id="c1", name="f"), 4).decode()
    assert tool.startswith("event: tool_call\nid: 4\ndata: {")
    assert '"name":"f"' in tool
    assert encode_event({"x": 1}, None, name="done") == b'event: done\ndata: {"x":1}\n\n'
    named = SSEEvent("<p>hi</p>\n", event="block", id="ignored")
    assert encode_event(named, 5) == b"event: block\nid: 5\ndata: <p>hi</p>\ndata: \n\n"


async def test_items_ids_done_and_error(serve: Serve) -> None:
    async def ok(request: web.Request) -> web.StreamResponse:
        return await sse_response(
            request, reactivex.of("Hel", TextDelta("lo"), ToolCallDelta(0, "{}", name="f"))
        )

    async def failing(request: web.Request) -> web.StreamResponse:
        source = reactivex.concat(
            reactivex.of("x"), reactivex.throw(rs.ProviderError("busy", type="overloaded_error"))
        )
        return await sse_response(request, source)

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/failing", failing)
    base = await serve(app)
    events = await read_events(base + "/ok")
    assert [(e.event, e.id, e.data) for e in events[:2]] == [
        ("delta", "1", "Hel"),
        ("delta", "2", "lo"),
    ]
    assert (events[2].event, events[2].id) == ("tool_call", "3")
    assert events[-1].event == "done"
    events = await read_events(base + "/failing")
    assert events[-1].event == "error"
    assert '"type":"ProviderError"' in events[-1].data


async def test_keepalive_comments_while_idle(serve: Serve) -> None:
    subject: Subject[str] = Subject()

    async def slow(request: web.Request) -> web.StreamResponse:
        return await sse_response(request, subject, keepalive=0.1)

    app = web.Application()
    app.router.add_get("/", slow)
    base = await serve(app)
    chunks: list[bytes] = []
    async with aiohttp.ClientSession() as session, session.get(base) as response:
        async for chunk in response.content.iter_any():
            chunks.append(chunk)
            if b": keep-alive" in b"".join(chunks):
                break
    assert b": keep-alive\n\n" in b"".join(chunks)


async def test_disconnect_disposes_a_plain_upstream(serve: Serve) -> None:
    disposed = asyncio.Event()
    subject: Subject[str] = Subject()
    source = subject.pipe(rx_ops.finally_action(disposed.set))

    async def handler(request: web.Request) -> web.StreamResponse:
        return await sse_response(request, source)

    app = web.Application()
    app.router.add_get("/", handler)
    base = await serve(app)
    async with aiohttp.ClientSession() as session, session.get(base) as response:
        subject.on_next("first")
        await response.content.readuntil(b"\n\n")
    await asyncio.wait_for(disposed.wait(), 1)  # client gone: upstream disposed


@pytest.fixture
async def live_server(serve: Serve) -> AsyncIterator[tuple[str, Subject[str], LiveStream]]:
    subject: Subject[str] = Subject()
    live = LiveStream(subject, replay=5, linger=60).start()

    async def handler(request: web.Request) -> web.StreamResponse:
        return await sse_response(request, live)

    app = web.Application()
    app.router.add_get("/", handler)
    yield await serve(app), subject, live
    live.stop()


async def test_live_stream_resumes_after_last_event_id(live_server: Any) -> None:
    base, subject, _ = live_server
    for word in ("a", "b", "c"):
        subject.on_next(word)
    subject.on_completed()
    events = await read_events(base, {"Last-Event-ID": "1"})
    assert [(e.id, e.data) for e in events if e.event == "delta"] == [("2", "b"), ("3", "c")]
    assert events[-1].event == "done"


async def test_a_resume_point_outside_the_buffer_is_an_error_not_a_gap(live_server: Any) -> None:
    base, subject, live = live_server
    for n in range(10):  # buffer keeps 5
        subject.on_next(str(n))
    subject.on_completed()
    events = await read_events(base, {"Last-Event-ID": "2"})
    assert [e.event for e in events] == ["error"]
    assert "StreamInterrupted" in events[0].data
    with pytest.raises(StreamInterrupted):
        await rs.collect(live.observe(2))


async def test_stop_cancels_the_upstream() -> None:
    disposed = asyncio.Event()
    subject: Subject[str] = Subject()
    live = LiveStream(subject.pipe(rx_ops.finally_action(disposed.set))).start()
    live.stop()
    await asyncio.wait_for(disposed.wait(), 1)
    assert live.outcome == "stopped"
    with pytest.raises(StreamStopped):
        await rs.collect(live.observe())


async def test_stop_ends_every_subscriber_and_late_joiner_with_stream_stopped() -> None:
    subject: Subject[Any] = Subject()
    live = LiveStream(subject).start()
    following = asyncio.ensure_future(rs.collect(live.observe()))
    await asyncio.sleep(0)  # let the follower subscribe
    subject.on_next("Hel")
    subject.on_next(TextDelta("lo"))
    live.stop()
    with pytest.raises(StreamStopped) as info:
        await following
    assert info.value.partial_text == "Hello"
    assert not isinstance(info.value, StreamInterrupted)  # not a lost connection
    seen: list[Any] = []
    with pytest.raises(StreamStopped) as late:  # joins after the Stop: what was sent, then Stop
        await rs.run(live.observe(after=1), seen.append)
    assert seen == [(2, TextDelta("lo"))]
    assert late.value.partial_text == "Hello"


async def test_sse_response_sends_a_stop_as_its_own_final_event(serve: Serve) -> None:
    subject: Subject[str] = Subject()
    live = LiveStream(subject).start()
    subject.on_next("partial")

    async def handler(request: web.Request) -> web.StreamResponse:
        # another tab presses Stop while this one is being served its first event
        return await sse_response(request, live, on_item=lambda _: live.stop())

    app = web.Application()
    app.router.add_get("/", handler)
    events = await read_events(await serve(app) + "/")
    assert [e.event for e in events] == ["delta", "stopped"]  # not "done", not "error"
    assert json.loads(events[-1].data) == {"partial_text": "partial"}
