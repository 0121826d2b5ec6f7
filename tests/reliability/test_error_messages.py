"""Errors say what happened in plain words: provider error bodies, connect failures."""

from __future__ import annotations

import contextlib
import socket
from typing import Any

import aiohttp
import aiohttp.abc
import pytest
from aiohttp import web

import rxstream as rs
from rxstream.errors import ConnectError, HTTPStatusError, RateLimitError

from ..conftest import Serve

pytestmark = pytest.mark.usefixtures("no_leaks")

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"
MESSAGES = [{"role": "user", "content": "hi"}]

# Error bodies as each provider sends them (shapes from their API references).
PROVIDER_BODIES: list[tuple[str, int, Any, tuple[str | None, str | None, str | None]]] = [
    (
        "openai",
        401,
        {
            "error": {
                "message": "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
        (
            "Incorrect API key provided. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            "invalid_api_key",
        ),
    ),
    (
        "anthropic",
        529,
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ("Overloaded", "overloaded_error", None),
    ),
    (
        "gemini",
        400,
        {
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
            }
        },
        ("API key not valid. Please pass a valid API key.", "INVALID_ARGUMENT", None),
    ),
    (
        "gemini",
        429,
        [
            {
                "error": {
                    "code": 429,
                    "message": "Resource exhausted.",
                    "status": "RESOURCE_EXHAUSTED",
                }
            }
        ],
        ("Resource exhausted.", "RESOURCE_EXHAUSTED", None),
    ),
    (
        "ollama",
        404,
        {"error": 'model "llama9" not found, try pulling it first'},
        ('model "llama9" not found, try pulling it first', None, None),
    ),
]


async def answering(serve: Serve, status: int, body: bytes, content_type: str) -> str:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return await serve(app)


@pytest.mark.parametrize(
    ("provider", "status", "body", "expected"),
    PROVIDER_BODIES,
    ids=[f"{p}-{s}" for p, s, _, _ in PROVIDER_BODIES],
)
async def test_http_errors_carry_the_providers_message_type_and_code(
    serve: Serve, provider: str, status: int, body: Any, expected: tuple[Any, Any, Any]
) -> None:
    import msgspec

    base = await answering(serve, status, msgspec.json.encode(body), "application/json")
    stream = rs.chat(MESSAGES, model="m", provider=provider, base_url=base, api_key=KEY, retry=None)  # type: ignore[arg-type]
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(stream)
    error = info.value
    assert isinstance(error, RateLimitError) == (status == 429)
    assert (error.message, error.type, error.code) == expected
    assert error.status == status
    text = str(error)
    assert text.startswith(f"HTTP {status} ")
    assert base.removeprefix("http://") in text  # the URL, so a person knows which call
    assert expected[0] in text  # the provider's own words, readable
    assert KEY not in text


async def test_the_message_is_readable_text_and_echoed_keys_stay_masked(serve: Serve) -> None:
    body = (
        '{"error": {"message": "Mod\\u00e8le \\u201cgpt-9\\u201d introuvable\\u2026 '
        f'key {KEY} rejected", "type": "invalid_request_error", "code": null}}}}'
    )
    base = await answering(serve, 404, body.encode(), "application/json")
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(rs.from_http(base + "/v1/chat/completions", json={}))
    text = str(info.value)
    assert "Modèle “gpt-9” introuvable…" in text  # decoded, non-ASCII as is
    assert "\\u" not in text
    assert KEY not in text
    assert "sk-…WXYZ" in text
    assert info.value.message is not None
    assert KEY not in info.value.message
    assert KEY not in info.value.body


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"upstream connect error or disconnect/reset before headers",
        b'{"detail": null}',
        b"[1, 2]",
    ],
)
async def test_without_a_provider_error_the_fields_are_none(serve: Serve, body: bytes) -> None:
    base = await answering(serve, 503, body, "text/plain")
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(rs.from_http(base + "/x", json={}))
    assert (info.value.message, info.value.type, info.value.code) == (None, None, None)
    assert str(info.value).startswith("HTTP 503 Service Unavailable from ")


async def test_an_html_page_from_a_proxy_gives_a_short_plain_excerpt(serve: Serve) -> None:
    page = (
        b"<html><head><title>502 Bad Gateway</title><style>body{color:red}</style></head>"
        b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>"
        + b"<!-- padding -->" * 500
        + b"</body></html>"
    )
    base = await answering(serve, 502, page, "text/html")
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(rs.from_http(base + "/x", json={}))
    text = str(info.value)
    assert "502 Bad Gateway" in text
    assert "nginx" in text
    assert "<" not in text
    assert "color:red" not in text
    assert len(text) < 500
    assert info.value.message is None


def free_port() -> int:
    with socket.socket() as probe:  # free a moment ago, and nothing listens on it now
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_connection_refused_says_so_and_names_host_and_port() -> None:
    port = free_port()
    policy = rs.RetryPolicy(jitter=None, initial_delay=0.01)
    stream = rs.chat(MESSAGES, model="m", base_url=f"http://127.0.0.1:{port}/v1", retry=policy)
    with pytest.raises(ConnectError) as info:
        await rs.collect(stream)
    text = str(info.value)
    assert f"127.0.0.1:{port}: connection refused" in text
    assert info.value.attempts == 3  # retried, and the count kept
    assert not info.value.tls


class NoSuchHost(aiohttp.abc.AbstractResolver):
    """A resolver that knows no host, as a DNS server answering NXDOMAIN (no lookup leaves
    this machine)."""

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def close(self) -> None:
        pass


async def test_an_unresolvable_host_name_says_so() -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=NoSuchHost())) as s:
        stream = rs.from_http("http://no-such-host.example:8080/v1", json={}, session=s)
        with pytest.raises(ConnectError) as info:
            await rs.collect(stream)
    assert "could not resolve host name 'no-such-host.example'" in str(info.value)
    assert "no-such-host.example:8080" in str(info.value)


async def test_a_connect_timeout_says_how_long_it_waited() -> None:
    # a listening socket whose accept queue is full never completes the handshake
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                fillers.append(filler)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
            stream = rs.from_http(f"http://127.0.0.1:{port}/v1", json={}, timeout=0.3)
            with pytest.raises(ConnectError) as info:
                await rs.collect(stream)
        finally:
            for filler in fillers:
                filler.close()
    assert f"127.0.0.1:{port}: timed out connecting after 0.3 s" in str(info.value)
