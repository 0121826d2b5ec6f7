"""OpenTelemetry: GenAI spans and metrics (in-memory exporters), trace context, logs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
import structlog

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.telemetry import add_trace_context

otel_sdk = pytest.importorskip("opentelemetry.sdk.trace")
pytestmark = pytest.mark.usefixtures("no_leaks")

KEY = "sk-telemetry-secret-00000000000000"
TEXT = "Spans end when streams end."


def chat(mock: MockServer, **options: Any) -> Any:
    return rs.chat(
        [{"role": "user", "content": "hi"}],
        model="m",
        base_url=mock.base_url,
        api_key=KEY,
        max_tokens=50,
        temperature=0.5,
        **options,
    )


def collected(reader: Any) -> dict[str, list[Any]]:
    """Every data point recorded since the last read, by metric name (one read)."""
    data = reader.get_metrics_data()
    found: dict[str, list[Any]] = {}
    for resource in data.resource_metrics if data else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


async def test_a_chat_call_is_one_client_span_with_genai_attributes(
    telemetry: tuple[Any, Any],
) -> None:
    from opentelemetry.trace import SpanKind, StatusCode

    spans, reader = telemetry
    async with MockServer(MockConfig(text=TEXT)) as mock:
        deltas = await rs.collect(chat(mock))
        (span,) = spans.get_finished_spans()
        assert span.name == "chat m"
        assert span.kind == SpanKind.CLIENT
        attributes = dict(span.attributes)
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.provider.name"] == "openai"
        assert attributes["gen_ai.request.model"] == "m"
        assert attributes["gen_ai.request.max_tokens"] == 50
        assert attributes["gen_ai.request.temperature"] == 0.5
        assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
        usage = next(d.usage for d in deltas if isinstance(d, rs.UsageDelta))
        assert attributes["gen_ai.usage.input_tokens"] == usage.prompt_tokens
        assert attributes["gen_ai.usage.output_tokens"] == usage.completion_tokens
        assert (attributes["server.address"], attributes["server.port"]) == ("127.0.0.1", mock.port)
        assert span.status.status_code != StatusCode.ERROR
        # the request carried the span's trace context (W3C traceparent)
        traceparent = mock.requests[-1].headers["traceparent"]
        assert traceparent.split("-")[1] == format(span.context.trace_id, "032x")
    assert KEY not in str(attributes)
    recorded = collected(reader)
    (duration,) = recorded["gen_ai.client.operation.duration"]
    assert duration.count == 1
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]  # the advisory buckets
    tokens = {
        p.attributes["gen_ai.token.type"]: p.sum for p in recorded["gen_ai.client.token.usage"]
    }
    assert tokens == {"input": usage.prompt_tokens, "output": usage.completion_tokens}
    assert recorded["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


async def test_a_failure_sets_error_type_on_the_span_and_the_metric(
    telemetry: tuple[Any, Any],
) -> None:
    from opentelemetry.trace import StatusCode

    spans, reader = telemetry
    async with MockServer() as mock:
        with pytest.raises(rs.HTTPStatusError):
            await rs.collect(chat(mock, headers={"x-mock-fault": "status=401"}))
    (span,) = spans.get_finished_spans()
    assert span.attributes["error.type"] == "HTTPStatusError"
    assert span.status.status_code == StatusCode.ERROR
    failed = [
        p
        for p in collected(reader)["gen_ai.client.operation.duration"]
        if "error.type" in p.attributes
    ]
    assert failed
    assert failed[0].attributes["error.type"] == "HTTPStatusError"


async def test_a_span_ends_when_the_subscriber_leaves_early(telemetry: tuple[Any, Any]) -> None:
    spans, _ = telemetry
    async with MockServer(MockConfig(text=TEXT * 50, tokens_per_second=50)) as mock:
        async with rs.iterate(chat(mock).pipe(ops.text())) as texts:
            async for _ in texts:
                break  # the consumer stops after the first piece
        await mock.records[-1].finished.wait()
    (span,) = spans.get_finished_spans()
    assert span.attributes["rxstream.cancelled"] is True
    assert span.end_time is not None


async def test_a_span_over_a_task_source_keeps_its_contract_subscribed_directly(
    telemetry: tuple[Any, Any],
) -> None:
    # The span over a task-source pipeline is subscribed as directly as the pipeline
    # alone (no wrapper per item): a dispose inside one read still stops that read's
    # remaining items, nothing follows it, and the span ends as cancelled.
    import asyncio

    import msgspec

    from rxstream._observable import is_direct
    from rxstream.telemetry import chat_span

    def data(content: str, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": {"content": content}, "finish_reason": finish}
        return b"data: " + msgspec.json.encode({"choices": [choice]}) + b"\n\n"

    async def one_read() -> Any:
        yield data("a") + data("b") + data("c", "stop") + b"data: [DONE]\n\n"

    spans, _ = telemetry
    texts = rs.from_async_iterable(one_read()).pipe(ops.parse_sse(), ops.openai_chat(), ops.text())
    spanned = texts.pipe(chat_span(model="m", provider="openai"))
    assert is_direct(spanned)
    seen: list[Any] = []
    subscription: Any = None

    def on_next(text: str) -> None:
        seen.append(text)
        subscription.dispose()

    subscription = spanned.subscribe(on_next, seen.append, lambda: seen.append("completed"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == ["a"]
    (span,) = spans.get_finished_spans()
    assert span.attributes["rxstream.cancelled"] is True


async def test_trace_wraps_a_stage_of_your_own(telemetry: tuple[Any, Any]) -> None:
    spans, _ = telemetry
    items = await rs.collect(rs.from_chunks(["a", "b", "c"]).pipe(ops.trace("render", page=3)))
    assert items == [b"a", b"b", b"c"]
    (span,) = spans.get_finished_spans()
    assert span.name == "render"
    assert dict(span.attributes) == {"page": 3, "rxstream.items": 3}


def test_log_events_carry_the_trace_and_span_ids(telemetry: tuple[Any, Any]) -> None:
    from opentelemetry import trace

    with structlog.testing.capture_logs(processors=[add_trace_context]) as logs:
        with trace.get_tracer("test").start_as_current_span("outer") as span:
            structlog.get_logger().info("inside")
        structlog.get_logger().info("outside")
    inside, outside = logs
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")
    assert "trace_id" not in outside


def run_fresh(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_without_opentelemetry_installed_everything_still_works() -> None:
    out = run_fresh(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the otel extra were not installed
        import asyncio
        import rxstream as rs
        from rxstream import operators as ops
        from rxstream.mock import MockConfig, MockServer

        async def main():
            async with MockServer(MockConfig(text="fine")) as mock:
                stream = rs.chat([{"role": "user", "content": "x"}], model="m",
                                 base_url=mock.base_url).pipe(ops.text(), ops.trace())
                print("".join(await rs.collect(stream)), "traceparent" in mock.requests[-1].headers)

        asyncio.run(main())
        """
    )
    assert out.split() == ["fine", "False"]


def test_configured_after_import_it_takes_effect_and_unconfigured_creates_nothing() -> None:
    out = run_fresh(
        """
        import asyncio
        import rxstream as rs
        from rxstream.telemetry import _otel
        print(_otel() is None)  # installed, not configured: nothing is created
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
        print(_otel() is not None)
        """
    )
    assert out.split() == ["True", "True"]


async def test_retries_and_fallback_switches_are_span_events(telemetry: tuple[Any, Any]) -> None:
    import socket

    spans, _ = telemetry
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    policy = rs.RetryPolicy(jitter=None, initial_delay=0.01)
    async with MockServer(MockConfig(text=TEXT)) as mock:
        await rs.collect(chat(mock, retry=policy, headers={"x-mock-fault": "status=503,times=1"}))
        (retried,) = spans.get_finished_spans()
        spans.clear()
        down = rs.chat(
            [{"role": "user", "content": "hi"}], model="m", retry=None,
            base_url=f"http://127.0.0.1:{closed}/v1", fallbacks=[{"base_url": mock.base_url}],
        )  # fmt: skip
        await rs.collect(down)
    (switched,) = spans.get_finished_spans()
    (retry,) = [e for e in retried.events if e.name == "rxstream.retry"]
    assert (retry.attributes["attempt"], retry.attributes["status"]) == (2, 503)
    (fallback,) = [e for e in switched.events if e.name == "rxstream.fallback"]
    assert fallback.attributes["error"] == "ConnectError"
    assert "error.type" not in switched.attributes  # the answer came, from the fallback


async def test_the_gateway_continues_the_trace_of_an_incoming_request(
    telemetry: tuple[Any, Any],
) -> None:
    openai = pytest.importorskip("openai")
    from aiohttp import web

    from rxstream.gateway import create_app

    spans, _ = telemetry
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    async with MockServer(MockConfig(text=TEXT)) as mock:
        runner = web.AppRunner(create_app(base_url=mock.base_url, api_key=KEY))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/v1", api_key="x", max_retries=0
        )
        try:
            await client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "hi"}],
                extra_headers={"traceparent": f"00-{trace_id}-{parent}-01"},
            )
        finally:
            await client.close()
            await runner.cleanup()
        upstream = mock.requests[-1].headers["traceparent"]
    (span,) = spans.get_finished_spans()
    assert format(span.context.trace_id, "032x") == trace_id  # one trace, client to upstream
    assert format(span.parent.span_id, "016x") == parent
    assert upstream.split("-")[1] == trace_id


async def test_the_web_chat_example_continues_the_browser_trace(
    telemetry: tuple[Any, Any], serve: Any
) -> None:
    import aiohttp

    from examples.web_chat.app import create_app as web_chat

    spans, _ = telemetry
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    async with MockServer(MockConfig(text=TEXT)) as mock:
        base = await serve(web_chat(base_url=mock.base_url))
        headers = {"traceparent": f"00-{trace_id}-b7ad6b7169203331-01"}
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{base}/api/chat", json={"prompt": "hi"}, headers=headers
            ) as started:
                chat_id = (await started.json())["id"]
            async with session.get(f"{base}/api/stream/{chat_id}") as events:
                await events.read()  # to the end of the answer
    chat_span = next(s for s in spans.get_finished_spans() if s.name.startswith("chat "))
    assert format(chat_span.context.trace_id, "032x") == trace_id


async def test_a_stop_is_a_span_event_not_a_failure(telemetry: tuple[Any, Any]) -> None:
    from rxstream.sinks import LiveStream

    spans, _ = telemetry
    async with MockServer(MockConfig(text=TEXT * 40, tokens_per_second=40)) as mock:
        live = LiveStream(chat(mock)).start()
        async with rs.iterate(live.observe()) as items:
            async for _ in items:
                live.stop()  # another tab pressed Stop
                break
        await mock.records[-1].finished.wait()
    (span,) = spans.get_finished_spans()
    assert [e.name for e in span.events] == ["rxstream.stop"]
    assert span.attributes["rxstream.cancelled"] is True
    assert "error.type" not in span.attributes
