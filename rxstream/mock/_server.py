"""An OpenAI-compatible streaming server on loopback, for demos, tests and benchmarks."""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import msgspec
import structlog
from aiohttp import web

from ._script import MockConfig, completion, stream_events

log = structlog.get_logger(__name__)

_encode = msgspec.json.encode
CONFIG_KEY = web.AppKey("config", MockConfig)
RECORDS_KEY = web.AppKey("records", list)


@dataclass(slots=True)
class StreamRecord:
    """What the server saw of one streamed response (tests observe the client through it)."""

    path: str
    started: float = field(default_factory=time.perf_counter)
    events_sent: int = 0
    outcome: Literal["streaming", "completed", "disconnected"] = "streaming"
    ended: float | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def _finish(self, outcome: Literal["completed", "disconnected"]) -> None:
        self.outcome = outcome
        self.ended = time.perf_counter()
        self.finished.set()


def create_app(config: MockConfig | None = None) -> web.Application:
    """The mock's aiohttp application: ``POST /v1/chat/completions`` (streamed or not)."""
    app = web.Application()
    app[CONFIG_KEY] = config or MockConfig()
    app[RECORDS_KEY] = []
    app.router.add_post("/v1/chat/completions", _chat_completions)
    app.router.add_get("/health", _health)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _error(status: int, message: str, kind: str, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.Response(status=status, body=_encode(body), content_type="application/json")


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    if config.api_key is not None:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {config.api_key}".encode()):
            return _error(
                401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
            )
    try:
        payload: Any = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        return _error(
            400, "We could not parse the JSON body of your request.", "invalid_request_error"
        )
    if not isinstance(payload, dict) or not payload.get("model") or not payload.get("messages"):
        return _error(
            400, "Missing required parameters: 'model' and 'messages'.", "invalid_request_error"
        )
    if not payload.get("stream"):
        return web.Response(
            body=_encode(completion(payload, config)), content_type="application/json"
        )
    return await _stream(request, payload, config)


async def _stream(
    request: web.Request, payload: dict[str, Any], config: MockConfig
) -> web.StreamResponse:
    record = StreamRecord(path=request.path)
    request.app[RECORDS_KEY].append(record)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    events = [b"data: " + _encode(event) + b"\n\n" for event in stream_events(payload, config)]
    events.append(b"data: [DONE]\n\n")
    delay = 1.0 / config.tokens_per_second if config.tokens_per_second else 0.0
    per_write = max(1, config.events_per_write)
    try:
        await response.prepare(request)
        for start in range(0, len(events), per_write):
            if delay and start:
                await asyncio.sleep(delay)
            batch = events[start : start + per_write]
            await response.write(b"".join(batch))
            record.events_sent += len(batch)
        await response.write_eof()
    except (asyncio.CancelledError, ConnectionError):
        # aiohttp cancels the handler when the client goes away (handler_cancellation)
        record._finish("disconnected")
        log.debug("mock_client_disconnected", path=record.path, events_sent=record.events_sent)
        raise
    record._finish("completed")
    return response


class MockServer:
    """Runs the mock on ``127.0.0.1`` (a free port unless one is given).

    Use as ``async with MockServer(MockConfig(...)) as server:`` and point clients at
    ``server.base_url`` (``http://127.0.0.1:PORT/v1``). ``server.records`` lists what
    each streamed response saw, including when the client disconnected.
    """

    def __init__(
        self, config: MockConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.app = create_app(config)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def config(self) -> MockConfig:
        """The configuration in force."""
        return self.app[CONFIG_KEY]

    @property
    def records(self) -> list[StreamRecord]:
        """One record per streamed response, oldest first."""
        return self.app[RECORDS_KEY]

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in ``/v1``."""
        if self.port is None:
            raise RuntimeError("the mock server is not started")
        return f"http://{self._host}:{self.port}/v1"

    @property
    def chat_url(self) -> str:
        """The full ``/v1/chat/completions`` URL."""
        return f"{self.base_url}/chat/completions"

    async def start(self) -> MockServer:
        """Start listening; returns ``self``."""
        self._runner = web.AppRunner(self.app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        log.debug("mock_server_started", url=self.base_url)
        return self

    async def close(self) -> None:
        """Stop the server and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MockServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def serve_forever(config: MockConfig, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the mock until cancelled (``rxstream serve-mock``)."""
    async with MockServer(config, host=host, port=port) as server:
        print(f"mock OpenAI server listening on {server.base_url}", flush=True)
        await asyncio.Event().wait()
