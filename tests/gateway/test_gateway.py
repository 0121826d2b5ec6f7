"""The gateway with the official openai SDK as its client, every provider behind it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from rxstream.gateway import create_app
from rxstream.mock import MockConfig, MockServer
from rxstream.sources._chat import PROVIDERS

from ..conftest import until

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.usefixtures("no_leaks")

TEXT = "Gateways speak OpenAI. Every client works!"
UPSTREAM_KEY = "sk-upstream-secret-0123456789abcdef"
CLIENT_KEY = "gw-client-key-42"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "forecast",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
MESSAGES = [{"role": "user", "content": "Weather in Oslo?"}]
Gateway = Callable[..., Awaitable[Any]]


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    """Start a gateway (``create_app`` options) on a free port; returns an SDK client."""
    runners: list[web.AppRunner] = []
    clients: list[Any] = []

    async def start(**options: Any) -> Any:
        runner = web.AppRunner(create_app(**options), handler_cancellation=True)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        port = runner.addresses[0][1]
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key=CLIENT_KEY, max_retries=0
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def mock() -> AsyncIterator[MockServer]:
    config = MockConfig(text=TEXT, tool_arguments={"forecast": {"city": "Oslo"}})
    async with MockServer(config) as server:
        yield server


def behind(mock: MockServer, provider: str, **options: Any) -> dict[str, Any]:
    return {
        "provider": provider,
        "base_url": mock.base_url_for(provider),
        "api_key": UPSTREAM_KEY,
        "client_keys": [CLIENT_KEY],
        **options,
    }


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_streamed_text_and_usage_through_the_sdk(
    gateway: Gateway, mock: MockServer, provider: str
) -> None:
    client = await gateway(**behind(mock, provider))
    stream = await client.chat.completions.create(
        model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == TEXT
    assert chunks[0].choices[0].delta.role == "assistant"
    finishes = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finishes == ["stop"]
    assert chunks[-1].choices == []  # the usage chunk, last
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0


async def test_no_usage_chunk_unless_asked(gateway: Gateway, mock: MockServer) -> None:
    client = await gateway(**behind(mock, "anthropic"))
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_tool_calls_accumulated_by_the_sdk(
    gateway: Gateway, mock: MockServer, provider: str
) -> None:
    client = await gateway(**behind(mock, provider))
    async with client.chat.completions.stream(model="m", messages=MESSAGES, tools=TOOLS) as stream:
        raw = []
        async for event in stream:
            if event.type == "chunk":
                raw.append(event.chunk)
        final = await stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert call.function.name == "forecast"
    assert call.function.arguments.replace(" ", "") == '{"city":"Oslo"}'
    assert call.id  # synthesised for providers without ids (Ollama, Gemini)
    assert final.choices[0].finish_reason == "tool_calls"
    # id, type and name once, on the call's first chunk (the SDK concatenates repeats)
    named = [
        tool for c in raw if c.choices for tool in c.choices[0].delta.tool_calls or () if tool.id
    ]
    assert len(named) == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini"])
async def test_non_stream_responses(gateway: Gateway, mock: MockServer, provider: str) -> None:
    client = await gateway(**behind(mock, provider))
    completion = await client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    models = await client.models.list()
    assert [m.id for m in models.data] == ["rxstream"]


async def upstream(
    serve: Any, status: int, body: Any, headers: dict[str, str] | None = None
) -> str:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return str(await serve(app))


@pytest.mark.parametrize(
    ("status", "sdk_error", "seen_status"),
    [
        (400, "BadRequestError", 400),
        (404, "NotFoundError", 404),
        (422, "UnprocessableEntityError", 422),
        (401, "InternalServerError", 502),  # the gateway's own upstream key was refused
        (503, "InternalServerError", 502),
    ],
)
async def test_upstream_errors_map_to_what_the_sdk_expects(
    gateway: Gateway, serve: Any, status: int, sdk_error: str, seen_status: int
) -> None:
    body = {"error": {"message": f"upstream said no; key {UPSTREAM_KEY}", "type": "x", "code": "y"}}
    base = await upstream(serve, status, body)
    client = await gateway(base_url=base, api_key=UPSTREAM_KEY, client_keys=[CLIENT_KEY])
    for stream in (True, False):
        with pytest.raises(getattr(openai, sdk_error)) as info:
            await client.chat.completions.create(model="m", messages=MESSAGES, stream=stream)
        assert info.value.status_code == seen_status
        assert UPSTREAM_KEY not in str(info.value.body)
        assert UPSTREAM_KEY not in str(dict(info.value.response.headers))


async def test_a_rate_limit_keeps_its_status_and_retry_after(gateway: Gateway, serve: Any) -> None:
    body = {"error": {"message": "slow down", "type": "rate_limit_error"}}
    base = await upstream(serve, 429, body, {"retry-after": "7"})
    client = await gateway(base_url=base, client_keys=[CLIENT_KEY])
    with pytest.raises(openai.RateLimitError) as info:
        await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.body["message"] == "slow down"


async def test_unreachable_is_502_and_a_timeout_is_504(gateway: Gateway, serve: Any) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = await gateway(base_url=f"http://127.0.0.1:{port}/v1", client_keys=[CLIENT_KEY])
    with pytest.raises(openai.InternalServerError) as info:
        await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert info.value.status_code == 502

    async def silent(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await asyncio.sleep(30)  # headers, then nothing: the first-token deadline passes
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", silent)
    base = await serve(app) + "/v1"
    client = await gateway(base_url=base, first=0.3, client_keys=[CLIENT_KEY])
    with pytest.raises(openai.APIStatusError) as timeout:
        await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert timeout.value.status_code == 504


async def test_an_in_band_error_after_output_reaches_the_sdk(gateway: Gateway, serve: Any) -> None:
    async def failing(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(
            b'data: {"choices":[{"index":0,"delta":{"content":"Half an"}}]}\n\n'
            b'data: {"error":{"message":"The model crashed.","type":"server_error"}}\n\n'
        )
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", failing)
    client = await gateway(base_url=await serve(app) + "/v1", client_keys=[CLIENT_KEY])
    stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    text = ""
    with pytest.raises(openai.APIError, match="The model crashed"):
        async for chunk in stream:
            text += chunk.choices[0].delta.content or ""
    assert text == "Half an"  # the output before it was delivered


async def test_client_keys_are_required(gateway: Gateway, mock: MockServer) -> None:
    client = await gateway(**behind(mock, "openai"))
    stranger = openai.AsyncOpenAI(base_url=str(client.base_url), api_key="wrong", max_retries=0)
    try:
        with pytest.raises(openai.AuthenticationError) as info:
            await stranger.chat.completions.create(model="m", messages=MESSAGES)
        assert info.value.body["code"] == "invalid_api_key"
    finally:
        await stranger.close()
    assert mock.requests == []  # no upstream request for a refused client


async def test_a_client_that_goes_away_closes_the_upstream(gateway: Gateway) -> None:
    async with MockServer(MockConfig(text=TEXT * 20, tokens_per_second=30)) as slow:
        client = await gateway(**behind(slow, "openai"))
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        seen = 0
        async for _ in stream:
            seen += 1
            if seen == 3:
                break
        await stream.close()
        left = time.perf_counter()
        await asyncio.wait_for(slow.records[-1].finished.wait(), 2)
        assert slow.records[-1].outcome == "disconnected"
        assert time.perf_counter() - left < 1.0


async def test_a_client_that_goes_away_before_the_first_token_closes_the_upstream(
    gateway: Gateway,
) -> None:
    async with MockServer(MockConfig(text=TEXT, first_event_delay=30)) as silent:
        client = await gateway(**behind(silent, "openai"))
        request = asyncio.ensure_future(
            client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        )
        await until(lambda: silent.records)
        request.cancel()
        await asyncio.wait_for(silent.records[-1].finished.wait(), 2)
        assert silent.records[-1].outcome == "disconnected"


async def test_the_cli_serves_the_gateway(mock: MockServer) -> None:
    import socket
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxstream", "gateway", "--provider", "openai",
        "--base-url", mock.base_url, "--port", str(port),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert f"http://127.0.0.1:{port}/v1" in line
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=3
        )
        try:
            completion = await client.chat.completions.create(model="m", messages=MESSAGES)
        finally:
            await client.close()
        assert completion.choices[0].message.content == TEXT
    finally:
        process.terminate()
        await process.wait()
