"""ops.timeout in virtual time (promises 8, 9)."""

from __future__ import annotations

import pytest
from reactivex.testing import ReactiveTest, TestScheduler

import rxstream as rs
from rxstream import operators as ops
from rxstream.errors import StreamTimeout

on_next, on_completed = ReactiveTest.on_next, ReactiveTest.on_completed
subscribe = ReactiveTest.subscribe


def timeout_error(results: object) -> StreamTimeout:
    error = results.messages[-1].value.exception  # type: ignore[attr-defined]
    assert isinstance(error, StreamTimeout)
    return error


def test_first_counts_from_subscription_to_the_first_item() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(260, "late"))
    results = scheduler.start(lambda: source.pipe(ops.timeout(first=30, scheduler=scheduler)))
    error = timeout_error(results)
    assert (results.messages[-1].time, error.which, error.seconds) == (230, "first", 30)
    assert source.subscriptions == [subscribe(200, 230)]  # upstream disposed at expiry


def test_idle_is_the_longest_gap_between_items() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(205, "a"), on_next(212, "b"), on_next(219, "c"), on_next(240, "d")
    )
    results = scheduler.start(
        lambda: source.pipe(ops.timeout(first=10, idle=8, scheduler=scheduler))
    )
    assert [m.value.value for m in results.messages[:-1]] == ["a", "b", "c"]
    error = timeout_error(results)
    assert (results.messages[-1].time, error.which) == (227, "idle")


def test_idle_alone_also_bounds_the_wait_for_the_first_item() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(300, "x"))
    results = scheduler.start(lambda: source.pipe(ops.timeout(idle=5, scheduler=scheduler)))
    assert results.messages[-1].time == 205


def test_total_bounds_the_whole_subscription() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(*(on_next(201 + i, i) for i in range(100)))
    results = scheduler.start(
        lambda: source.pipe(ops.timeout(total=50, idle=5, scheduler=scheduler))
    )
    error = timeout_error(results)
    assert (results.messages[-1].time, error.which) == (250, "total")


def test_completion_cancels_the_timers() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(201, "a"), on_completed(202))
    results = scheduler.start(
        lambda: source.pipe(ops.timeout(first=5, idle=5, total=5, scheduler=scheduler))
    )
    assert results.messages == [on_next(201, "a"), on_completed(202)]


def test_sse_keepalive_comments_do_not_reset_idle() -> None:
    scheduler = TestScheduler()
    # one real event, then ": ping" comments every 0.25 s forever (here: 40 of them)
    chunks = [b"data: hello\n\n"] + [b": ping\n\n"] * 40
    results = scheduler.start(
        lambda: rs.from_chunks(chunks, interval=0.25, scheduler=scheduler).pipe(
            ops.parse_sse(), ops.timeout(idle=1, scheduler=scheduler)
        )
    )
    assert results.messages[0].value.value.data == "hello"
    assert results.messages[-1].time == 201  # 1 s after the only event, pings notwithstanding
    assert timeout_error(results).which == "idle"


@pytest.mark.parametrize("options", [{}, {"first": 0}, {"idle": -1}, {"total": float("nan")}])
def test_invalid_options(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        ops.timeout(**options)
