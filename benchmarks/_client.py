"""Benchmark clients, one per process, reporting their own CPU time and memory as JSON.

``python -m benchmarks._client http CLIENT URL``: stream one long answer.
``python -m benchmarks._client concurrency CLIENT URL STREAMS``: STREAMS answers at once;
latency per chunk = receive time after parsing - the server's send time (the content).
``python -m benchmarks._client https CLIENT URL CAFILE REQUESTS CONCURRENCY``: REQUESTS
short answers over HTTPS, CONCURRENCY at a time, each client with its own connection
handling (rxstream: its default pool; the floor: one hand-kept ``ClientSession``).
Clients: ``rxstream``, ``openai-sdk``, ``floor`` (raw aiohttp + the fastest JSON).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from benchmarks._core import current_rss, peak_rss, percentile

REQUEST = {"model": "m", "messages": [{"role": "user", "content": "go"}], "stream": True}
OnText = Callable[[str], None]


async def rxstream_stream(url: str, on_text: OnText, session: Any) -> None:
    import rxstream as rs
    from rxstream import operators as ops

    stream = rs.from_http(url + "/chat/completions", json=REQUEST, session=session).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )
    await rs.run(stream, on_text)


def rxstream_traced(configured: bool) -> Callable[..., Awaitable[None]]:
    """The rxstream client with rs.chat's telemetry span on its pipeline: with an
    OpenTelemetry SDK configured (spans recorded, none exported), or installed only."""
    if configured:
        from opentelemetry import metrics, trace
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.trace import TracerProvider

        trace.set_tracer_provider(TracerProvider())
        metrics.set_meter_provider(MeterProvider())

    async def stream(url: str, on_text: OnText, session: Any) -> None:
        import rxstream as rs
        from rxstream import operators as ops
        from rxstream.telemetry import chat_span

        pipeline = rs.from_http(url + "/chat/completions", json=REQUEST, session=session).pipe(
            ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
        )
        await rs.run(pipeline.pipe(chat_span(model="m", provider="openai")), on_text)

    return stream


async def openai_stream(url: str, on_text: OnText, client: Any) -> None:
    stream = await client.chat.completions.create(
        model="m", messages=REQUEST["messages"], stream=True
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            on_text(chunk.choices[0].delta.content)


async def floor_stream(url: str, on_text: OnText, session: Any) -> None:
    try:
        import orjson

        loads: Callable[[bytes], Any] = orjson.loads
    except ImportError:
        import msgspec

        loads = msgspec.json.decode
    async with session.post(url + "/chat/completions", json=REQUEST) as response:
        buffer = b""
        async for data in response.content.iter_any():
            buffer += data
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                payload = event[6:]
                if payload == b"[DONE]":
                    return
                choices = loads(payload)["choices"]
                if choices:
                    content = choices[0]["delta"].get("content")
                    if content:
                        on_text(content)


def _client_factory(name: str, url: str) -> tuple[Callable[..., Awaitable[None]], Any]:
    if name == "openai-sdk":
        from openai import AsyncOpenAI

        return openai_stream, AsyncOpenAI(base_url=url, api_key="benchmark", max_retries=0)
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    if name.startswith("rxstream+otel"):
        return rxstream_traced(configured=name == "rxstream+otel"), session
    return (rxstream_stream if name == "rxstream" else floor_stream), session


async def _close(resource: Any) -> None:
    close = getattr(resource, "close", None)
    if close is not None:
        result = close()
        if asyncio.iscoroutine(result):
            await result


async def http(name: str, url: str) -> dict[str, Any]:
    stream, resource = _client_factory(name, url)
    received = 0

    def count(text: str) -> None:
        nonlocal received
        received += 1

    async def measured(run: Callable[..., Awaitable[None]]) -> float:
        nonlocal received
        received = 0
        cpu = time.process_time()
        await run(url, count, resource)
        return time.process_time() - cpu

    await stream(url, count, resource)  # warm-up: connections, imports, caches
    result: dict[str, Any] = {}
    if name.startswith("rxstream+otel"):
        # telemetry's cost is a ratio within this process: with and without the span,
        # alternately (the OpenTelemetry setup differs between processes)
        with_span, without = [], []
        for _ in range(5):
            with_span.append(await measured(stream))
            without.append(await measured(rxstream_stream))
        result["cpu"] = sorted(with_span)[2]
        result["cpu_without_span"] = sorted(without)[2]
    else:
        # the median of three: one warm-up leaves the first measured run noisy on this
        # machine (one-run CPU for the same code varied 2.5-6.7 µs per chunk)
        wall = time.perf_counter()
        result["cpu"] = sorted([await measured(stream) for _ in range(3)])[1]
        result["wall"] = (time.perf_counter() - wall) / 3
    result["chunks"] = received
    await _close(resource)
    return result


async def concurrency(name: str, url: str, streams: int) -> dict[str, Any]:
    stream, resource = _client_factory(name, url)
    latencies: list[float] = []
    first: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        started = time.time()
        seen = False

        def on_text(text: str) -> None:
            nonlocal seen
            now = time.time()
            latencies.append(now - float(text))
            if not seen:
                seen = True
                first.append(now - started)

        try:
            await stream(url, on_text, resource)
        except Exception:
            errors += 1

    await one()  # warm-up
    latencies.clear()
    first.clear()
    base = current_rss()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(streams)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = peak_rss()
    await _close(resource)
    return {
        "cpu_utilisation": cpu / wall,
        "latency_p50": percentile(latencies, 0.5),
        "latency_p99": percentile(latencies, 0.99),
        "ttft_p50": percentile(first, 0.5),
        "ttft_p99": percentile(first, 0.99),
        "rss_peak": peak,
        "rss_per_stream": (peak - base) / streams,
        "chunks": len(latencies),
        "errors": errors,
    }


async def https(
    name: str, url: str, cafile: str, requests: int, concurrency: int
) -> dict[str, Any]:
    """Time per request and time to first token for many short answers over HTTPS.

    Every client verifies the server against ``cafile``: rxstream and the floor through
    aiohttp's default verification (the ``SSL_CERT_FILE`` the runner sets), the openai
    SDK with its default httpx client given the same CA."""
    import ssl

    resource: Any
    if name == "openai-sdk":
        from openai import AsyncOpenAI, DefaultAsyncHttpxClient

        verify = ssl.create_default_context(cafile=cafile)
        resource = AsyncOpenAI(
            base_url=url,
            api_key="benchmark",
            max_retries=0,
            http_client=DefaultAsyncHttpxClient(verify=verify),
        )
        stream: Callable[..., Awaitable[None]] = openai_stream
    elif name == "floor":
        import aiohttp

        resource, stream = aiohttp.ClientSession(), floor_stream
    else:
        resource, stream = None, rxstream_stream  # session=None: rxstream's own pool
    first: list[float] = []

    async def one() -> None:
        started = time.perf_counter()
        seen = False

        def on_text(text: str) -> None:
            nonlocal seen
            if not seen:
                seen = True
                first.append(time.perf_counter() - started)

        await stream(url, on_text, resource)

    async def worker(count: int) -> None:
        for _ in range(count):
            await one()

    await one()  # warm-up: imports and the first connection
    first.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    share, extra = divmod(requests, concurrency)
    await asyncio.gather(*(worker(share + (n < extra)) for n in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if resource is not None:
        await _close(resource)
    return {
        "per_request": wall / requests * concurrency,
        "cpu_per_request": cpu / requests,
        "ttft_p50": percentile(first, 0.5),
        "requests": len(first),
    }


async def sdk_streams(url: str, streams: int, expected: str) -> dict[str, Any]:
    """``streams`` concurrent openai-SDK streams from ``url``: total time each, exactness."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=url, api_key="benchmark", max_retries=0)
    totals: list[float] = []
    exact = 0
    chunks = 0

    async def one() -> None:
        nonlocal exact, chunks
        started = time.perf_counter()
        stream = await client.chat.completions.create(
            model="m", messages=REQUEST["messages"], stream=True
        )
        text = []
        async for chunk in stream:
            chunks += 1
            if chunk.choices and chunk.choices[0].delta.content:
                text.append(chunk.choices[0].delta.content)
        totals.append(time.perf_counter() - started)
        exact += "".join(text) == expected

    await one()  # warm-up
    totals.clear()
    exact = chunks = 0
    await asyncio.gather(*(one() for _ in range(streams)))
    await client.close()
    return {
        "p50": percentile(totals, 0.5),
        "p99": percentile(totals, 0.99),
        "exact": exact,
        "chunks": chunks,
    }


async def memory(url: str, fault: str) -> dict[str, Any]:
    """Peak RSS growth while one faulty stream is refused (rxstream only)."""
    import rxstream as rs
    from rxstream import operators as ops

    await rs.collect(rs.from_http(url + "/chat/completions", json=REQUEST).pipe(ops.parse_sse()))
    before = current_rss()
    started = time.perf_counter()
    stream = rs.from_http(url + "/chat/completions", json=REQUEST, headers={"x-mock-fault": fault})
    error = None
    try:
        await rs.collect(stream.pipe(ops.parse_sse()))
    except rs.StreamError as exc:
        error = type(exc).__name__
    return {"error": error, "seconds": time.perf_counter() - started, "growth": peak_rss() - before}


async def idle(url: str, streams: int) -> dict[str, Any]:
    """RSS per open stream: ``streams`` rxstream pipelines, each past its first chunk."""
    import aiohttp

    import rxstream as rs
    from rxstream import operators as ops

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await rxstream_stream(url, lambda _: None, session)  # warm-up
        before = current_rss()
        started = 0
        all_started = asyncio.Event()

        def first(_: str) -> None:
            nonlocal started
            started += 1
            if started == streams:
                all_started.set()

        subscriptions = []
        for _ in range(streams):
            stream = rs.from_http(url + "/chat/completions", json=REQUEST, session=session).pipe(
                ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text(), ops.timeout(idle=60)
            )
            seen = [False]

            def on_text(text: str, seen: list[bool] = seen) -> None:
                if not seen[0]:
                    seen[0] = True
                    first(text)

            subscriptions.append(stream.subscribe(on_text))
        await asyncio.wait_for(all_started.wait(), 60)
        per_stream = (current_rss() - before) / streams
        for subscription in subscriptions:
            subscription.dispose()
    return {"per_stream": per_stream}


async def fanout(
    url: str, redis_url: str, streams: int, consumers: int, mode: str
) -> dict[str, Any]:
    """``streams`` answers, each read by ``consumers`` readers: through Redis, or in-process
    (a ``LiveStream`` per answer). Latency per chunk = read time - the server's send time."""
    import aiohttp

    import rxstream as rs
    from rxstream import operators as ops
    from rxstream.sinks import LiveStream

    latencies: list[float] = []

    def record(text: str) -> None:
        latencies.append(time.time() - float(text))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        def answer() -> Any:
            return rs.from_http(url + "/chat/completions", json=REQUEST, session=session).pipe(
                ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
            )

        if mode == "in-process":
            lives = [LiveStream(answer()).start() for _ in range(streams)]
            readers = [
                rs.run(live.observe(), lambda pair: record(pair[1]))
                for live in lives
                for _ in range(consumers)
            ]
            await asyncio.gather(*readers)
            return {
                "latency_p50": percentile(latencies, 0.5),
                "latency_p99": percentile(latencies, 0.99),
                "chunks": len(latencies),
                "round_trips": 0.0,
                "commands": 0.0,
            }
        from redis.asyncio import Connection, Redis
        from redis.asyncio.cluster import RedisCluster

        sent = [0]
        send = Connection.send_packed_command

        async def counting(self: Connection, *args: Any, **kwargs: Any) -> None:
            """Counts writes to the socket: one per command, one per pipeline (per node)."""
            sent[0] += 1
            await send(self, *args, **kwargs)

        Connection.send_packed_command = counting  # type: ignore[method-assign]
        redis: Any
        if mode == "redis-cluster":
            redis = RedisCluster.from_url(redis_url)
        else:
            redis = Redis.from_url(redis_url)
            await redis.flushdb()
        before = await _calls(redis)
        sent[0] = 0
        producers = [
            asyncio.create_task(rs.produce_once(redis, f"s{n}", answer())) for n in range(streams)
        ]
        readers = [
            rs.run(rs.from_redis_stream(redis, f"s{n}"), record)
            for n in range(streams)
            for _ in range(consumers)
        ]
        await asyncio.gather(*producers, *readers)
        round_trips = sent[0]
        calls = await _calls(redis) - before - (3 if mode == "redis-cluster" else 1)
        await redis.aclose()
        produced = len(latencies) / consumers
        return {
            "latency_p50": percentile(latencies, 0.5),
            "latency_p99": percentile(latencies, 0.99),
            "chunks": len(latencies),
            "round_trips": round_trips / produced if produced else 0.0,
            "commands": calls / produced if produced else 0.0,
        }


async def _calls(redis: Any) -> int:
    """Commands Redis ran so far (over every primary of a cluster)."""
    nodes = redis.get_primaries() if hasattr(redis, "get_primaries") else [None]
    total = 0
    for node in nodes:
        stats = await (redis.info("commandstats", target_nodes=node) if node else
                       redis.info("commandstats"))  # fmt: skip
        total += sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_"))
    return total


async def replica_ack_cost(url: str, batches: int) -> dict[str, Any]:
    """ms per pipeline of 10 XADDs to one primary, without and with ``WAIT 1`` after it
    (the producer waiting until a replica holds the batch)."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    fields: dict[Any, Any] = {"type": "delta", "data": "x" * 20}
    report = {}
    for wait in (False, True, False, True):  # alternated: this machine is noisy
        started = time.perf_counter()
        for _ in range(batches):
            pipeline = redis.pipeline(transaction=False)
            for _ in range(10):
                pipeline.xadd("{rxs0}:ack-cost", fields, maxlen=1000, approximate=True)
            if wait:
                pipeline.execute_command("WAIT", 1, 1000)
            await pipeline.execute()
        key = "with_wait" if wait else "without_wait"
        report[key] = min(report.get(key, 1e9), (time.perf_counter() - started) / batches * 1e3)
    await redis.aclose()
    return report


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    mode, client, url, *rest = sys.argv[1:]
    if mode == "fanout":
        print(json.dumps(asyncio.run(fanout(url, rest[0], int(rest[1]), int(rest[2]), client))))
        raise SystemExit(0)
    if mode == "replica-ack":
        print(json.dumps(asyncio.run(replica_ack_cost(url, int(rest[0])))))
        raise SystemExit(0)
    if mode == "http":
        outcome = asyncio.run(http(client, url))
    elif mode == "sdk":
        from benchmarks._data import text_of

        outcome = asyncio.run(sdk_streams(url, int(rest[0]), text_of(int(rest[1]))))
    elif mode == "https":
        outcome = asyncio.run(https(client, url, rest[0], int(rest[1]), int(rest[2])))
    elif mode == "concurrency":
        outcome = asyncio.run(concurrency(client, url, int(rest[0])))
    elif mode == "memory":
        outcome = asyncio.run(memory(url, rest[0]))
    else:
        outcome = asyncio.run(idle(url, int(rest[0])))
    print(json.dumps(outcome))
