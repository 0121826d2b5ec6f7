"""The fanout demo's two kinds of worker."""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
from typing import Any

from aiohttp import web
from redis.asyncio import Redis

import rxstream as rs
from rxstream import operators as ops
from rxstream.markdown import HtmlRenderer
from rxstream.sinks import sse_response
from rxstream.telemetry import continue_trace

from ..web_chat.app import index  # the same page
from ..web_chat.markdown import markdown_events_after

REDIS_KEY = web.AppKey("redis", Redis)
RENDER_KEY = web.AppKey("render", HtmlRenderer)
JOBS = "jobs"
_EVENT_ID = re.compile(r"\d+-\d+/\d+")


def web_worker(redis: Redis) -> web.Application:
    """Serves the web-chat page and API; any number of these can run."""
    app = web.Application()
    app[REDIS_KEY] = redis
    app[RENDER_KEY] = HtmlRenderer()
    app.router.add_get("/", index)
    app.router.add_post("/api/chat", enqueue)
    app.router.add_get("/api/stream/{id}", stream)
    app.router.add_post("/api/stop/{id}", stop)
    return app


_ids = (f"{secrets.token_hex(4)}-{n}" for n in itertools.count(1))


async def enqueue(request: web.Request) -> web.Response:
    body: dict[str, Any] = await request.json()
    chat_id = next(_ids)
    fields: Any = {
        "id": chat_id,
        "prompt": str(body.get("prompt") or ""),
        "smooth": "1" if body.get("smooth") else "",
        # the browser's trace, so the producer worker's spans continue it
        "traceparent": request.headers.get("traceparent", ""),
    }
    await request.app[REDIS_KEY].xadd(JOBS, fields, maxlen=10_000, approximate=True)
    return web.json_response({"id": chat_id})


async def stream(request: web.Request) -> web.StreamResponse:
    # Markdown blocks depend on the whole answer before them: read it from the start and
    # send only the events after the browser's Last-Event-ID ("<entry id>/<n>").
    after = request.headers.get("Last-Event-ID") or None
    if after is not None and not _EVENT_ID.fullmatch(after):
        raise web.HTTPBadRequest(text=f"Last-Event-ID {after!r} is not an event of this stream")
    answer = rs.from_redis_stream(
        request.app[REDIS_KEY], f"chat:{request.match_info['id']}", with_ids=True, wait=10
    ).pipe(markdown_events_after(request.app[RENDER_KEY], after))
    return await sse_response(request, answer, retry_ms=200, keepalive=10.0)


async def stop(request: web.Request) -> web.Response:
    await rs.stop(request.app[REDIS_KEY], f"chat:{request.match_info['id']}")
    return web.json_response({"stopped": True})


async def producer(
    redis: Redis,
    *,
    base_url: str,
    model: str = "mock-gpt",
    provider: str = "openai",
    since: str = "$",
) -> None:
    """Takes jobs from the ``jobs`` stream (after ``since``; ``$``: from now on) and
    streams each answer into ``chat:{id}``."""
    last = since
    running: set[asyncio.Task[bool]] = set()
    try:
        while True:
            response: Any = await redis.xread({JOBS: last}, count=16, block=1000)
            for _, entries in response or []:
                for entry_id, raw in entries:
                    last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    job = {k.decode(): v.decode() for k, v in raw.items()}
                    text = rs.chat(
                        [{"role": "user", "content": job["prompt"]}],
                        model=model,
                        provider=provider,
                        base_url=base_url,
                    ).pipe(ops.text())
                    if job.get("smooth"):
                        text = text.pipe(ops.smooth())
                    trace = {"traceparent": job.get("traceparent", "")}
                    answer = text.pipe(ops.throttle_text(0.05), continue_trace(trace))
                    task = asyncio.create_task(rs.produce_once(redis, f"chat:{job['id']}", answer))
                    running.add(task)
                    task.add_done_callback(running.discard)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
