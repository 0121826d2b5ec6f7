"""Scale-out on Redis Streams, against a real redis-server on 127.0.0.1 (Debian package)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import reactivex
from aiohttp import web

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.sinks import sse_response

from ..conftest import until
from .conftest import TEXT, answer, free_port, redis_asyncio

ROOT = Path(__file__).resolve().parents[2]


async def worker(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.redis.worker", *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )


async def read_all(process: asyncio.subprocess.Process) -> tuple[str, str]:
    out, _ = await asyncio.wait_for(process.communicate(), 30)
    rows = [json.loads(line) for line in out.decode().splitlines()]
    assert rows[-1][0] == "end"
    return "".join(text for _, text in rows[:-1] if text), rows[-1][1]


async def wait_for_lease(client: Any, key: str) -> None:
    await until(lambda: client.exists(f"{key}:lease"))


async def test_three_consumer_processes_each_get_the_exact_text(
    client: Any, redis_url: str, mock: MockServer
) -> None:
    producer = asyncio.create_task(rs.produce_once(client, "chat:1", answer(mock)))
    await wait_for_lease(client, "chat:1")
    consumers = [await worker("consume", redis_url, "chat:1") for _ in range(3)]
    results = await asyncio.gather(*(read_all(c) for c in consumers))
    assert await producer is True
    assert results == [(TEXT, "completed")] * 3
    assert len(mock.requests) == 1


async def test_a_killed_consumer_resumes_from_its_last_id(
    client: Any, redis_url: str, mock: MockServer
) -> None:
    producer = asyncio.create_task(rs.produce_once(client, "chat:2", answer(mock)))
    await wait_for_lease(client, "chat:2")
    first = await worker("consume", redis_url, "chat:2")
    assert first.stdout is not None
    seen: list[list[str]] = []
    while len(seen) < 5:
        seen.append(json.loads(await first.stdout.readline()))
    first.send_signal(signal.SIGKILL)  # dies mid-stream
    await first.wait()
    last_id = seen[-1][0]
    second = await worker("consume", redis_url, "chat:2", last_id)
    rest, outcome = await read_all(second)
    await producer
    assert "".join(text for _, text in seen) + rest == TEXT  # no loss, no duplicate
    assert outcome == "completed"


async def test_stop_from_another_process_cancels_the_upstream(client: Any, redis_url: str) -> None:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=20)) as slow:
        producer = asyncio.create_task(rs.produce_once(client, "chat:3", answer(slow)))
        await wait_for_lease(client, "chat:3")
        following = await worker("consume", redis_url, "chat:3")  # reads while it streams
        await until(lambda: slow.records and slow.records[-1].events_sent >= 3)
        stopper = await worker("stop", redis_url, "chat:3")
        await stopper.wait()
        await asyncio.wait_for(slow.records[-1].finished.wait(), 1)
        assert slow.records[-1].outcome == "disconnected"
        assert await producer is True  # the producer is the one that was stopped: no error
    entries = await client.xrange("chat:3")
    terminal = {k.decode(): v.decode() for k, v in entries[-1][1].items()}
    assert terminal["type"] == "stopped"
    partial = json.loads(terminal["data"])["partial_text"]
    assert partial
    assert TEXT.startswith(partial)
    # a reader that followed the answer, and one that joins after the Stop: the same
    # text, then the same ending — StreamStopped, neither a finished answer nor a failure
    for reader in (following, await worker("consume", redis_url, "chat:3")):
        text, outcome = await read_all(reader)
        assert (text, outcome) == (partial, "StreamStopped")
    with pytest.raises(rs.StreamStopped) as info:
        await rs.collect(rs.from_redis_stream(client, "chat:3"))
    assert info.value.partial_text == partial
    assert not isinstance(info.value, rs.StreamInterrupted)


async def test_stop_reaches_the_upstream_within_200_ms(client: Any) -> None:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=20)) as slow:
        producer = asyncio.create_task(rs.produce_once(client, "chat:4", answer(slow)))
        await until(lambda: slow.records and slow.records[-1].events_sent >= 2)
        asked = time.perf_counter()
        await rs.stop(client, "chat:4")
        await asyncio.wait_for(slow.records[-1].finished.wait(), 1)
        assert slow.records[-1].ended is not None
        assert slow.records[-1].ended - asked < 0.2
        await producer


async def test_two_concurrent_producers_make_one_request(client: Any, mock: MockServer) -> None:
    started = await asyncio.gather(
        rs.produce_once(client, "chat:5", answer(mock)),
        rs.produce_once(client, "chat:5", answer(mock)),
    )
    assert sorted(started) == [False, True]
    assert len(mock.requests) == 1


async def test_two_producer_processes_make_one_request(redis_url: str, mock: MockServer) -> None:
    workers = [await worker("produce", redis_url, "chat:9", mock.base_url) for _ in range(2)]
    outputs = await asyncio.gather(*(asyncio.wait_for(w.communicate(), 30) for w in workers))
    started = sorted(json.loads(out.decode())[1] for out, _ in outputs)
    assert started == [False, True]
    assert len(mock.requests) == 1


async def test_errors_are_replayed_as_the_same_type(client: Any, mock: MockServer) -> None:
    broken = rs.chat(
        [{"role": "user", "content": "x"}], model="m", base_url=mock.base_url, retry=None,
        headers={"x-mock-fault": "reset_after=4"},
    ).pipe(ops.text())  # fmt: skip
    with pytest.raises(rs.StreamInterrupted):
        await rs.produce_once(client, "chat:6", broken)
    with pytest.raises(rs.StreamInterrupted):
        await rs.collect(rs.from_redis_stream(client, "chat:6"))


async def test_expired_or_unknown_key_is_stream_expired(client: Any) -> None:
    with pytest.raises(rs.StreamExpired) as info:
        await rs.collect(rs.from_redis_stream(client, "chat:none"))
    assert info.value.key == "chat:none"


async def test_unreachable_redis_is_a_connect_error() -> None:
    dead = redis_asyncio.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1)
    with pytest.raises(rs.ConnectError, match="Redis is unreachable"):
        await rs.collect(rs.from_redis_stream(dead, "k"))
    await dead.aclose()


async def test_last_event_id_resumes_on_another_worker(
    client: Any, mock: MockServer, serve: Any
) -> None:
    await rs.produce_once(client, "chat:7", answer(mock))

    async def events(request: web.Request) -> web.StreamResponse:
        after = request.headers.get("Last-Event-ID", "0-0")
        return await sse_response(
            request, rs.from_redis_stream(client, "chat:7", after=after, with_ids=True)
        )

    workers = []
    for _ in range(2):
        app = web.Application()
        app.router.add_get("/events", events)
        workers.append(await serve(app))
    first = await rs.collect(
        rs.from_http(workers[0] + "/events", method="GET").pipe(ops.parse_sse())
    )
    deltas = [e for e in first if e.event == "delta"]
    cut = deltas[9]  # the browser saw ten events, then switched worker
    rest = await rs.collect(
        rs.from_http(
            workers[1] + "/events", method="GET", headers={"Last-Event-ID": cut.id or ""}
        ).pipe(ops.parse_sse())
    )
    resumed = "".join(e.data for e in deltas[:10]) + "".join(
        e.data for e in rest if e.event == "delta"
    )
    assert resumed == TEXT
    assert rest[-1].event == "done"


async def test_a_producer_that_lost_its_lease_stops_writing(client: Any) -> None:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=20)) as slow:
        producer = asyncio.create_task(rs.produce_once(client, "chat:8", answer(slow), lease=0.3))
        await until(lambda: slow.records and slow.records[-1].events_sent >= 2)
        await client.set("chat:8:lease", "another-worker")  # took over after a stall
        with pytest.raises(rs.StreamError, match="Lost the producer lease"):
            await asyncio.wait_for(producer, 5)
        await asyncio.wait_for(slow.records[-1].finished.wait(), 1)
        assert slow.records[-1].outcome == "disconnected"
    entries = await client.xrange("chat:8")
    assert all(fields[b"type"] == b"delta" for _, fields in entries)  # no terminal of ours
    assert await client.get("chat:8:lease") == b"another-worker"  # not released by us


async def test_readers_learn_that_a_killed_producer_will_not_finish(
    client: Any, redis_url: str
) -> None:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=20)) as slow:
        producer = await worker("produce", redis_url, "chat:10", slow.base_url, "0.5")
        await wait_for_lease(client, "chat:10")
        reading = asyncio.create_task(
            rs.collect(rs.from_redis_stream(client, "chat:10", block=200))
        )
        await until(lambda: slow.records and slow.records[-1].events_sent >= 3)
        producer.send_signal(signal.SIGKILL)  # no terminal entry, no lease renewal
        await producer.wait()
        # lease 0.5 s + one quiet period of 0.2 s, with room for a busy machine
        with pytest.raises(rs.StreamInterrupted, match="stopped without finishing"):
            await asyncio.wait_for(reading, 5)
    assert await client.ttl("chat:10") > 0  # and the half-written stream still expires


async def test_a_finished_key_is_not_produced_again(client: Any, mock: MockServer) -> None:
    assert await rs.produce_once(client, "chat:11", answer(mock)) is True
    assert await rs.produce_once(client, "chat:11", answer(mock)) is False
    assert len(mock.requests) == 1
    assert "".join(await rs.collect(rs.from_redis_stream(client, "chat:11"))) == TEXT


async def test_a_quiet_producer_keeps_its_readers(client: Any) -> None:
    from reactivex.subject import Subject

    from rxstream.sinks import to_redis_stream

    subject: Subject[str] = Subject()
    writing = asyncio.create_task(rs.run(subject, to_redis_stream(client, "chat:12", lease=0.6)))
    await asyncio.sleep(0)
    subject.on_next("thinking… ")
    await until(lambda: client.exists("chat:12"))
    reading = asyncio.create_task(rs.collect(rs.from_redis_stream(client, "chat:12", block=50)))
    # quiet for several leases, as a reasoning model is: the heartbeat keeps the lease
    done, _ = await asyncio.wait({reading}, timeout=2.0)
    assert not done
    subject.on_next("answer")
    subject.on_completed()
    await writing
    assert await reading == ["thinking… ", "answer"]


async def test_readers_link_their_span_to_the_producer(client: Any, telemetry: Any) -> None:
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    spans, _ = telemetry
    with trace.get_tracer("test").start_as_current_span("produce answer") as producer:
        await rs.run(reactivex.of("a", "b"), rs.sinks.to_redis_stream(client, "traced"))
    assert await rs.collect(rs.from_redis_stream(client, "traced")) == ["a", "b"]
    (read,) = [s for s in spans.get_finished_spans() if s.name == "redis stream read traced"]
    assert read.kind == SpanKind.CONSUMER
    (link,) = read.links
    assert link.context.trace_id == producer.get_span_context().trace_id


async def test_rs_stop_is_a_span_event_on_the_producer_span(client: Any, telemetry: Any) -> None:
    spans, _ = telemetry
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=20)) as slow:
        producing = asyncio.create_task(rs.produce_once(client, "chat:stop-span", answer(slow)))
        await until(lambda: slow.records and slow.records[-1].events_sent >= 2)
        await rs.stop(client, "chat:stop-span")
        assert await producing is True
    (span,) = [s for s in spans.get_finished_spans() if s.name.startswith("chat ")]
    assert "rxstream.stop" in [e.name for e in span.events]
