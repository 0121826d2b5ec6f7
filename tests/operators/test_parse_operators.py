"""Operator adapters in virtual time: emissions, errors, and upstream subscribe/dispose ticks."""

from __future__ import annotations

from typing import Any

import pytest
import reactivex
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler

from rxstream import operators as ops
from rxstream.errors import EventTooLarge, ParseError, ProviderError, StreamInterrupted
from rxstream.models import SSEEvent, TextDelta

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)
subscribe = ReactiveTest.subscribe


def test_parse_sse_emits_per_event_and_flushes_on_completion() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, b"data: a\n\nda"),
        on_next(220, b"ta: b\n"),
        on_next(230, b"\n"),
        on_completed(240),
    )
    results = scheduler.start(lambda: source.pipe(ops.parse_sse()))
    assert results.messages == [
        on_next(210, SSEEvent("a")),
        on_next(230, SSEEvent("b")),
        on_completed(240),
    ]
    assert source.subscriptions == [subscribe(200, 240)]


def test_parse_error_stops_upstream_at_once() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, b"data: " + b"x" * 50), on_next(220, b"data: more\n\n"), on_completed(300)
    )
    results = scheduler.start(lambda: source.pipe(ops.parse_sse(max_event_bytes=20)))
    assert len(results.messages) == 1
    assert results.messages[0].time == 210
    assert isinstance(results.messages[0].value.exception, EventTooLarge)
    assert source.subscriptions == [subscribe(200, 210)]


def test_sse_json_completes_at_done_and_disposes_upstream() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, SSEEvent('{"n": 1}')),
        on_next(220, SSEEvent("[DONE]")),
        on_next(230, SSEEvent('{"n": 2}')),
        on_completed(400),
    )
    results = scheduler.start(lambda: source.pipe(ops.sse_json()))
    assert results.messages == [on_next(210, {"n": 1}), on_completed(220)]
    assert source.subscriptions == [subscribe(200, 220)]


def test_sse_json_with_done_none_passes_everything() -> None:
    events = [SSEEvent("[1]"), SSEEvent("[DONE]")]
    with pytest.raises(ParseError):  # "[DONE]" is not JSON: a plain payload now
        reactivex.from_iterable(events).pipe(ops.sse_json(done=None), rx_ops.to_list()).run()


def test_sse_json_in_band_error_is_provider_error() -> None:
    events = [
        SSEEvent('{"ok": 1}'),
        SSEEvent('{"error": {"message": "slow down", "type": "rate_limit_error"}}'),
    ]
    seen: list[Any] = []
    errors: list[Exception] = []
    reactivex.from_iterable(events).pipe(ops.sse_json()).subscribe(seen.append, errors.append)
    assert seen == [{"ok": 1}]
    assert isinstance(errors[0], ProviderError)
    assert errors[0].type == "rate_limit_error"


def test_openai_chat_adds_partial_text_to_upstream_interruption() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, {"choices": [{"index": 0, "delta": {"content": "half an "}}]}),
        on_error(220, StreamInterrupted("connection reset")),
    )
    results = scheduler.start(lambda: source.pipe(ops.openai_chat()))
    error = results.messages[-1].value.exception
    assert isinstance(error, StreamInterrupted)
    assert error.partial_text == "half an "


def test_text_filters_to_one_choice() -> None:
    items = [TextDelta("a", 0), TextDelta("b", 1), "c", 3]
    assert reactivex.from_iterable(items).pipe(ops.text(), rx_ops.to_list()).run() == ["a", "c"]
    assert reactivex.from_iterable(items).pipe(ops.text(None), rx_ops.to_list()).run() == [
        "a",
        "b",
        "c",
    ]


def test_each_subscription_starts_with_a_fresh_decoder() -> None:
    source = reactivex.from_iterable([b"data: a\n\ndata: trailing"])
    parsed = source.pipe(ops.parse_sse(), rx_ops.to_list())
    assert parsed.run() == parsed.run() == [SSEEvent("a")]


def test_downstream_take_disposes_upstream() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, b"data: 1\n\ndata: 2\n\n"), on_next(250, b"data: 3\n\n"), on_completed(300)
    )
    results = scheduler.start(lambda: source.pipe(ops.parse_sse(), rx_ops.take(1)))
    assert results.messages == [on_next(210, SSEEvent("1")), on_completed(210)]
    assert source.subscriptions == [subscribe(200, 210)]


@pytest.mark.parametrize("bad", [0, -1])
def test_options_are_validated_when_the_operator_is_created(bad: int) -> None:
    with pytest.raises(ValueError, match="max_event_bytes"):
        ops.parse_sse(max_event_bytes=bad)
    with pytest.raises(ValueError, match="max_line_bytes"):
        ops.parse_ndjson(max_line_bytes=bad)


def test_parse_ndjson_operator() -> None:
    chunks = [b'{"a"', b': 1}\n{"b": 2}']
    assert reactivex.from_iterable(chunks).pipe(ops.parse_ndjson(), rx_ops.to_list()).run() == [
        {"a": 1},
        {"b": 2},
    ]
