"""The mock speaks OpenAI's exact wire format (checked on the raw bytes)."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec
import pytest

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer, tokenize

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def request(**extra: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "user", "content": "hi there"}],
        "stream": True,
    } | extra


async def raw_events(server: MockServer, body: dict[str, Any]) -> list[str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(server.chat_url, json=body) as response,
    ):
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        text = (await response.read()).decode()
    assert text.endswith("data: [DONE]\n\n")
    return [block.removeprefix("data: ") for block in text.split("\n\n") if block]


async def test_wire_format_of_a_text_stream(mock_server: MockServer) -> None:
    events = await raw_events(mock_server, request())
    assert events[-1] == "[DONE]"
    chunks = [msgspec.json.decode(e) for e in events[:-1]]
    assert all(
        c["object"] == "chat.completion.chunk" and c["id"] == "chatcmpl-mock" for c in chunks
    )
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert content == mock_server.config.text
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert "usage" not in chunks[0]  # only with stream_options.include_usage


async def test_usage_chunk_comes_last_with_empty_choices(mock_server: MockServer) -> None:
    events = await raw_events(mock_server, request(stream_options={"include_usage": True}))
    chunks = [msgspec.json.decode(e) for e in events[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == len(tokenize(mock_server.config.text or ""))
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_parallel_tool_calls_are_interleaved_on_the_wire(mock_server: MockServer) -> None:
    events = await raw_events(mock_server, request(tools=[WEATHER, TIME]))
    indexes = [
        call["index"]
        for e in events[:-1]
        for call in msgspec.json.decode(e)["choices"][0]["delta"].get("tool_calls") or []
    ]
    assert indexes[:4] == [0, 1, 0, 1]


async def test_pipeline_assembles_tools_usage_and_n2(mock_server: MockServer) -> None:
    body = request(n=2, tools=[WEATHER, TIME], stream_options={"include_usage": True})
    stream = rs.from_http(mock_server.chat_url, json=body).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.accumulate()
    )
    final = (await rs.collect(stream))[-1]
    assert len(final.choices) == 2
    assert final.choices[0].text == mock_server.config.text
    assert final.choices[1].text == f"(Variant 2) {mock_server.config.text}"
    for message in final.choices:
        assert [(c.id, c.name, c.arguments) for c in message.tool_calls] == [
            ("call_mock0000", "get_weather", '{"city":"example"}'),
            ("call_mock0001", "get_time", "{}"),
        ]
        assert message.finish_reason == "tool_calls"
    assert final.usage is not None
    assert final.usage.prompt_tokens == 2


async def test_non_streaming_answer(mock_server: MockServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(mock_server.chat_url, json=request(stream=False)) as response,
    ):
        body = await response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"] == mock_server.config.text


@pytest.mark.parametrize(
    ("body", "status"),
    [({"model": "m"}, 400), ({"messages": [{"role": "user", "content": "x"}]}, 400)],
)
async def test_bad_requests_get_openai_errors(
    mock_server: MockServer, body: dict[str, Any], status: int
) -> None:
    with pytest.raises(rs.HTTPStatusError) as info:
        await rs.collect(rs.from_http(mock_server.chat_url, json=body))
    assert info.value.status == status
    assert "Missing required parameters" in info.value.body


async def test_api_key_is_checked_and_never_echoed_in_errors() -> None:
    key = "sk-test-0123456789abcdefWXYZ"
    async with MockServer(MockConfig(api_key=key)) as server:
        wrong = {"Authorization": "Bearer sk-wrong-key-000000000000"}
        with pytest.raises(rs.HTTPStatusError) as info:
            await rs.collect(rs.from_http(server.chat_url, json=request(), headers=wrong))
        assert info.value.status == 401
        for text in (
            str(info.value),
            repr(info.value),
            info.value.body,
            str(dict(info.value.headers)),
        ):
            assert "sk-wrong-key-000000000000" not in text
        ok = {"Authorization": f"Bearer {key}"}
        chunks = await rs.collect(rs.from_http(server.chat_url, json=request(), headers=ok))
        assert b"[DONE]" in b"".join(chunks)


def test_tokenize_round_trips() -> None:
    text = "Hello,  wonderful\nworld!  Supercalifragilistic. "
    assert "".join(tokenize(text)) == text
    assert max(len(t.strip()) for t in tokenize(text)) <= 6
