from __future__ import annotations

import asyncio
import io
from typing import Any

import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as rx_ops
from reactivex.subject import Subject

import rxstream as rs
from rxstream import operators as ops
from rxstream.errors import BufferOverflow
from rxstream.mock import MockConfig, MockServer
from rxstream.models import TextDelta, ToolCallDelta

pytestmark = pytest.mark.usefixtures("no_leaks")

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


def slow_text(server: MockServer) -> Observable[str]:
    return rs.from_http(server.chat_url, json=REQUEST).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )


async def test_collect_returns_items_and_raises_errors() -> None:
    assert await rs.collect(reactivex.of(1, 2, 3)) == [1, 2, 3]
    with pytest.raises(ValueError, match="bad"):
        await rs.collect(reactivex.throw(ValueError("bad")))


async def test_breaking_out_of_iterate_closes_the_connection() -> None:
    async with MockServer(MockConfig(tokens_per_second=50)) as server:
        async for _ in rs.iterate(slow_text(server)):
            break
        record = server.records[0]
        await asyncio.wait_for(record.finished.wait(), 1)
        assert record.outcome == "disconnected"


async def test_cancelling_collect_closes_the_connection() -> None:
    async with MockServer(MockConfig(tokens_per_second=50)) as server:
        first = asyncio.Event()
        stream = slow_text(server).pipe(rx_ops.do_action(on_next=lambda _: first.set()))
        task = asyncio.create_task(rs.collect(stream))
        await asyncio.wait_for(first.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.records[0].finished.wait(), 1)
        assert server.records[0].outcome == "disconnected"


async def test_iterate_as_context_manager_and_aclose() -> None:
    subject: Subject[int] = Subject()
    async with rs.iterate(subject) as items:
        subject.on_next(1)
        subject.on_next(2)
        assert await anext(items) == 1
    assert not subject.observers  # leaving the block unsubscribed
    with pytest.raises(StopAsyncIteration):
        await anext(items)


async def test_iterate_delivers_buffered_items_before_the_error() -> None:
    stream = reactivex.concat(reactivex.of(1, 2), reactivex.throw(RuntimeError("end")))
    got: list[int] = []
    with pytest.raises(RuntimeError, match="end"):
        async for item in rs.iterate(stream):
            got.append(item)
    assert got == [1, 2]


async def test_iterate_overflow_error_keeps_what_was_buffered() -> None:
    subject: Subject[int] = Subject()
    got: list[int] = []
    async with rs.iterate(subject, max_buffer=3) as items:
        for n in range(10):
            subject.on_next(n)
        with pytest.raises(BufferOverflow) as info:
            async for item in items:
                got.append(item)
    assert got == [0, 1, 2]
    assert info.value.limit == 3
    assert not subject.observers  # the upstream was disposed at the overflow


async def test_iterate_drop_oldest_keeps_the_newest() -> None:
    subject: Subject[int] = Subject()
    async with rs.iterate(subject, max_buffer=2, overflow="drop_oldest") as items:
        for n in range(5):
            subject.on_next(n)
        subject.on_completed()
        assert [item async for item in items] == [3, 4]


def test_iterate_validates_options() -> None:
    with pytest.raises(ValueError, match="max_buffer"):
        rs.iterate(reactivex.empty(), max_buffer=0)
    with pytest.raises(ValueError, match="overflow"):
        rs.iterate(reactivex.empty(), overflow="block")  # type: ignore[arg-type]


async def test_run_with_sync_and_async_callables() -> None:
    seen: list[int] = []
    await rs.run(reactivex.of(1, 2), seen.append)

    async def store(item: int) -> None:
        await asyncio.sleep(0)
        seen.append(item * 10)

    await rs.run(reactivex.of(3), store)
    assert seen == [1, 2, 30]


async def test_run_turns_callback_exceptions_into_the_error() -> None:
    def explode(item: int) -> None:
        raise KeyError(item)

    subject: Subject[int] = Subject()
    task = asyncio.create_task(rs.run(subject, explode))
    await asyncio.sleep(0)
    subject.on_next(7)
    with pytest.raises(KeyError):
        await task
    assert not subject.observers


class RecordingSink:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.closed_with: list[BaseException | None] = []

    async def send(self, item: Any) -> None:
        self.items.append(item)

    async def close(self, error: BaseException | None) -> None:
        self.closed_with.append(error)


async def test_run_with_a_sink_closes_it_with_the_outcome() -> None:
    sink = RecordingSink()
    await rs.run(reactivex.of("a", "b"), sink)
    assert (sink.items, sink.closed_with) == (["a", "b"], [None])

    failing = RecordingSink()
    with pytest.raises(ZeroDivisionError):
        await rs.run(reactivex.throw(ZeroDivisionError()), failing)
    assert isinstance(failing.closed_with[0], ZeroDivisionError)


async def test_console_sink_renders_text_only() -> None:
    out = io.StringIO()
    items = ["Hel", TextDelta("lo"), ToolCallDelta(0, "{}", name="f"), TextDelta("!")]
    await rs.run(reactivex.from_iterable(items), rs.sinks.console(out))
    assert out.getvalue() == "Hello!\n"


async def test_console_sink_with_the_mock(mock_server: MockServer) -> None:
    out = io.StringIO()
    await rs.run(slow_text(mock_server), rs.sinks.console(out))
    assert out.getvalue() == "Hello there. How are you today?\n"
