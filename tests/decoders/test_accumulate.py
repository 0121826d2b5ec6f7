from __future__ import annotations

from typing import Any

from rxstream._decoders.accumulate import CompletionBuilder
from rxstream.models import (
    Completion,
    FinishDelta,
    Message,
    ReasoningDelta,
    RefusalDelta,
    Restart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageDelta,
)


def snapshots(items: list[Any]) -> list[Completion]:
    builder = CompletionBuilder()
    out: list[Completion] = []
    for item in items:
        out += builder.feed(item)
    return out


def test_text_accumulates_into_snapshots() -> None:
    out = snapshots([TextDelta("Hel"), TextDelta("lo"), FinishDelta("stop", "stop")])
    assert [c.text for c in out] == ["Hel", "Hello", "Hello"]
    assert out[-1].choices == [
        Message(text="Hello", finish_reason="stop", raw_finish_reason="stop")
    ]


def test_interleaved_tool_calls_assemble_complete_arguments() -> None:
    final = snapshots(
        [
            ToolCallDelta(1, '{"b"', id="id1", name="g"),
            ToolCallDelta(0, "", id="id0", name="f"),
            ToolCallDelta(0, '{"a": '),
            ToolCallDelta(1, ": 2}"),
            ToolCallDelta(0, "1}"),
        ]
    )[-1]
    assert final.tool_calls == [
        ToolCall("id0", "f", '{"a": 1}'),
        ToolCall("id1", "g", '{"b": 2}'),
    ]


def test_choices_are_ordered_by_index_and_usage_kept() -> None:
    usage = Usage(1, 2, 3)
    final = snapshots([TextDelta("B", 1), TextDelta("A", 0), UsageDelta(usage)])[-1]
    assert [m.text for m in final.choices] == ["A", "B"]
    assert final.usage == usage


def test_refusal_and_reasoning_are_kept_apart_from_text() -> None:
    final = snapshots([ReasoningDelta("hmm"), RefusalDelta("No"), TextDelta("x")])[-1]
    assert (final.choices[0].text, final.choices[0].refusal, final.choices[0].reasoning) == (
        "x",
        "No",
        "hmm",
    )


def test_restart_discards_partial_output() -> None:
    final = snapshots([TextDelta("dup"), Restart("retry"), TextDelta("fresh")])[-1]
    assert final.text == "fresh"


def test_earlier_snapshots_are_not_mutated() -> None:
    out = snapshots([TextDelta("a"), ToolCallDelta(0, "{", name="f"), TextDelta("b")])
    assert out[0].text == "a"
    assert out[0].tool_calls == []
    assert out[1].tool_calls[0].arguments == "{"


def test_unrelated_items_are_ignored() -> None:
    assert snapshots(["plain text", 42]) == []
