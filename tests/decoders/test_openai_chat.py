from __future__ import annotations

from typing import Any

import msgspec
import pytest

from rxstream._decoders.openai_chat import OpenAIChatDecoder
from rxstream.errors import ParseError, ProviderError, StreamInterrupted
from rxstream.models import (
    FinishDelta,
    ReasoningDelta,
    RefusalDelta,
    SSEEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    UsageDelta,
)


def chunk(*choices: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "choices": list(choices), **extra}


def choice(index: int = 0, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "finish_reason": finish, "logprobs": None}


def run_decoder(items: list[Any]) -> list[Any]:
    decoder = OpenAIChatDecoder()
    out: list[Any] = []
    for item in items:
        out += decoder.feed(item)
    return out + decoder.flush()


def feed(items: list[Any]) -> list[Any]:
    """Decode ``items`` as dicts and as SSE events (typed fast path): both must agree."""
    as_dicts = run_decoder(items)
    as_events = run_decoder([SSEEvent(msgspec.json.encode(item).decode()) for item in items])
    assert as_events == as_dicts
    return as_dicts


def test_text_and_finish() -> None:
    out = feed(
        [
            chunk(choice(role="assistant", content="")),
            chunk(choice(content="Hel")),
            chunk(choice(content="lo")),
            chunk(choice(finish="stop")),
        ]
    )
    assert out == [TextDelta("Hel"), TextDelta("lo"), FinishDelta("stop", "stop")]


def test_interleaved_parallel_tool_calls_keep_their_index() -> None:
    out = feed(
        [
            chunk(
                choice(
                    tool_calls=[{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]
                )
            ),
            chunk(
                choice(
                    tool_calls=[
                        {"index": 1, "id": "b", "function": {"name": "g", "arguments": '{"y'}}
                    ]
                )
            ),
            chunk(choice(tool_calls=[{"index": 0, "function": {"arguments": '{"x": 1}'}}])),
            chunk(choice(tool_calls=[{"index": 1, "function": {"arguments": '": 2}'}}])),
            chunk(choice(finish="tool_calls")),
        ]
    )
    assert out == [
        ToolCallDelta(index=0, id="a", name="f"),
        ToolCallDelta(index=1, arguments='{"y', id="b", name="g"),
        ToolCallDelta(index=0, arguments='{"x": 1}'),
        ToolCallDelta(index=1, arguments='": 2}'),
        FinishDelta("tool_calls", "tool_calls"),
    ]


def test_usage_chunk_with_empty_choices() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8, "extra": 1}
    out = feed([chunk(choice(content="x", finish="stop"), usage=None), chunk(usage=usage)])
    assert out[-1] == UsageDelta(Usage(3, 5, 8, raw=usage))


def test_total_tokens_is_computed_when_missing() -> None:
    out = feed(
        [chunk(choice(finish="stop")), chunk(usage={"prompt_tokens": 2, "completion_tokens": 3})]
    )
    assert out[-1].usage.total_tokens == 5


def test_n2_choices_are_kept_apart() -> None:
    out = feed(
        [
            chunk(choice(0, content="A")),
            chunk(choice(1, content="B")),
            chunk(choice(1, finish="length")),
            chunk(choice(0, finish="stop")),
        ]
    )
    assert out == [
        TextDelta("A", 0),
        TextDelta("B", 1),
        FinishDelta("length", "length", 1),
        FinishDelta("stop", "stop", 0),
    ]


def test_refusal_and_reasoning_are_their_own_deltas() -> None:
    out = feed(
        [
            chunk(choice(reasoning_content="thinking")),
            chunk(choice(refusal="I can't")),
            chunk(choice(finish="stop")),
        ]
    )
    assert out[:2] == [ReasoningDelta("thinking"), RefusalDelta("I can't")]


def test_unknown_fields_and_empty_choices_are_tolerated() -> None:
    out = feed(
        [
            chunk(),
            chunk(choice(content="x", surprise={"a": 1}), new_top_level=True),
            {"choices": [{"delta": {"content": "y"}}]},  # index missing: choice 0
            chunk(choice(finish="stop")),
        ]
    )
    assert [d for d in out if isinstance(d, TextDelta)] == [TextDelta("x"), TextDelta("y")]


def test_legacy_function_call_becomes_tool_call() -> None:
    out = feed(
        [
            chunk(choice(function_call={"name": "f", "arguments": "{}"})),
            chunk(choice(finish="function_call")),
        ]
    )
    assert out == [ToolCallDelta(0, "{}", name="f"), FinishDelta("tool_calls", "function_call")]


def test_sse_events_are_accepted_and_done_stops() -> None:
    decoder = OpenAIChatDecoder()
    out = decoder.feed(
        SSEEvent('{"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}')
    )
    assert out == [TextDelta("hi"), FinishDelta("stop", "stop")]
    assert decoder.feed(SSEEvent("[DONE]")) == []
    assert decoder.done


def test_end_without_done_or_finish_is_interrupted_with_partial_text() -> None:
    decoder = OpenAIChatDecoder()
    decoder.feed(SSEEvent('{"choices":[{"index":0,"delta":{"content":"par"}}]}', id="4"))
    decoder.feed(SSEEvent('{"choices":[{"index":0,"delta":{"content":"tial"}}]}', id="5"))
    with pytest.raises(StreamInterrupted) as info:
        decoder.flush()
    assert (info.value.partial_text, info.value.events, info.value.last_event_id) == (
        "partial",
        2,
        "5",
    )


def test_end_with_finish_but_without_done_completes() -> None:
    assert feed([chunk(choice(content="a", finish="stop"))])[-1] == FinishDelta("stop", "stop")


def test_empty_stream_is_interrupted() -> None:
    with pytest.raises(StreamInterrupted):
        feed([])


def test_one_unfinished_choice_is_enough_to_be_interrupted() -> None:
    with pytest.raises(StreamInterrupted, match="choice 1"):
        feed([chunk(choice(0, content="a", finish="stop")), chunk(choice(1, content="b"))])


def test_upstream_interruption_is_annotated_with_partial_text() -> None:
    decoder = OpenAIChatDecoder()
    decoder.feed(chunk(choice(content="so far")))
    error = decoder.annotate(StreamInterrupted("connection lost"))
    assert isinstance(error, StreamInterrupted)
    assert error.partial_text == "so far"


def test_in_band_error_payload_and_error_event() -> None:
    with pytest.raises(ProviderError) as info:
        OpenAIChatDecoder().feed(SSEEvent('{"error": {"message": "boom", "type": "server_error"}}'))
    assert info.value.type == "server_error"
    with pytest.raises(ProviderError):
        OpenAIChatDecoder().feed(SSEEvent("not json", event="error"))


def test_non_object_chunk_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"chat\.completion\.chunk"):
        OpenAIChatDecoder().feed([1, 2])  # type: ignore[arg-type]


def test_index_null_and_object_arguments_are_tolerated() -> None:
    out = feed(
        [
            {"choices": [{"index": None, "delta": {"content": "x"}}]},
            chunk(
                choice(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": {"a": 1}}}])
            ),
            chunk(choice(finish="stop")),
        ]
    )
    assert out[0] == TextDelta("x")
    assert out[1] == ToolCallDelta(0, '{"a":1}', name="f")


def test_unexpected_shapes_fall_back_to_the_generic_path() -> None:
    # "content" as a list of parts is not text: ignored the same way on both paths
    out = feed(
        [chunk(choice(content=[{"type": "text", "text": "hi"}])), chunk(choice(finish="stop"))]
    )
    assert out == [FinishDelta("stop", "stop")]


def test_pydantic_like_objects_are_accepted() -> None:
    class Model:
        def model_dump(self) -> dict[str, Any]:
            return chunk(choice(content="from sdk", finish="stop"))

    assert run_decoder([Model()])[0] == TextDelta("from sdk")


@pytest.mark.parametrize("between", [False, True], ids=["adjacent", "operator-between"])
def test_done_without_finish_reason_is_interrupted_wherever_sse_json_sits(between: bool) -> None:
    # [DONE] alone does not prove the answer complete, and with an operator between
    # sse_json() and openai_chat() nobody downstream could see it: one rule for both.
    import reactivex
    from reactivex import operators as rx_ops

    from rxstream import operators as ops

    body = b'data: {"choices":[{"index":0,"delta":{"content":"cut"}}]}\n\ndata: [DONE]\n\n'
    stages: list[Any] = [ops.parse_sse(), ops.sse_json()]
    if between:
        stages.append(rx_ops.map(lambda value: value))
    stages.append(ops.openai_chat())
    with pytest.raises(StreamInterrupted, match="no finish_reason") as info:
        reactivex.of(body).pipe(*stages, rx_ops.to_list()).run()
    assert info.value.partial_text == "cut"


def test_a_provider_error_carries_the_text_before_it() -> None:
    decoder = OpenAIChatDecoder()
    decoder.feed(chunk(choice(content="so far")))
    with pytest.raises(ProviderError) as info:
        decoder.feed(SSEEvent('{"error": {"message": "boom", "type": "server_error"}}'))
    assert decoder.annotate(info.value).partial_text == "so far"
