"""Structured-output operators: in virtual time, and end to end through the mock."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
import reactivex
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.models import FinishDelta, TextDelta, ToolCallDelta, ToolCallProgress
from rxstream.sources._chat import PROVIDERS

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)


def run(items: list[Any], *operators: Any) -> list[Any]:
    result: list[Any] = reactivex.from_iterable(items).pipe(*operators, rx_ops.to_list()).run()
    return result


def test_partial_json_reads_text_deltas_and_ignores_other_deltas() -> None:
    items = [TextDelta('{"a": '), FinishDelta("stop", "stop"), TextDelta("1}"), TextDelta("x", 1)]
    assert run(items, ops.partial_json(), rx_ops.map(copy.deepcopy)) == [{}, {"a": 1}]


def test_partial_json_interval_emits_the_latest_per_interval_and_the_final_value() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        on_next(10, '{"n": ['),
        on_next(20, "1, "),
        on_next(30, "2, "),
        on_next(250, "3, "),
        on_next(260, "4]"),
        on_next(270, "}"),
        on_completed(280),
    )
    results = scheduler.start(
        lambda: source.pipe(
            ops.partial_json(interval=100, scheduler=scheduler), rx_ops.map(copy.deepcopy)
        )
    )
    # the first at once; 220 and 230 wait for the interval (the latest goes out at 310);
    # 450 is past it again; the final value goes out with the completion
    assert results.messages == [
        on_next(210, {"n": []}),
        on_next(310, {"n": [1, 2]}),
        on_next(450, {"n": [1, 2, 3]}),
        on_next(480, {"n": [1, 2, 3, 4]}),
        on_completed(480),
    ]
    assert source.subscriptions == [ReactiveTest.subscribe(200, 480)]


def test_options_are_checked_when_the_operator_is_made() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        ops.partial_json(max_chars=0)
    with pytest.raises(ValueError, match="interval"):
        ops.partial_json(interval=-1)
    with pytest.raises(ValueError, match="path"):
        ops.json_items("data..items")


def test_json_items_converts_into_a_type() -> None:
    @dataclass
    class City:
        name: str
        population: int

    text = [
        '{"cities": [{"name": "Oslo", "popu',
        'lation": 709037}, {"name": "Bergen", ',
        '"population": 291940}]}',
    ]
    assert run(text, ops.json_items("cities", type=City)) == [
        City("Oslo", 709037),
        City("Bergen", 291940),
    ]


def test_json_result_emits_the_typed_value_when_the_input_completes() -> None:
    class Answer(msgspec.Struct):
        ok: bool

    assert run(["```json\n", '{"ok": ', "true}", "\n```"], ops.json_result(Answer)) == [
        Answer(ok=True)
    ]


def test_partial_tool_calls_from_fragments() -> None:
    deltas = [
        ToolCallDelta(0, "", id="call_1", name="forecast"),
        ToolCallDelta(0, '{"ci'),
        ToolCallDelta(0, 'ty": "Os'),
        ToolCallDelta(1, '{"q": 1}', id="call_2", name="search"),
        ToolCallDelta(0, 'lo", "days": 3}'),
        FinishDelta("tool_calls", "tool_calls"),
    ]
    progress = run(deltas, ops.partial_tool_calls(), rx_ops.map(copy.deepcopy))
    first = [p for p in progress if p.index == 0]
    assert first[0] == ToolCallProgress(0, "call_1", "forecast", None)
    assert [p.arguments for p in first[1:]] == [{}, {"city": "Os"}, {"city": "Oslo", "days": 3}]
    assert [p.done for p in first] == [False, False, False, True]
    second = [p for p in progress if p.index == 1]
    assert second == [ToolCallProgress(1, "call_2", "search", {"q": 1}, done=True)]


def test_tool_arguments_cut_short_are_a_parse_error() -> None:
    with pytest.raises(rs.ParseError, match="unfinished"):
        run([ToolCallDelta(0, '{"a": ', name="f")], ops.partial_tool_calls())


TOOLS = [{"type": "function", "function": {"name": "forecast", "parameters": {}}}]


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_partial_tool_calls_from_every_provider(provider: str) -> None:
    arguments = {"city": "Oslo", "days": 3, "notes": "a longer string that streams in parts"}
    async with MockServer(MockConfig(text="", tool_arguments={"forecast": arguments})) as mock:
        stream = rs.chat(
            [{"role": "user", "content": "weather?"}],
            model="m",
            provider=provider,  # type: ignore[arg-type]
            base_url=mock.base_url_for(provider),
            api_key="sk-test-0000000000000000",
            tools=TOOLS,
        )
        progress = await rs.collect(
            stream.pipe(ops.partial_tool_calls(), rx_ops.map(copy.deepcopy))
        )
    assert progress
    assert [p.done for p in progress].count(True) == 1
    assert progress[-1].done
    assert progress[-1].name == "forecast"
    assert progress[-1].arguments == arguments


async def test_items_stream_from_a_json_mode_answer() -> None:
    records = [{"id": n, "title": f"Record number {n}", "tags": ["a", "b"]} for n in range(12)]
    document = msgspec.json.encode({"records": records}).decode()
    async with MockServer(MockConfig(text=document, tokens_per_second=2000)) as mock:
        stream = rs.chat(
            [{"role": "user", "content": "records as JSON"}],
            model="m",
            base_url=mock.base_url,
            response_format={"type": "json_object"},
        )
        got = await rs.collect(stream.pipe(ops.text(), ops.json_items("records")))
    assert got == records
