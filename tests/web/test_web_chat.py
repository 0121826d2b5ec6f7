"""The web chat in a real headless Chromium (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from examples.web_chat.app import create_app
from rxstream.mock import MockConfig, MockServer

from .conftest import ARTIFACTS, needs_chromium, text_length_at_least

pytest.importorskip("playwright.async_api", reason="pip install -e '.[web]'")
pytestmark = needs_chromium
TEXT = " ".join(f"Sentence number {n} of a long streamed answer." for n in range(1, 41))


@pytest.fixture
async def site() -> AsyncIterator[tuple[str, MockServer]]:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=60)) as mock:
        app = create_app(base_url=mock.base_url, refresh=0.05, testing=True)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        try:
            yield f"http://{host}:{port}", mock
        finally:
            await runner.cleanup()


async def test_stop_keeps_the_partial_answer_and_cancels_upstream(
    site: tuple[str, MockServer], page: Any
) -> None:
    url, mock = site

    async def slow_start(route: Any) -> None:
        await asyncio.sleep(0.3)  # hold the request, so the indicator is seen for sure
        await route.continue_()

    await page.route("**/api/chat", slow_start)
    await page.goto(url)
    await page.click("#send")
    await page.wait_for_selector("#typing", state="visible")  # the indicator, before any token
    await text_length_at_least(page, 40)
    assert await page.is_hidden("#typing")  # the indicator goes once text arrives
    first = await page.text_content("#text")
    await text_length_at_least(page, len(first or "") + 20)  # the text grows
    await page.click("#stop")
    clicked = time.perf_counter()
    record = mock.records[-1]
    await record.finished.wait()
    assert record.outcome == "disconnected"
    assert record.ended is not None
    assert record.ended - clicked < 0.2  # the upstream request was cancelled at once
    assert await page.get_attribute("#answer", "data-state") == "stopped"
    assert "(stopped)" in (await page.text_content("#status") or "")
    shown = await page.text_content("#text") or ""
    assert shown
    assert TEXT.startswith(shown)  # the partial answer is kept, exactly
    assert len(shown) < len(TEXT)
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web_chat_stopped.png"), full_page=True)


async def test_a_dropped_connection_resumes_without_duplicates(
    site: tuple[str, MockServer], page: Any
) -> None:
    url, mock = site
    await page.goto(url)
    await page.click("#send")
    await text_length_at_least(page, 60)
    chat_id = await page.get_attribute("#answer", "data-stream-id")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/api/test/drop/{chat_id}") as response,
    ):
        assert (await response.json())["dropped"] == 1
    await page.wait_for_function(
        "document.getElementById('answer').dataset.state === 'done'", timeout=30_000
    )
    assert await page.text_content("#text") == TEXT  # every token once, in order
    assert await page.is_hidden("#error")
    assert mock.records[-1].outcome == "completed"  # the upstream was never restarted
    assert len(mock.requests) == 1
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web_chat_done.png"), full_page=True)


async def test_typed_errors_show_a_banner(page: Any) -> None:
    async with MockServer() as mock:
        # The mock answers 401 to every request: a typed, non-retryable error.
        app = create_app(base_url=mock.base_url, headers={"x-mock-fault": "status=401"})
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        try:
            await page.goto(f"http://{host}:{port}")
            await page.click("#send")
            await page.wait_for_selector("#error", state="visible")
            banner = await page.text_content("#error") or ""
            assert banner.startswith("HTTPStatusError: HTTP 401")
            assert await page.get_attribute("#answer", "data-state") == "error"
            assert await page.is_hidden("#typing")
        finally:
            await runner.cleanup()


async def test_a_stop_shows_as_stopped_in_every_tab_that_follows_the_answer(
    site: tuple[str, MockServer], page: Any
) -> None:
    url, mock = site
    await page.goto(url)
    await page.click("#send")
    await text_length_at_least(page, 20)
    chat_id = await page.get_attribute("#answer", "data-stream-id")
    other = await page.context.browser.new_page()  # another tab, opened on the same answer
    await other.goto(f"{url}/#{chat_id}")
    await text_length_at_least(other, 40)
    await page.click("#stop")
    await other.wait_for_function("document.getElementById('answer').dataset.state === 'stopped'")
    assert "(stopped)" in (await other.text_content("#status") or "")
    assert await other.is_hidden("#error")  # a Stop is not shown as a failure
    followed = await other.text_content("#text") or ""
    assert TEXT.startswith(followed)
    assert len(followed) < len(TEXT)
    await mock.records[-1].finished.wait()
    assert mock.records[-1].outcome == "disconnected"
    assert len(mock.requests) == 1  # the follower did not start another answer
