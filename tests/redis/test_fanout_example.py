"""examples/fanout: a chat started on one web worker is served by another."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

import rxstream as rs
from examples.fanout.workers import producer, web_worker
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer

from ..conftest import until

PARAGRAPHS = [f"Fanout paragraph {n} with *emphasis*." for n in range(1, 21)]
TEXT = "\n\n".join(PARAGRAPHS)


@pytest.fixture
async def workers(client: Any, serve: Any) -> AsyncIterator[tuple[list[str], MockServer]]:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=80)) as mock:
        # a fresh database: read every job, whenever the producer gets to it
        production = asyncio.create_task(producer(client, base_url=mock.base_url, since="0-0"))
        urls = [await serve(web_worker(client)) for _ in range(2)]
        try:
            yield urls, mock
        finally:
            production.cancel()
            await asyncio.gather(production, return_exceptions=True)


async def start_chat(url: str) -> str:
    response = await rs.collect(rs.from_http(url + "/api/chat", json={"prompt": "go"}))
    return str(msgspec.json.decode(b"".join(response))["id"])


async def test_switching_workers_mid_answer_loses_and_repeats_nothing(workers: Any) -> None:
    (a, b), mock = workers
    chat_id = await start_chat(a)
    seen: list[Any] = []
    async for event in rs.iterate(
        rs.from_http(f"{a}/api/stream/{chat_id}", method="GET").pipe(ops.parse_sse())
    ):
        if event.event in ("block", "tail"):
            seen.append(event)
        if sum(e.event == "block" for e in seen) == 5:
            break  # the browser drops this worker
    rest = await rs.collect(
        rs.from_http(
            f"{b}/api/stream/{chat_id}", method="GET", headers={"Last-Event-ID": seen[-1].id}
        ).pipe(ops.parse_sse())
    )
    blocks = [e.data for e in [*seen, *rest] if e.event == "block"]
    expected = [f"<p>Fanout paragraph {n} with <em>emphasis</em>.</p>\n" for n in range(1, 21)]
    assert blocks == expected  # each finished block once, in order, as sanitized HTML
    tails = [e.data.strip() for e in [*seen, *rest] if e.event == "tail"]
    assert all(any(p.startswith(tail) for p in PARAGRAPHS) for tail in tails)  # raw text
    assert rest[-1].event == "done"
    assert len(mock.requests) == 1


async def test_stop_on_the_other_worker_cancels_the_upstream(workers: Any) -> None:
    (a, b), mock = workers
    chat_id = await start_chat(a)
    await until(lambda: mock.records and mock.records[-1].events_sent >= 3)
    await rs.collect(rs.from_http(f"{b}/api/stop/{chat_id}", method="POST"))
    await asyncio.wait_for(mock.records[-1].finished.wait(), 1)
    assert mock.records[-1].outcome == "disconnected"


async def test_a_forged_last_event_id_is_a_400(workers: Any) -> None:
    (a, _), _ = workers
    chat_id = await start_chat(a)
    with pytest.raises(rs.HTTPStatusError) as info:
        await rs.collect(
            rs.from_http(
                f"{a}/api/stream/{chat_id}", method="GET", headers={"Last-Event-ID": "x-y"}
            )
        )
    assert info.value.status == 400


async def test_the_producer_worker_continues_the_browser_trace(
    workers: Any, telemetry: Any
) -> None:
    spans, _ = telemetry
    (a, _), mock = workers
    trace_id = "5b8efff798038103d269b633813fc60c"
    started = rs.from_http(
        f"{a}/api/chat",
        json={"prompt": "go"},
        headers={"traceparent": f"00-{trace_id}-eee19b7ec3c1b174-01"},
    )
    chat_id = str(msgspec.json.decode(b"".join(await rs.collect(started)))["id"])
    await rs.collect(rs.from_http(f"{a}/api/stream/{chat_id}", method="GET"))
    await until(lambda: any(s.name.startswith("chat ") for s in spans.get_finished_spans()))
    chat = next(s for s in spans.get_finished_spans() if s.name.startswith("chat "))
    assert format(chat.context.trace_id, "032x") == trace_id
    assert mock.requests[-1].headers["traceparent"].split("-")[1] == trace_id
