"""Provider decoders on literal wire samples in each provider's documented format."""

from __future__ import annotations

from typing import Any

import pytest
import reactivex
from reactivex import operators as rx_ops

from rxstream import operators as ops
from rxstream.errors import ParseError, ProviderError, StreamInterrupted
from rxstream.models import (
    Completion,
    FinishDelta,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallDelta,
)

from ..helpers import chunkings

ANTHROPIC = b"""event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":" world"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": "}}

event: content_block_delta
data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\\"Paris\\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: content_block_start
data: {"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_02","name":"now","input":{}}}

event: content_block_stop
data: {"type":"content_block_stop","index":3}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}

event: message_stop
data: {"type":"message_stop"}

"""

RESPONSES = b"""event: response.created
data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","status":"in_progress"}}

event: response.output_item.added
data: {"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant","content":[]}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}

event: response.output_text.delta
data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":" there"}

event: response.output_item.added
data: {"type":"response.output_item.added","output_index":1,"item":{"id":"fc_1","type":"function_call","call_id":"call_1","name":"f","arguments":""}}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":1,"delta":"{\\"a\\":"}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":1,"delta":"1}"}

event: response.function_call_arguments.done
data: {"type":"response.function_call_arguments.done","item_id":"fc_1","output_index":1,"arguments":"{\\"a\\":1}"}

event: response.some_future_event
data: {"type":"response.some_future_event","x":1}

event: response.completed
data: {"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}}}

"""

OLLAMA = (
    b'{"model":"llama3","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hel"},"done":false}\n'
    b'{"model":"llama3","message":{"role":"assistant","content":"lo","thinking":""},"done":false}\n'
    b'{"model":"llama3","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}\n'
    b'{"model":"llama3","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":5,"prompt_eval_count":26,"eval_count":298}\n'
)

GEMINI = (
    b'data: {"candidates":[{"content":{"parts":[{"text":"Thinking...","thought":true}],"role":"model"},"index":0}]}\r\n\r\n'
    b'data: {"candidates":[{"content":{"parts":[{"text":"Bonjour"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}}\r\n\r\n'
    b'data: {"candidates":[{"content":{"parts":[{"text":" !"},{"functionCall":{"name":"lookup","args":{"q":"x"}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":3,"totalTokenCount":7}}\r\n\r\n'
)

PIPELINES: dict[str, tuple[bytes, list[Any]]] = {
    "anthropic": (ANTHROPIC, [ops.parse_sse, ops.anthropic_messages]),
    "responses": (RESPONSES, [ops.parse_sse, ops.openai_responses]),
    "ollama": (OLLAMA, [ops.parse_ndjson, ops.ollama_chat]),
    "gemini": (GEMINI, [ops.parse_sse, ops.gemini]),
}


def run(chunks: list[bytes], stages: list[Any], *extra: Any) -> list[Any]:
    return (
        reactivex.from_iterable(chunks).pipe(*(s() for s in stages), *extra, rx_ops.to_list()).run()
    )


def final(name: str) -> Completion:
    data, stages = PIPELINES[name]
    results = {
        label: run(chunks, stages, ops.accumulate())[-1] for label, chunks in chunkings(data)
    }
    assert len({repr(r) for r in results.values()}) == 1, "chunking changed the result"
    return results["whole"]


def test_anthropic() -> None:
    completion = final("anthropic")
    message = completion.choices[0]
    assert message.text == "Hello world"
    assert message.reasoning == "Hmm."
    assert message.tool_calls == [
        ToolCall("toolu_01", "get_weather", '{"city": "Paris"}'),
        ToolCall("toolu_02", "now", "{}"),  # no input streamed: its input is {}
    ]
    assert (message.finish_reason, message.raw_finish_reason) == ("tool_calls", "tool_use")
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (30, 42)
    assert completion.usage.total_tokens == 72
    assert completion.usage.raw["cache_read_input_tokens"] == 5


def test_anthropic_thinking_stays_out_of_text() -> None:
    data, stages = PIPELINES["anthropic"]
    assert "".join(run([data], stages, ops.text())) == "Hello world"
    deltas = run([data], stages)
    assert ReasoningDelta("Hmm.") in deltas


def test_responses() -> None:
    completion = final("responses")
    assert completion.text == "Hi there"
    assert completion.tool_calls == [
        ToolCall("call_1", "f", '{"a":1}')
    ]  # deltas, not doubled by .done
    assert completion.finish_reason == "tool_calls"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 15


def test_ollama() -> None:
    completion = final("ollama")
    assert completion.text == "Hello"
    assert completion.tool_calls == [ToolCall(None, "get_weather", '{"city":"Paris"}')]
    assert (completion.finish_reason, completion.choices[0].raw_finish_reason) == (
        "tool_calls",
        "stop",
    )
    assert completion.usage is not None
    assert (
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
        completion.usage.total_tokens,
    ) == (26, 298, 324)


def test_gemini_crlf_framing_thoughts_and_calls() -> None:
    completion = final("gemini")
    assert completion.text == "Bonjour !"
    assert completion.choices[0].reasoning == "Thinking..."
    assert completion.tool_calls == [ToolCall(None, "lookup", '{"q":"x"}')]
    assert (completion.finish_reason, completion.choices[0].raw_finish_reason) == (
        "tool_calls",
        "STOP",
    )
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (4, 3)


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        (
            "anthropic",
            b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
            "overloaded_error",
        ),
        (
            "responses",
            b'data: {"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"boom"}}}\n\n',
            "server_error",
        ),
        (
            "responses",
            b'data: {"type":"error","code":"rate_limit_exceeded","message":"slow"}\n\n',
            "rate_limit_exceeded",
        ),
        ("ollama", b'{"error":"model \\"x\\" not found"}\n', None),
        (
            "gemini",
            b'data: {"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}\r\n\r\n',
            "UNAVAILABLE",
        ),
    ],
)
def test_in_stream_errors(name: str, data: bytes, kind: str | None) -> None:
    stages = PIPELINES[name][1]
    with pytest.raises(ProviderError) as info:
        run([data], stages)
    assert info.value.type == kind


@pytest.mark.parametrize(
    ("detail", "reason"),
    [("max_output_tokens", "length"), ("content_filter", "content_filter")],
)
def test_responses_incomplete_is_an_ending_like_the_other_providers(
    detail: str, reason: str
) -> None:
    data = (
        b'data: {"type":"response.output_text.delta","delta":"Hel"}\n\n'
        b'data: {"type":"response.incomplete","response":{"status":"incomplete",'
        b'"incomplete_details":{"reason":"' + detail.encode() + b'"},'
        b'"usage":{"input_tokens":5,"output_tokens":16,"total_tokens":21}}}\n\n'
    )
    for label, chunks in chunkings(data):
        completion = run(chunks, PIPELINES["responses"][1], ops.accumulate())[-1]
        assert completion.text == "Hel", label
        message = completion.choices[0]
        assert (message.finish_reason, message.raw_finish_reason) == (reason, detail), label
        assert completion.usage is not None
        assert completion.usage.completion_tokens == 16


@pytest.mark.parametrize("name", list(PIPELINES))
def test_truncated_streams_are_interrupted_with_partial_text(name: str) -> None:
    data, stages = PIPELINES[name]
    cut = {
        "anthropic": b"event: message_delta",
        "responses": b"event: response.completed",
        "ollama": b'{"model":"llama3","message":{"role":"assistant","content":""},"done":true',
        "gemini": b'data: {"candidates":[{"content":{"parts":[{"text":" !"}',
    }[name]
    with pytest.raises(StreamInterrupted) as info:
        run([data[: data.index(cut)]], stages)
    assert info.value.partial_text


def test_gemini_safety_and_max_tokens_finish_reasons() -> None:
    for raw, normalised in (
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("OTHER", "error"),
    ):
        data = (
            b'data: {"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"%s","index":0}]}\n\n'
            % raw.encode()
        )
        deltas = run([data], PIPELINES["gemini"][1])
        assert FinishDelta(normalised, raw, 0) in deltas


def test_decoded_json_values_are_accepted() -> None:
    events = [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 1},
        },
    ]
    deltas = reactivex.from_iterable(events).pipe(ops.anthropic_messages(), rx_ops.to_list()).run()
    assert deltas[0] == TextDelta("hi")
    assert FinishDelta("stop", "end_turn", 0) in deltas


def test_non_object_events_are_parse_errors() -> None:
    with pytest.raises(ParseError, match="Ollama"):
        run([b"[1, 2]\n"], PIPELINES["ollama"][1])


def test_unknown_fields_and_events_are_ignored() -> None:
    data = b'data: {"type":"response.output_text.delta","delta":"x","brand_new_field":{"a":1}}\n\ndata: {"type":"response.completed","response":{}}\n\n'
    assert run([data], PIPELINES["responses"][1]) == [
        TextDelta("x"),
        FinishDelta("stop", "completed", 0),
    ]
    assert ToolCallDelta is not None
