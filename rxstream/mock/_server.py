"""An OpenAI-compatible streaming server on loopback, for demos, tests and benchmarks."""

from __future__ import annotations

import asyncio
import hmac
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal

import msgspec
from aiohttp import web

from .._log import get_logger
from .._redact import redact_headers
from . import _providers as providers
from ._faults import FAULT_HEADER, Fault, gzip_bomb, parse_fault
from ._script import MockConfig, completion, stream_events

log = get_logger(__name__)

_encode = msgspec.json.encode
CONFIG_KEY = web.AppKey("config", MockConfig)
RECORDS_KEY = web.AppKey("records", list)
REQUESTS_KEY = web.AppKey("requests", list)
FAULT_COUNTS_KEY = web.AppKey("fault_counts", dict)
_WRITE: Final = 64 * 1024


@dataclass(slots=True)
class StreamRecord:
    """What the server saw of one streamed response (tests observe the client through it)."""

    path: str
    started: float = field(default_factory=time.perf_counter)
    events_sent: int = 0
    bytes_sent: int = 0
    outcome: Literal["streaming", "completed", "disconnected"] = "streaming"
    ended: float | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def _finish(self, outcome: Literal["completed", "disconnected"]) -> None:
        if self.ended is None:
            self.outcome = outcome
            self.ended = time.perf_counter()
            self.finished.set()


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request the mock received (credential headers redacted)."""

    path: str
    headers: dict[str, str]
    fault: str | None
    at: float


def create_app(config: MockConfig | None = None) -> web.Application:
    """The mock's aiohttp application.

    ``POST /v1/chat/completions`` (OpenAI chat, streamed or not), ``/v1/responses``
    (OpenAI Responses), ``/v1/messages`` (Anthropic), ``/api/chat`` (Ollama NDJSON) and
    ``/v1beta/models/{model}:streamGenerateContent?alt=sse`` (Gemini).

    Fault modes (``rxstream.mock._faults``) are chosen per request with the
    ``x-mock-fault`` header or the ``fault`` query parameter.
    """
    app = web.Application()
    app[CONFIG_KEY] = config or MockConfig()
    app[RECORDS_KEY] = []
    app[REQUESTS_KEY] = []
    app[FAULT_COUNTS_KEY] = {}
    app.router.add_post("/v1/chat/completions", _chat_completions)
    app.router.add_post("/v1/messages", _provider_route("anthropic"))
    app.router.add_post("/v1/responses", _provider_route("responses"))
    app.router.add_post("/api/chat", _provider_route("ollama"))
    app.router.add_post("/v1beta/models/{target}", _provider_route("gemini"))
    app.router.add_get("/health", _health)
    return app


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return web.Response(
        status=status, body=_encode(body), content_type="application/json", headers=headers
    )


def _select_fault(request: web.Request) -> tuple[Fault | None, bool]:
    """The request's fault spec, and whether its fault is active (``times`` not used up).

    Spent faults still number their events (``ids``), so a resumed stream stays resumable.
    """
    fault = parse_fault(request.headers.get(FAULT_HEADER) or request.query.get("fault"))
    if fault is not None and "times" in fault.options:
        counts = request.app[FAULT_COUNTS_KEY]
        counts[fault.spec] = counts.get(fault.spec, 0) + 1
        return fault, counts[fault.spec] <= int(fault.options["times"])
    return fault, fault is not None


def _receive(request: web.Request) -> tuple[Fault | None, bool]:
    """Record the request (credentials redacted) and pick its fault (see _select_fault)."""
    spec, active = _select_fault(request)
    request.app[REQUESTS_KEY].append(
        RequestRecord(
            path=request.path,
            headers=redact_headers(request.headers.items()),
            fault=spec.spec if spec else None,
            at=time.perf_counter(),
        )
    )
    return spec, active


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    try:
        spec, active = _receive(request)
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error")
    fault = spec if active else None
    if config.api_key is not None:
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {config.api_key}".encode()):
            return _error(
                401,
                f"Incorrect API key provided: {sent.removeprefix('Bearer ')}.",
                "invalid_request_error",
                "invalid_api_key",
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
    if fault is not None:
        early = await _early_fault(request, fault)
        if early is not None:
            return early
    if not payload.get("stream"):
        return web.Response(
            body=_encode(completion(payload, config)), content_type="application/json"
        )
    numbered = spec is not None and (spec.name == "ids" or "ids" in spec.options)
    retry_ms = spec.options.get("retry_ms") if spec is not None else None
    return await _stream(request, payload, config, fault, numbered=numbered, retry_ms=retry_ms)


async def _early_fault(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """Faults that replace the whole response; ``None`` for faults inside a stream."""
    name = fault.name
    if name == "status":
        headers = {}
        if "retry_after" in fault.options:
            headers["retry-after"] = fault.options["retry_after"]
        if "retry_after_ms" in fault.options:
            headers["retry-after-ms"] = fault.options["retry_after_ms"]
        if "should_retry" in fault.options:
            headers["x-should-retry"] = fault.options["should_retry"]
        status = fault.int("status", 500)
        kind = "rate_limit_error" if status == 429 else "server_error"
        message = fault.options.get("message", f"Mock failure with status {status}.")
        return _error(status, message, kind, headers=headers)
    if name == "redirect":
        raise web.HTTPTemporaryRedirect(fault.value)
    if name in ("reset_before_headers", "never_respond"):
        record = _new_record(request)
        try:
            if name == "never_respond":
                await asyncio.Event().wait()  # until the client gives up
            assert request.transport is not None
            request.transport.abort()
        finally:
            record._finish("disconnected")
        return web.Response()  # never written: the transport is already gone
    if name in ("huge_error_body", "endless_line", "gzip_bomb"):
        return await _flood(request, fault)
    return None


def _new_record(request: web.Request) -> StreamRecord:
    record = StreamRecord(path=request.path)
    request.app[RECORDS_KEY].append(record)
    return record


async def _flood(request: web.Request, fault: Fault) -> web.StreamResponse:
    """Large bodies for the memory promises: written until the client stops reading."""
    record = _new_record(request)
    blocks: Iterable[bytes]
    if fault.name == "huge_error_body":
        response = web.StreamResponse(status=500, headers={"Content-Type": "text/plain"})
        blocks = (b"E" * _WRITE for _ in range(50 * 1024 * 1024 // _WRITE))
    elif fault.name == "gzip_bomb":
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Content-Encoding": "gzip"}
        )
        bomb = gzip_bomb()
        blocks = (bomb[i : i + _WRITE] for i in range(0, len(bomb), _WRITE))
    else:  # endless_line
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        blocks = itertools.chain([b"data: "], itertools.repeat(b"x" * _WRITE))
    try:
        await response.prepare(request)
        for block in blocks:
            await response.write(block)
            record.bytes_sent += len(block)
        await response.write_eof()
    except asyncio.CancelledError:
        record._finish("disconnected")
        raise
    except ConnectionError:
        record._finish("disconnected")  # the client stopped reading: expected here
        return response
    record._finish("completed")
    return response


async def _stream(
    request: web.Request,
    payload: dict[str, Any],
    config: MockConfig,
    fault: Fault | None,
    *,
    numbered: bool = False,
    retry_ms: str | None = None,
) -> web.StreamResponse:
    return await _send(
        request,
        _openai_events(payload, config, fault),
        config,
        fault,
        content_type="text/event-stream",
        numbered=numbered,
        retry_ms=retry_ms,
    )


def _openai_events(payload: dict[str, Any], config: MockConfig, fault: Fault | None) -> list[bytes]:
    """The encoded SSE events of an OpenAI chat answer, with the chunk-level faults."""
    chunks = stream_events(payload, config)
    name = fault.name if fault is not None else ""
    if name == "no_done":
        # Text only: no finish_reason, no usage chunk, no [DONE].
        chunks = [c for c in chunks if c["choices"] and not c["choices"][0]["finish_reason"]]
    bodies = [_encode(chunk) for chunk in chunks]
    if name == "invalid_utf8":
        bodies.insert(
            1, b'{"choices":[{"index":0,"delta":{"content":"caf\xe9 \xff!"},"finish_reason":null}]}'
        )
    if name == "deep_nesting":
        # deep inside a field, so decoders must recurse (not just reject the shape)
        deep = b"[" * 100_000 + b"]" * 100_000
        bodies.insert(1, b'{"choices":[{"index":0,"delta":{"content":' + deep + b"}}]}")
    if name == "malformed_after" and fault is not None:
        bodies = [*bodies[: fault.int("malformed_after")], b'{"choices": [{"delta": ']
    if name == "provider_error" and fault is not None:
        error = {
            "error": {"message": "The mock provider failed.", "type": fault.value or "server_error"}
        }
        bodies = [*bodies[: fault.int("after")], _encode(error)]
    events = [b"data: " + body + b"\n\n" for body in bodies]
    if name not in ("no_done", "no_done_finish", "provider_error", "malformed_after"):
        events.append(b"data: [DONE]\n\n")
    return events


async def _send(
    request: web.Request,
    events: list[bytes],
    config: MockConfig,
    fault: Fault | None,
    *,
    content_type: str,
    numbered: bool = False,
    retry_ms: str | None = None,
) -> web.StreamResponse:
    """Stream encoded ``events`` with the pacing and the transport-level faults."""
    record = _new_record(request)
    response = web.StreamResponse(
        headers={"Content-Type": content_type, "Cache-Control": "no-cache"}
    )
    name = fault.name if fault is not None else ""
    if numbered:
        events = _with_ids(events, request.headers.get("Last-Event-ID"), retry_ms)
    delay = 1.0 / config.tokens_per_second if config.tokens_per_second else 0.0
    per_write = max(1, config.events_per_write)
    stop_after = (
        fault.int(name) if fault is not None and name in ("reset_after", "stall_after") else None
    )
    try:
        await response.prepare(request)
        first_delay = config.first_event_delay
        if name == "slow_start" and fault is not None:
            first_delay = fault.float("slow_start", 1.0)
        if first_delay:
            await asyncio.sleep(first_delay)  # a slow first token, after the headers
        if name == "keepalive" and fault is not None:
            interval = fault.float("interval", 0.25)
            while True:
                await response.write(b": ping\n\n")
                await asyncio.sleep(interval)
        if name == "big_event" and fault is not None:
            await _write_big_event(response, record, fault.int("big_event"))
        for start in range(0, len(events), per_write):
            if stop_after is not None and record.events_sent >= stop_after:
                if name == "stall_after":
                    await asyncio.Event().wait()  # silent until the client gives up
                assert request.transport is not None
                request.transport.abort()
                raise ConnectionResetError("mock fault: reset mid-stream")
            if delay and start:
                await asyncio.sleep(delay)
            batch = events[start : start + per_write]
            if stop_after is not None:
                batch = batch[: stop_after - record.events_sent]
            data = b"".join(batch)
            await response.write(data)
            record.events_sent += len(batch)
            record.bytes_sent += len(data)
        await response.write_eof()
    except (asyncio.CancelledError, ConnectionError) as exc:
        # aiohttp cancels the handler when the client goes away (handler_cancellation)
        record._finish("disconnected")
        log.debug("mock_client_disconnected", path=record.path, events_sent=record.events_sent)
        if isinstance(exc, asyncio.CancelledError):
            raise
        return response
    record._finish("completed")
    return response


# -- the other providers --------------------------------------------------------------------

_KEY_HEADERS: Final = {
    "anthropic": ("x-api-key", ""),
    "responses": ("Authorization", "Bearer "),
    "gemini": ("x-goog-api-key", ""),
}


def _provider_route(provider: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _provider(request, provider)

    return handler


async def _provider(request: web.Request, provider: str) -> web.StreamResponse:
    config = request.app[CONFIG_KEY]
    try:
        spec, active = _receive(request)
    except ValueError as exc:
        return _error(400, str(exc), "invalid_request_error")
    fault = spec if active else None
    if config.api_key is not None and provider in _KEY_HEADERS:
        header, prefix = _KEY_HEADERS[provider]
        sent = request.headers.get(header, "")
        if not hmac.compare_digest(sent.encode(), f"{prefix}{config.api_key}".encode()):
            return _error(401, "invalid x-api-key", "authentication_error")
    try:
        payload: Any = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        return _error(400, "The request body is not valid JSON.", "invalid_request_error")
    if not isinstance(payload, dict):
        return _error(400, "The request body must be a JSON object.", "invalid_request_error")
    if fault is not None:
        early = await _early_fault(request, fault)
        if early is not None:
            return early
    if provider == "gemini":
        target = request.match_info["target"]
        model, _, method = target.partition(":")
        if method != "streamGenerateContent" or request.query.get("alt") != "sse":
            return _error(
                400, "The mock serves streamGenerateContent?alt=sse only.", "invalid_request_error"
            )
        script = providers.gemini(payload, config, model)
    elif provider == "anthropic":
        if not payload.get("model") or not payload.get("max_tokens"):
            return _error(400, "model and max_tokens are required", "invalid_request_error")
        script = providers.anthropic(payload, config)
    elif provider == "responses":
        script = providers.responses(payload, config)
    else:
        script = providers.ollama(payload, config)
        if payload.get("stream") is False:
            return _ollama_whole(script)
    events = script.events
    name = fault.name if fault is not None else ""
    if name == "no_done":
        events = events[: -script.tail]
    elif name == "provider_error" and fault is not None:
        events = [*events[: fault.int("after")], script.error(fault.value or "server_error")]
    numbered = spec is not None and (spec.name == "ids" or "ids" in spec.options)
    retry_ms = spec.options.get("retry_ms") if spec is not None else None
    return await _send(
        request,
        events,
        config,
        fault,
        content_type=script.content_type,
        numbered=numbered,
        retry_ms=retry_ms,
    )


def _ollama_whole(script: providers.Script) -> web.Response:
    """Ollama with ``stream: false``: one object with the whole message."""
    lines = [msgspec.json.decode(line) for line in script.events]
    final = lines[-1]
    final["message"]["content"] = "".join(line["message"].get("content", "") for line in lines)
    calls = [c for line in lines for c in line["message"].get("tool_calls") or []]
    if calls:
        final["message"]["tool_calls"] = calls
    return web.Response(body=_encode(final), content_type="application/json")


async def _write_big_event(response: web.StreamResponse, record: StreamRecord, size: int) -> None:
    await response.write(b"data: ")
    left = size
    block = b"x" * _WRITE
    while left > 0:
        piece = block if left >= _WRITE else block[:left]
        await response.write(piece)
        record.bytes_sent += len(piece)
        left -= len(piece)
    await response.write(b"\n\n")


def _with_ids(events: list[bytes], last_event_id: str | None, retry_ms: str | None) -> list[bytes]:
    """Number the events; a reconnect with ``Last-Event-ID: N`` gets the events after N."""
    numbered = [b"id: %d\n" % (number + 1) + event for number, event in enumerate(events)]
    if retry_ms:
        numbered[0] = b"retry: " + retry_ms.encode() + b"\n" + numbered[0]
    if last_event_id and last_event_id.isdigit():
        numbered = numbered[int(last_event_id) :]
    return numbered


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
        """One record per streamed (or flooded) response, oldest first."""
        return self.app[RECORDS_KEY]

    @property
    def requests(self) -> list[RequestRecord]:
        """One record per chat request received, oldest first."""
        return self.app[REQUESTS_KEY]

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in ``/v1``."""
        if self.port is None:
            raise RuntimeError("the mock server is not started")
        return f"http://{self._host}:{self.port}/v1"

    def base_url_for(self, provider: str = "openai") -> str:
        """The ``base_url`` to give ``rs.chat(provider=...)`` for this mock."""
        root = self.base_url.removesuffix("/v1")
        return {"ollama": root, "gemini": f"{root}/v1beta"}.get(provider, self.base_url)

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
