"""A real response body, recorded from the mock, parsed at every chunking."""

from __future__ import annotations

import aiohttp

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockServer

from .helpers import chunkings

BODY = {
    "model": "m",
    "messages": [{"role": "user", "content": "Ünïcödé ✓ and emoji 🎉 please"}],
    "stream": True,
    "n": 2,
    "stream_options": {"include_usage": True},
    "tools": [
        {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    ],
}


async def test_any_chunking_of_a_recorded_body_gives_the_same_completion() -> None:
    async with MockServer() as server, aiohttp.ClientSession() as session:
        async with session.post(server.chat_url, json=BODY) as response:
            body = await response.read()
        live = await rs.collect(
            rs.from_http(server.chat_url, json=BODY).pipe(
                ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.accumulate()
            )
        )
    expected = live[-1]
    assert "🎉" in expected.text
    for name, chunks in chunkings(body):
        replayed = await rs.collect(
            rs.from_chunks(chunks).pipe(
                ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.accumulate()
            )
        )
        assert replayed[-1] == expected, name


async def test_openai_chat_straight_after_parse_sse(mock_server: MockServer) -> None:
    # Without sse_json, openai_chat reads the SSE events and handles [DONE] itself.
    text = await rs.collect(
        rs.from_http(mock_server.chat_url, json=BODY | {"n": 1, "tools": []}).pipe(
            ops.parse_sse(), ops.openai_chat(), ops.text()
        )
    )
    assert "".join(text) == mock_server.config.text
