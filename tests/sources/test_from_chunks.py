from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler

import rxstream as rs

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed


def test_from_chunks_without_interval_is_synchronous_and_encodes_text() -> None:
    assert rs.from_chunks([b"a", "é"]).pipe(rx_ops.to_list()).run() == [b"a", "é".encode()]


def test_from_chunks_can_be_subscribed_again() -> None:
    stream = rs.from_chunks([b"a", "b"])
    assert stream.pipe(rx_ops.to_list()).run() == [b"a", b"b"]
    assert stream.pipe(rx_ops.to_list()).run() == [b"a", b"b"]
    assert rs.from_chunks([b"x"]).pipe(rx_ops.to_list()).run() == [b"x"]


def test_from_chunks_with_interval_in_virtual_time() -> None:
    scheduler = TestScheduler()
    results = scheduler.start(
        lambda: rs.from_chunks([b"a", b"b", b"c"], interval=5, scheduler=scheduler)
    )
    assert results.messages == [
        on_next(200, b"a"),
        on_next(205, b"b"),
        on_next(210, b"c"),
        on_completed(215),
    ]


def test_from_chunks_with_interval_stops_on_dispose() -> None:
    scheduler = TestScheduler()
    results = scheduler.start(
        lambda: rs.from_chunks([b"a", b"b", b"c"], interval=5, scheduler=scheduler), disposed=207
    )
    assert results.messages == [on_next(200, b"a"), on_next(205, b"b")]


def test_negative_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match="interval"):
        rs.from_chunks([b"a"], interval=-1)


async def test_from_chunks_with_interval_on_the_loop() -> None:
    assert await rs.collect(rs.from_chunks([b"x", b"y"], interval=0.001)) == [b"x", b"y"]


async def test_from_file_reads_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "body.sse"
    path.write_bytes(b"data: one\n\n" * 1000)
    chunks = await rs.collect(rs.from_file(path, chunk_size=4096))
    assert b"".join(chunks) == path.read_bytes()
    assert max(map(len, chunks)) == 4096
    events = await rs.collect(rs.from_file(path).pipe(rs.operators.parse_sse()))
    assert len(events) == 1000


async def test_from_file_missing_file_errors() -> None:
    with pytest.raises(FileNotFoundError):
        await rs.collect(rs.from_file("/nonexistent/rxstream.sse"))


async def test_from_async_iterable_and_factory() -> None:
    closed: list[bool] = []

    async def generate() -> AsyncIterator[bytes]:
        try:
            for part in (b"data: a\n\n", b"data: b\n\n"):
                await asyncio.sleep(0)
                yield part
        finally:
            closed.append(True)

    stream = rs.from_async_iterable(generate).pipe(rs.operators.parse_sse())
    assert [e.data for e in await rs.collect(stream)] == ["a", "b"]
    assert [e.data for e in await rs.collect(stream)] == ["a", "b"]  # a factory is re-run
    assert closed == [True, True]


async def test_from_async_iterable_dispose_closes_the_iterator() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[int]:
        try:
            n = 0
            while True:
                await asyncio.sleep(0)
                n += 1
                yield n
        finally:
            closed.set()

    async with rs.iterate(rs.from_async_iterable(endless)) as items:
        assert await anext(items) == 1
    await asyncio.wait_for(closed.wait(), 1)


def test_sources_outside_a_loop_fail_clearly() -> None:
    errors: list[Exception] = []
    rs.from_http("http://127.0.0.1:9/").subscribe(on_error=errors.append)
    assert isinstance(errors[0], RuntimeError)
    assert "running asyncio event loop" in str(errors[0])
