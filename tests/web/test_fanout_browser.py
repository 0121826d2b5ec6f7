"""examples/fanout in a real headless Chromium: the web-chat page behind a round-robin
balancer over two web workers, one producer worker and a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from examples.fanout.balancer import Balancer
from rxstream.mock import MockConfig, MockServer

from ..conftest import until
from .conftest import ARTIFACTS, needs_chromium, text_length_at_least

redis_asyncio = pytest.importorskip("redis.asyncio", reason="pip install -e '.[redis]'")
pytest.importorskip("playwright.async_api", reason="pip install -e '.[web]'")
pytestmark = [
    needs_chromium,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]
TEXT = " ".join(f"Balanced sentence {n} of the answer." for n in range(1, 41))


@dataclass
class Deployment:
    url: str  # the balancer: what the browser talks to
    balancer: Balancer
    workers: list[web.AppRunner]
    mock: MockServer

    def stream_workers(self) -> list[str]:
        return [backend for path, backend in self.balancer.served if "/api/stream/" in path]

    async def kill(self, backend: str) -> None:
        """Stop the web worker at ``backend`` as a crash would: its connections drop."""
        index = self.balancer.backends.index(backend)
        await self.workers[index].cleanup()


@pytest.fixture
async def deployment() -> AsyncIterator[Deployment]:
    from examples.fanout.workers import producer, web_worker
    from rxstream.testing import RedisServer

    server = RedisServer().start()
    clients = [redis_asyncio.Redis.from_url(server.url) for _ in range(3)]
    runners: list[web.AppRunner] = []

    async def serve(app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    try:
        async with MockServer(MockConfig(text=TEXT, tokens_per_second=40)) as mock:
            production = asyncio.create_task(
                producer(clients[0], base_url=mock.base_url, since="0-0")
            )
            backends = [await serve(web_worker(client)) for client in clients[1:]]
            balancer = Balancer(backends)
            url = await serve(balancer.app())
            try:
                yield Deployment(url, balancer, runners[:2], mock)
            finally:
                production.cancel()
                await asyncio.gather(production, return_exceptions=True)
                for runner in reversed(runners):
                    await runner.cleanup()
    finally:
        for client in clients:
            await client.aclose()
        server.stop()


async def test_the_answer_survives_its_web_worker_dying(deployment: Deployment, page: Any) -> None:
    await page.goto(deployment.url)
    await page.click("#send")
    await text_length_at_least(page, 60)
    serving = deployment.stream_workers()
    assert len(serving) == 1
    await deployment.kill(serving[0])  # mid-answer
    await page.wait_for_function(
        "document.getElementById('answer').dataset.state === 'done'", timeout=30_000
    )
    assert await page.text_content("#text") == TEXT  # no gap, no duplicate
    assert await page.is_hidden("#error")
    resumed_on = deployment.stream_workers()[1:]
    assert resumed_on
    assert serving[0] not in resumed_on
    assert len(deployment.mock.requests) == 1  # the producer's request ran on, once
    assert deployment.mock.records[-1].outcome == "completed"
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "fanout_switched.png"), full_page=True)


async def test_stop_through_the_balancer_cancels_the_producers_upstream(
    deployment: Deployment, page: Any
) -> None:
    await page.goto(deployment.url)
    await page.click("#send")
    await text_length_at_least(page, 40)
    await page.click("#stop")
    clicked = time.perf_counter()
    record = deployment.mock.records[-1]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.outcome == "disconnected"
    assert record.ended is not None
    assert record.ended - clicked < 0.5  # browser → balancer → worker → Redis → producer
    # the upstream request runs on the producer worker, not on the web worker that took
    # the Stop: it could only have been cancelled through Redis
    # (the mock can see the cancel before the balancer has the worker's reply to the Stop)
    await until(lambda: any("/api/stop/" in path for path, _ in deployment.balancer.served))
    shown = await page.text_content("#text") or ""
    assert shown
    assert TEXT.startswith(shown)
    assert await page.get_attribute("#answer", "data-state") == "stopped"
