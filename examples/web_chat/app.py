"""The web chat's aiohttp application."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from aiohttp import web

import rxstream as rs
from rxstream import operators as ops
from rxstream.markdown import HtmlRenderer
from rxstream.sinks import LiveStreams, sse_response
from rxstream.telemetry import continue_trace

from .markdown import markdown_events

STATIC = Path(__file__).parent / "static"
STREAMS_KEY = web.AppKey("streams", LiveStreams)
SETTINGS_KEY = web.AppKey("settings", dict)
RENDER_KEY = web.AppKey("render", HtmlRenderer)
CONNECTIONS_KEY = web.AppKey("connections", dict)


def create_app(
    *,
    base_url: str,
    provider: str = "openai",
    model: str = "mock-gpt",
    refresh: float = 0.05,
    testing: bool = False,
    image_origins: tuple[str, ...] = (),
    **chat_options: Any,
) -> web.Application:
    """The app. ``testing`` adds ``POST /api/test/drop/{id}`` to cut SSE connections;
    ``image_origins`` lists the only origins whose images an answer may show;
    ``chat_options`` go to ``rs.chat`` (``retry=``, ``headers=`` …)."""
    app = web.Application()
    app[RENDER_KEY] = HtmlRenderer(image_origins=image_origins)
    app[STREAMS_KEY] = LiveStreams(replay=4096, linger=30.0)
    app[SETTINGS_KEY] = {
        "base_url": base_url,
        "provider": provider,
        "model": model,
        "refresh": refresh,
        "options": chat_options,
    }
    app[CONNECTIONS_KEY] = {}
    app.router.add_get("/", index)
    app.router.add_post("/api/chat", start_chat)
    app.router.add_get("/api/stream/{id}", stream)
    app.router.add_post("/api/stop/{id}", stop)
    if testing:
        app.router.add_post("/api/test/drop/{id}", drop_connections)

    async def shutdown(app: web.Application) -> None:
        await app[STREAMS_KEY].close()

    app.on_cleanup.append(shutdown)
    return app


_ids = (f"c{n}" for n in itertools.count(1))


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def start_chat(request: web.Request) -> web.Response:
    body: dict[str, Any] = await request.json()
    prompt = str(body.get("prompt") or "").strip()
    if not prompt:
        return web.json_response({"error": "empty prompt"}, status=400)
    settings = request.app[SETTINGS_KEY]
    text = rs.chat(
        [{"role": "user", "content": prompt}],
        model=settings["model"],
        provider=settings["provider"],
        base_url=settings["base_url"],
        **settings["options"],
    ).pipe(ops.text())
    if body.get("smooth"):
        text = text.pipe(ops.smooth(chunking="word"))
    chat_id = next(_ids)
    # finished markdown blocks as sanitized HTML, the open one as text at most every
    # `refresh` s; the answer's spans continue the browser's (or a proxy's) trace
    answer = text.pipe(
        ops.throttle_text(settings["refresh"]),
        markdown_events(request.app[RENDER_KEY]),
        continue_trace(request.headers),
    )
    request.app[STREAMS_KEY].start(chat_id, answer)
    return web.json_response({"id": chat_id})


async def stream(request: web.Request) -> web.StreamResponse:
    chat_id = request.match_info["id"]
    live = request.app[STREAMS_KEY].get(chat_id)
    if live is None:
        raise web.HTTPNotFound(text="no such chat")
    connections = request.app[CONNECTIONS_KEY].setdefault(chat_id, [])
    connections.append(request)
    try:
        return await sse_response(request, live, retry_ms=200, keepalive=10.0)
    finally:
        connections.remove(request)


async def stop(request: web.Request) -> web.Response:
    stopped = request.app[STREAMS_KEY].stop(request.match_info["id"])
    return web.json_response({"stopped": stopped})


async def drop_connections(request: web.Request) -> web.Response:
    """Testing only: cut the SSE connections of a chat, as a flaky network would."""
    dropped = 0
    for connection in list(request.app[CONNECTIONS_KEY].get(request.match_info["id"], [])):
        if connection.transport is not None:
            connection.transport.abort()
            dropped += 1
    return web.json_response({"dropped": dropped})
