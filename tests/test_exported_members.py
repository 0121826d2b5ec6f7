"""The public surface is deliberate: adding or removing a name is a visible change."""

from __future__ import annotations

import rxstream
import rxstream.errors
import rxstream.operators
import rxstream.sinks
import rxstream.sources


def test_top_level_all() -> None:
    assert rxstream.__all__ == sorted(rxstream.__all__)
    assert set(rxstream.__all__) == {
        "BufferOverflow", "CircuitBreaker", "CircuitOpen", "Completion", "ConnectError",
        "ConnectionPool", "Delta", "EventTooLarge", "FinishDelta", "HTTPStatusError",
        "LeaseLost", "MarkdownBlock", "Message", "ParseError", "ProviderError", "RateLimitError",
        "ReasoningDelta", "RefusalDelta", "Restart", "RetryPolicy", "SSEEvent", "SchemaError",
        "Secret", "StreamError", "StreamExpired", "StreamInterrupted", "StreamMetrics",
        "StreamStopped", "StreamTimeout", "TextDelta", "ToolCall", "ToolCallDelta",
        "ToolCallProgress", "Usage", "UsageDelta", "__version__", "chat", "collect",
        "connection_pool", "errors", "fallback", "from_async_iterable", "from_chunks",
        "from_file", "from_http", "from_recording", "from_redis_stream", "hedge", "iterate",
        "models", "operators", "produce_once", "redact_secrets", "run", "sinks", "sources",
        "stop",
    }  # fmt: skip


def test_operator_all() -> None:
    assert rxstream.operators.__all__ == [
        "accumulate", "anthropic_messages", "buffer_text", "debounce_text", "gemini", "guard",
        "json_items", "json_result", "lines", "markdown_blocks", "metrics", "ollama_chat",
        "openai_chat", "openai_responses", "parse_ndjson", "parse_sse", "partial_json",
        "partial_tool_calls", "retry", "sentences", "smooth", "sse_json", "text",
        "throttle_text", "timeout", "trace", "words",
    ]  # fmt: skip


def test_every_exported_name_exists_and_is_documented() -> None:
    for module in (rxstream, rxstream.operators, rxstream.sinks, rxstream.sources, rxstream.errors):
        for name in module.__all__:
            member = getattr(module, name)
            if name.startswith("__") or name == "Delta":
                continue
            assert getattr(member, "__doc__", None), f"{module.__name__}.{name} has no docstring"


def test_every_error_derives_from_stream_error() -> None:
    for name in rxstream.errors.__all__:
        assert issubclass(getattr(rxstream.errors, name), rxstream.StreamError)


def test_sinks_all() -> None:
    assert rxstream.sinks.__all__ == sorted(rxstream.sinks.__all__)
    assert {"sse_response", "LiveStream", "LiveStreams", "collect", "iterate", "run"} <= set(
        rxstream.sinks.__all__
    )
