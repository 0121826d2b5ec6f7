"""One test per fault scenario, against the mock on 127.0.0.1 (RELIABILITY.md)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import reactivex
import structlog
import yarl
from reactivex import Observable
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream import RetryPolicy
from rxstream import operators as ops
from rxstream.errors import (
    ConnectError,
    EventTooLarge,
    HTTPStatusError,
    ParseError,
    ProviderError,
    RateLimitError,
    StreamInterrupted,
    StreamTimeout,
)
from rxstream.mock import MockServer
from rxstream.models import Restart, TextDelta

from .conftest import FAST, TEXT, request

pytestmark = pytest.mark.usefixtures("no_leaks")


def pipeline(
    server: MockServer,
    fault: str | None = None,
    *,
    policy: RetryPolicy | None = FAST,
    first: float | None = None,
    idle: float | None = None,
    **http: Any,
) -> Observable[Any]:
    headers = {"x-mock-fault": fault} if fault else {}
    stream: Observable[Any] = rs.from_http(
        server.chat_url, json=request(), headers=headers, **http
    ).pipe(ops.parse_sse(), ops.sse_json(), ops.openai_chat())
    if first is not None or idle is not None:
        stream = stream.pipe(ops.timeout(first=first, idle=idle))
    if policy is not None:
        stream = stream.pipe(ops.retry(policy))
    return stream


async def final_text(stream: Observable[Any]) -> str:
    completions = await rs.collect(stream.pipe(ops.accumulate()))
    return completions[-1].text


# -- status codes --------------------------------------------------------------------


async def test_transient_503_is_retried_until_success(faulty: MockServer) -> None:
    assert await final_text(pipeline(faulty, "status=503,times=2")) == TEXT
    assert len(faulty.requests) == 3


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502])
async def test_retryable_statuses_use_every_attempt(faulty: MockServer, code: int) -> None:
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(pipeline(faulty, f"status={code}"))
    assert info.value.status == code
    assert info.value.attempts == 3
    assert len(faulty.requests) == 3


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
async def test_client_errors_fail_after_exactly_one_attempt(faulty: MockServer, code: int) -> None:
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(pipeline(faulty, f"status={code}"))
    assert (info.value.status, info.value.attempts, len(faulty.requests)) == (code, 1, 1)


async def test_x_should_retry_overrides_the_status_rule(faulty: MockServer) -> None:
    with pytest.raises(HTTPStatusError):
        await rs.collect(pipeline(faulty, "status=503,should_retry=false"))
    assert len(faulty.requests) == 1
    assert await final_text(pipeline(faulty, "status=400,should_retry=true,times=1")) == TEXT


async def test_retry_after_is_waited_for(faulty: MockServer) -> None:
    started = time.perf_counter()
    assert await final_text(pipeline(faulty, "status=429,retry_after_ms=300,times=1")) == TEXT
    elapsed = time.perf_counter() - started
    assert 0.28 <= elapsed <= 0.3 + 0.15


async def test_a_retry_after_beyond_the_cap_raises_at_once(faulty: MockServer) -> None:
    started = time.perf_counter()
    with pytest.raises(RateLimitError) as info:
        await rs.collect(pipeline(faulty, "status=429,retry_after=3600"))
    assert time.perf_counter() - started < 0.1
    assert (info.value.retry_after, info.value.attempts) == (3600.0, 1)


# -- connection failures -------------------------------------------------------------


async def test_reset_before_headers_is_retried(faulty: MockServer) -> None:
    assert await final_text(pipeline(faulty, "reset_before_headers,times=2")) == TEXT
    with pytest.raises(ConnectError) as info:
        await rs.collect(pipeline(faulty, "reset_before_headers"))
    assert info.value.attempts == 3


async def test_reset_after_output_surfaces_partial_text_once(faulty: MockServer) -> None:
    seen: list[str] = []
    stream = pipeline(faulty, "reset_after=4").pipe(ops.text())
    with pytest.raises(StreamInterrupted) as info:
        await rs.run(stream, seen.append)
    # events: role chunk, then 3 content pieces
    assert info.value.partial_text == "".join(seen)
    assert TEXT.startswith(info.value.partial_text)
    assert info.value.partial_text
    assert info.value.attempts == 1
    assert len(faulty.requests) == 1


async def test_restart_replaces_partial_output(faulty: MockServer) -> None:
    policy = RetryPolicy(jitter=None, initial_delay=0.01, on_partial="restart")
    items = await rs.collect(pipeline(faulty, "reset_after=4,times=1", policy=policy))
    assert sum(isinstance(item, Restart) for item in items) == 1
    # accumulate() discards what came before the marker: the text is whole, not doubled
    snapshots = await rs.collect(reactivex.from_iterable(items).pipe(ops.accumulate()))
    assert snapshots[-1].text == TEXT
    assert len(faulty.requests) == 2


async def test_resume_continues_after_the_last_event_id_without_duplicates(
    faulty: MockServer,
) -> None:
    policy = RetryPolicy(jitter=None, initial_delay=0.01, on_partial="resume")
    text = await final_text(
        pipeline(faulty, "reset_after=5,ids,retry_ms=20,times=1", policy=policy)
    )
    assert text == TEXT
    # the spec with times=1 applies once; the resumed request carries the id
    assert faulty.requests[-1].headers.get("Last-Event-ID") == "5"


# -- stalls and timeouts ---------------------------------------------------------------


async def test_idle_timeout_fires_on_a_stalled_stream_and_closes_the_connection(
    faulty: MockServer,
) -> None:
    stream = pipeline(faulty, "stall_after=3", policy=None, idle=0.3)
    started = time.perf_counter()
    with pytest.raises(StreamTimeout) as info:
        await rs.collect(stream)
    failed_at = time.perf_counter()
    assert info.value.which == "idle"
    assert 0.28 <= failed_at - started <= 0.3 + 0.15
    record = faulty.records[0]
    await asyncio.wait_for(record.finished.wait(), 1)
    assert record.outcome == "disconnected"
    assert record.ended is not None
    assert record.ended - failed_at < 0.1


async def test_keepalive_comments_do_not_keep_a_dead_stream_alive(faulty: MockServer) -> None:
    stream = pipeline(faulty, "keepalive,interval=0.1", policy=None, idle=0.5)
    started = time.perf_counter()
    with pytest.raises(StreamTimeout) as info:
        await rs.collect(stream)
    assert info.value.which == "idle"
    assert 0.48 <= time.perf_counter() - started <= 0.5 + 0.15


async def test_first_timeout_before_output_is_retried(faulty: MockServer) -> None:
    with pytest.raises(StreamTimeout) as info:
        await rs.collect(pipeline(faulty, "never_respond", first=0.2))
    assert (info.value.which, info.value.attempts) == ("first", 3)
    assert len(faulty.requests) == 3


def delivered_text(items: list[Any]) -> str:
    return "".join(item.text for item in items if isinstance(item, TextDelta))


async def test_stall_after_output_is_a_timeout_with_the_partial_text(faulty: MockServer) -> None:
    seen: list[Any] = []
    with pytest.raises(StreamTimeout) as info:  # what `except StreamTimeout:` relies on
        await rs.run(pipeline(faulty, "stall_after=4", idle=0.2), seen.append)
    assert info.value.which == "idle"
    assert info.value.partial_text == delivered_text(seen) != ""
    assert info.value.events == len(seen)
    assert (info.value.attempts, len(faulty.requests)) == (1, 1)  # not retried


# -- truncation and bad payloads ---------------------------------------------------------


async def test_end_without_done_or_finish_is_interrupted(faulty: MockServer) -> None:
    with pytest.raises(StreamInterrupted) as info:
        await rs.collect(pipeline(faulty, "no_done", policy=None))
    assert info.value.partial_text == TEXT


async def test_end_with_finish_but_without_done_completes_and_logs(faulty: MockServer) -> None:
    with structlog.testing.capture_logs() as logs:
        assert await final_text(pipeline(faulty, "no_done_finish")) == TEXT
    assert "stream_ended_without_done" in [entry["event"] for entry in logs]


async def test_malformed_json_is_a_parse_error_after_the_good_events(faulty: MockServer) -> None:
    seen: list[Any] = []
    with pytest.raises(ParseError) as info:
        await rs.run(pipeline(faulty, "malformed_after=3"), seen.append)
    assert info.value.attempts == 1  # never retried
    assert len(seen) == 2  # role chunk has no delta event; two content pieces were delivered
    assert info.value.excerpt.startswith('{"choices"')
    assert info.value.position is not None


async def test_deep_nesting_is_a_parse_error_and_the_next_stream_works(faulty: MockServer) -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        await rs.collect(pipeline(faulty, "deep_nesting"))
    assert await final_text(pipeline(faulty)) == TEXT


async def test_invalid_utf8_becomes_replacement_characters(faulty: MockServer) -> None:
    text = await final_text(pipeline(faulty, "invalid_utf8"))
    assert "caf\ufffd \ufffd!" in text
    strict = rs.from_http(
        faulty.chat_url, json=request(), headers={"x-mock-fault": "invalid_utf8"}
    ).pipe(ops.parse_sse(errors="strict"))
    with pytest.raises(ParseError, match="UTF-8"):
        await rs.collect(strict)


async def test_transient_provider_error_is_retried_before_output(faulty: MockServer) -> None:
    assert await final_text(pipeline(faulty, "provider_error=overloaded_error,times=1")) == TEXT
    assert len(faulty.requests) == 2


async def test_non_transient_provider_error_is_not_retried(faulty: MockServer) -> None:
    with pytest.raises(ProviderError) as info:
        await rs.collect(pipeline(faulty, "provider_error=invalid_request_error"))
    assert (info.value.type, info.value.attempts) == ("invalid_request_error", 1)


async def test_provider_error_after_output_keeps_its_type(faulty: MockServer) -> None:
    seen: list[Any] = []
    with pytest.raises(ProviderError) as info:
        await rs.run(pipeline(faulty, "provider_error=server_error,after=4"), seen.append)
    assert (info.value.type, info.value.message) == ("server_error", "The mock provider failed.")
    assert info.value.partial_text == delivered_text(seen) != ""
    assert len(faulty.requests) == 1


async def test_a_connection_lost_after_output_is_interrupted(faulty: MockServer) -> None:
    seen: list[Any] = []
    with pytest.raises(StreamInterrupted) as info:
        await rs.run(pipeline(faulty, "reset_after=4"), seen.append)
    assert info.value.partial_text == delivered_text(seen) != ""
    assert len(faulty.requests) == 1


async def test_a_parse_error_after_output_carries_the_partial_text(faulty: MockServer) -> None:
    seen: list[Any] = []
    with pytest.raises(ParseError) as info:
        await rs.run(pipeline(faulty, "malformed_after=4"), seen.append)
    assert info.value.partial_text == delivered_text(seen) != ""


# -- memory bounds (RSS is measured in a subprocess: tests/reliability/test_memory.py) --------


async def test_endless_line_stops_at_the_limit(faulty: MockServer) -> None:
    received = 0

    def count(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)

    limit = 1024 * 1024
    stream = rs.from_http(
        faulty.chat_url, json=request(), headers={"x-mock-fault": "endless_line"}
    ).pipe(rx_ops.do_action(count), ops.parse_sse(max_event_bytes=limit))
    with pytest.raises(EventTooLarge) as info:
        await rs.collect(stream)
    assert info.value.limit == limit
    assert received <= limit + 1024 * 1024
    await asyncio.wait_for(faulty.records[0].finished.wait(), 1)
    assert faulty.records[0].outcome == "disconnected"


async def test_huge_error_body_is_not_drained(faulty: MockServer) -> None:
    with pytest.raises(HTTPStatusError) as info:
        await rs.collect(pipeline(faulty, "huge_error_body", policy=None))
    assert info.value.status == 500
    assert len(info.value.body) <= 2048
    record = faulty.records[0]
    await asyncio.wait_for(record.finished.wait(), 2)
    assert record.outcome == "disconnected"
    assert record.bytes_sent < 50 * 1024 * 1024


# -- redirects ---------------------------------------------------------------------------


async def test_redirects_are_refused_and_the_target_gets_nothing(faulty: MockServer) -> None:
    async with MockServer() as target:
        with pytest.raises(HTTPStatusError) as info:
            await rs.collect(pipeline(faulty, f"redirect={target.chat_url}"))
        assert info.value.status == 307
        assert info.value.headers["Location"] == target.chat_url
        assert info.value.attempts == 1
        assert target.requests == []


async def test_followed_cross_origin_redirect_drops_credentials(faulty: MockServer) -> None:
    secrets = {
        "Authorization": "Bearer sk-test-redirect-000000000000",
        "api-key": "k1",
        "x-api-key": "k2",
        "x-goog-api-key": "k3",
        "Cookie": "session=1",
        "Proxy-Authorization": "Basic abc",
    }
    async with MockServer() as target:
        # the fault rides in the query of the first URL only, so the target answers
        start = yarl.URL(faulty.chat_url).with_query(fault=f"redirect={target.chat_url}")
        stream = rs.from_http(
            str(start), json=request(), headers=secrets, follow_redirects=True
        ).pipe(ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text())
        assert "".join(await rs.collect(stream))
        (received,) = target.requests
        assert not {k.lower() for k in secrets} & {k.lower() for k in received.headers}
        # same-origin requests keep them (the first hop went to the origin that got them)
        assert faulty.requests[0].headers["Authorization"] == "[redacted]"


# -- TLS -----------------------------------------------------------------------------------


async def test_self_signed_tls_fails_once_and_never_sends_the_key(serve_tls: Any) -> None:
    url, received = serve_tls
    stream = rs.from_http(
        url, json=request(), headers={"Authorization": "Bearer sk-never-sent-0000000"}
    )
    with pytest.raises(ConnectError) as info:
        await rs.collect(stream.pipe(ops.retry(FAST)))
    assert info.value.tls
    assert info.value.attempts == 1
    assert received == []
    where = yarl.URL(url)
    text = str(info.value)
    assert f"TLS certificate verification failed for {where.host}:{where.port}" in text
    assert "ssl=" in text  # says how to trust the server's CA


async def test_disabling_tls_verification_is_explicit_and_logged(serve_tls: Any) -> None:
    url, received = serve_tls
    with structlog.testing.capture_logs() as logs:
        chunks = await rs.collect(rs.from_http(url, json=request(), ssl=False))
    assert b"[DONE]" in b"".join(chunks)
    assert any(
        e["event"] == "tls_verification_disabled" and e["log_level"] == "warning" for e in logs
    )
    assert len(received) == 1


@pytest.fixture
async def serve_tls() -> Any:
    import ssl

    import trustme
    from aiohttp import web

    from rxstream.mock import create_app

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    app = create_app()
    received: list[str] = []

    @web.middleware
    async def record(request: web.Request, handler: Any) -> Any:
        received.append(request.path)
        return await handler(request)

    app.middlewares.append(record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}/v1/chat/completions", received
    await runner.cleanup()
