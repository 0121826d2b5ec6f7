"""Every provider through rs.chat and the mock: the same end-to-end checks for each."""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec
import pytest

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.sources._chat import PROVIDERS
from rxstream.sources._request import Options

from ..helpers import one_byte

pytestmark = pytest.mark.usefixtures("no_leaks")

TEXT = "Streams are events. Tools are calls!"
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}
# one request model: OpenAI-form tools for every provider (rs.chat translates them)
TOOLS = [{"type": "function", "function": {"name": "forecast", "parameters": SCHEMA}}]
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"}]


@pytest.fixture
async def mock() -> Any:
    config = MockConfig(text=TEXT, tool_arguments={"forecast": {"city": "Oslo", "days": 3}})
    async with MockServer(config) as server:
        yield server


def chat(server: MockServer, provider: str, **options: Any) -> Any:
    return rs.chat(
        MESSAGES,
        model="m",
        provider=provider,
        base_url=server.base_url_for(provider),
        api_key="sk-test-key-1234567890",
        **options,
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_text_usage_and_finish(mock: MockServer, provider: str) -> None:
    final = (await rs.collect(chat(mock, provider).pipe(ops.accumulate())))[-1]
    assert final.text == TEXT
    assert final.finish_reason == "stop"
    assert final.tool_calls == []
    assert final.usage is not None
    assert final.usage.completion_tokens
    assert final.usage.prompt_tokens
    assert final.usage.total_tokens == final.usage.prompt_tokens + final.usage.completion_tokens


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_tool_calls(mock: MockServer, provider: str) -> None:
    final = (await rs.collect(chat(mock, provider, tools=TOOLS).pipe(ops.accumulate())))[-1]
    (call,) = final.tool_calls
    assert call.name == "forecast"
    assert msgspec.json.decode(call.arguments) == {"city": "Oslo", "days": 3}
    assert final.finish_reason == "tool_calls"


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_text_operator_and_sentences_work_for_every_provider(
    mock: MockServer, provider: str
) -> None:
    sentences = await rs.collect(chat(mock, provider).pipe(ops.text(), ops.sentences()))
    assert sentences == ["Streams are events.", "Tools are calls!"]


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_in_stream_error_is_a_typed_provider_error(mock: MockServer, provider: str) -> None:
    stream = chat(
        mock,
        provider,
        retry=None,
        headers={"x-mock-fault": "provider_error=overloaded_error,after=3"},
    )
    with pytest.raises(rs.ProviderError) as info:
        await rs.collect(stream)
    assert "overloaded_error" in str(info.value)


# Ollama's in-band errors are plain strings: no type, so nothing to classify as transient.
@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "ollama"])
async def test_transient_in_stream_error_before_output_is_retried(
    mock: MockServer, provider: str
) -> None:
    policy = rs.RetryPolicy(jitter=None, initial_delay=0.01)
    stream = chat(
        mock,
        provider,
        retry=policy,
        headers={"x-mock-fault": "provider_error=overloaded_error,after=0,times=1"},
    )
    final = (await rs.collect(stream.pipe(ops.accumulate())))[-1]
    assert final.text == TEXT
    assert len(mock.requests) == 2


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_a_truncated_stream_is_interrupted(mock: MockServer, provider: str) -> None:
    stream = chat(mock, provider, retry=None, headers={"x-mock-fault": "no_done"})
    with pytest.raises(rs.StreamInterrupted) as info:
        await rs.collect(stream)
    assert info.value.partial_text


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_one_byte_rechunking_gives_the_same_completion(
    mock: MockServer, provider: str
) -> None:
    live = (await rs.collect(chat(mock, provider, tools=TOOLS).pipe(ops.accumulate())))[-1]
    # Record the raw body of the same request, then replay it one byte at a time.
    spec = PROVIDERS[provider]
    url, body = spec.request(mock.base_url_for(provider), "m", MESSAGES, Options(tools=TOOLS))
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        raw = await response.read()
    replayed = await rs.collect(rs.from_chunks(one_byte(raw)).pipe(*spec.parse(), ops.accumulate()))
    assert replayed[-1] == live


async def test_auth_headers_per_provider(mock: MockServer) -> None:
    for provider, header in (
        ("openai", "Authorization"),
        ("openai_responses", "Authorization"),
        ("anthropic", "x-api-key"),
        ("gemini", "x-goog-api-key"),
    ):
        await rs.collect(chat(mock, provider))
        assert mock.requests[-1].headers[header] == "[redacted]", provider
    assert mock.requests[-2].headers  # anthropic also sends its version header
    anthropic = [r for r in mock.requests if r.path == "/v1/messages"][-1]
    assert anthropic.headers["anthropic-version"] == "2023-06-01"


def test_unknown_provider_is_rejected() -> None:
    with pytest.raises(ValueError, match="provider must be one of"):
        rs.chat(MESSAGES, model="m", provider="acme")  # type: ignore[arg-type]


@pytest.mark.parametrize("provider", list(PROVIDERS))
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        # after 7 events every format has sent some text (Anthropic and Responses open
        # with several bookkeeping events)
        ("stall_after=7", rs.StreamTimeout),
        ("provider_error=server_error,after=7", rs.ProviderError),
        ("reset_after=7", rs.StreamInterrupted),
    ],
)
async def test_a_failure_after_output_keeps_its_type_for_every_provider(
    mock: MockServer, provider: str, fault: str, expected: type[rs.StreamError]
) -> None:
    # rs.chat's defaults (retries on), as a user's `except StreamTimeout:` meets them
    policy = rs.RetryPolicy(jitter=None, initial_delay=0.01)
    stream = chat(
        mock, provider, retry=policy, first=5.0, idle=0.3, headers={"x-mock-fault": fault}
    )
    seen: list[Any] = []
    with pytest.raises(rs.StreamError) as info:
        await rs.run(stream, seen.append)
    error = info.value
    assert type(error) is expected
    delivered = "".join(d.text for d in seen if isinstance(d, rs.TextDelta))
    assert delivered
    assert error.partial_text == delivered
    assert error.events == len(seen)
    assert error.attempts == 1
    assert len(mock.requests) == 1  # output had gone downstream: never re-issued
