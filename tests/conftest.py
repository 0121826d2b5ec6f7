"""Fixtures: servers on 127.0.0.1 only, and leak checks after every networked test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import structlog
from aiohttp import web

from rxstream.mock import MockConfig, MockServer
from rxstream.sources._task import pending_tasks
from rxstream.testing import assert_no_leaks

Serve = Callable[[web.Application], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start aiohttp apps on free loopback ports; yields a function returning the base URL."""
    runners: list[web.AppRunner] = []

    async def start(app: web.Application) -> str:
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture(scope="session")
def exporters() -> tuple[Any, Any]:
    """The process's OpenTelemetry providers, exporting to memory. Set once per session:
    they are process-wide globals that OpenTelemetry refuses to replace."""
    pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(tracer_provider)
    # delta temporality: each read returns what was recorded since the last one
    reader = InMemoryMetricReader(preferred_temporality={Histogram: AggregationTemporality.DELTA})
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return spans, reader


@pytest.fixture
def telemetry(exporters: tuple[Any, Any]) -> tuple[Any, Any]:
    """The in-memory span exporter and metric reader, emptied for this test."""
    spans, reader = exporters
    spans.clear()
    reader.get_metrics_data()  # what earlier tests recorded is read (and so dropped) here
    return spans, reader


@pytest.fixture
async def mock_server() -> AsyncIterator[MockServer]:
    """The embedded mock, streaming as fast as it can."""
    async with MockServer(MockConfig(text="Hello there. How are you today?")) as server:
        yield server


async def settle() -> None:
    """Wait (up to 1 s) until every rxstream source task has finished, e.g. after a dispose."""
    leftover = pending_tasks()
    if leftover:
        await asyncio.wait(leftover, timeout=1.0)


@pytest.fixture
async def no_leaks() -> AsyncIterator[None]:
    """After the test: every rxstream source task finished (a cancelled one gets 1 s)."""
    yield
    await assert_no_leaks()


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    """The CLI configures structlog for the whole process: undo it after each test."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


async def until(condition: Callable[[], Any], *, within: float = 5.0) -> None:
    """Wait until ``condition()`` (sync or async) is true; fail after ``within`` seconds.

    For state that only another process or server can change, so no event exists to
    await: a short poll with a deadline, never a fixed sleep.
    """
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.005)
