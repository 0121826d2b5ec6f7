"""Cancellation and resources through the full rs.chat pipeline (promises 10, 22, 23)."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any

import aiohttp
import pytest
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream.mock import MockConfig, MockServer
from rxstream.sources._http import DEFAULT_CONNECT_TIMEOUT
from rxstream.sources._task import pending_tasks

from ..conftest import settle

pytestmark = pytest.mark.usefixtures("no_leaks")

MESSAGES = [{"role": "user", "content": "hi"}]


def acquired(session: aiohttp.ClientSession) -> int:
    connector = session.connector
    assert connector is not None
    return sum(len(c) for c in connector._acquired_per_host.values())


async def first_item(stream: Any) -> tuple[Any, asyncio.Event]:
    started = asyncio.Event()
    return stream.pipe(rx_ops.do_action(on_next=lambda _: started.set())), started


@pytest.mark.parametrize("how", ["dispose", "cancel_run", "cancel_collect", "break_iterate"])
async def test_every_way_of_stopping_closes_the_socket_at_once(how: str) -> None:
    async with (
        MockServer(MockConfig(tokens_per_second=30)) as server,
        aiohttp.ClientSession() as session,
    ):
        stream, started = await first_item(
            rs.chat(MESSAGES, model="m", base_url=server.base_url, session=session)
        )
        received: list[Any] = []
        if how == "dispose":
            subscription = stream.subscribe(received.append)
            await asyncio.wait_for(started.wait(), 5)
            stopped_at = time.perf_counter()
            subscription.dispose()
        elif how == "break_iterate":
            async for item in rs.iterate(stream):
                received.append(item)
                break
            stopped_at = time.perf_counter()
        else:
            coroutine = (
                rs.run(stream, received.append) if how == "cancel_run" else rs.collect(stream)
            )
            task = asyncio.create_task(coroutine)
            await asyncio.wait_for(started.wait(), 5)
            stopped_at = time.perf_counter()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        record = server.records[0]
        await asyncio.wait_for(record.finished.wait(), 1)
        assert record.outcome == "disconnected"
        assert record.ended is not None
        assert record.ended - stopped_at < 0.1
        count = len(received)
        await settle()
        assert pending_tasks() == []
        assert len(received) == count  # nothing after the stop
        assert len(server.requests) == 1  # and no retry was started
        assert acquired(session) == 0
        assert not session.closed  # the user's session is left open


async def test_internal_sessions_are_closed_in_success_and_failure() -> None:
    # Unclosed sessions would raise ResourceWarning, an error under this suite's filters.
    async with MockServer() as server:
        await rs.collect(rs.chat(MESSAGES, model="m", base_url=server.base_url))
        with pytest.raises(rs.HTTPStatusError):
            await rs.collect(
                rs.chat(
                    MESSAGES,
                    model="m",
                    base_url=server.base_url,
                    headers={"x-mock-fault": "status=400"},
                )
            )


def test_chat_defaults_never_hang() -> None:
    parameters = inspect.signature(rs.chat).parameters
    assert parameters["first"].default == 120.0
    assert parameters["idle"].default == 120.0
    assert parameters["total"].default is None
    assert parameters["retry"].default == rs.RetryPolicy()
    assert DEFAULT_CONNECT_TIMEOUT == 10.0


async def test_a_stalled_server_is_detected_within_idle_plus_one_second() -> None:
    async with MockServer() as server:
        stream = rs.chat(
            MESSAGES,
            model="m",
            base_url=server.base_url,
            idle=0.5,
            headers={"x-mock-fault": "stall_after=3"},
        )
        started = time.perf_counter()
        with pytest.raises(rs.StreamError):
            await rs.collect(stream)
        assert time.perf_counter() - started < 0.5 + 1


async def test_total_bounds_all_attempts() -> None:
    async with MockServer() as server:
        stream = rs.chat(
            MESSAGES,
            model="m",
            base_url=server.base_url,
            first=0.2,
            total=0.5,
            retry=rs.RetryPolicy(jitter=None, initial_delay=0.05, max_retries=10),
            headers={"x-mock-fault": "never_respond"},
        )
        with pytest.raises(rs.StreamTimeout) as info:
            await rs.collect(stream)
        assert info.value.which == "total"
