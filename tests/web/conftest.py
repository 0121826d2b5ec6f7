"""Headless Chromium (Debian's package, driven by Playwright) for the browser tests."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# as root in a sandboxless CI, with no network beyond loopback
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    """A fresh page in a new headless Chromium."""
    from playwright.async_api import async_playwright  # the test modules skip without it

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def text_length_at_least(page: Any, count: int) -> None:
    """Wait until the web-chat page shows at least ``count`` characters of answer."""
    await page.wait_for_function(f"document.getElementById('text').textContent.length >= {count}")
