"""ops.retry in virtual time: exact waits, budgets, mid-stream policy, logs (promises 1-7)."""

from __future__ import annotations

from typing import Any

import pytest
import reactivex
import structlog
from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.testing import ReactiveTest, TestScheduler

from rxstream import RetryPolicy
from rxstream import operators as ops
from rxstream._attempt import current_attempt
from rxstream.errors import (
    HTTPStatusError,
    ParseError,
    ProviderError,
    RateLimitError,
    StreamError,
    StreamInterrupted,
    StreamTimeout,
)
from rxstream.models import Restart, SSEEvent, TextDelta

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)
subscribe = ReactiveTest.subscribe

EXACT = {"jitter": None}


def failing_then(scheduler: TestScheduler, failures: list[Exception], items: list[Any]) -> Any:
    """A cold source: each subscription fails with the next failure, then emits items."""
    attempts: list[float] = []

    def subscribe_(
        observer: abc.ObserverBase[Any], _: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        attempts.append(scheduler.clock)
        n = len(attempts)
        if n <= len(failures):
            observer.on_error(failures[n - 1])
        else:
            for item in items:
                observer.on_next(item)
            observer.on_completed()
        return Disposable()

    return Observable(subscribe_), attempts


def test_waits_before_attempts_2_3_4_are_exactly_half_one_two_seconds() -> None:
    scheduler = TestScheduler()
    fail = HTTPStatusError("503", status=503)
    source, attempts = failing_then(scheduler, [fail, fail, fail], ["ok"])
    results = scheduler.start(
        lambda: source.pipe(ops.retry(RetryPolicy(max_retries=3, **EXACT), scheduler=scheduler))
    )
    assert attempts == [200, 200.5, 201.5, 203.5]
    assert results.messages == [on_next(203.5, "ok"), on_completed(203.5)]


def test_gives_up_after_max_retries_with_attempts_on_the_error() -> None:
    scheduler = TestScheduler()
    fail = HTTPStatusError("503", status=503)
    source, attempts = failing_then(scheduler, [fail] * 10, [])
    results = scheduler.start(
        lambda: source.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=scheduler))
    )
    assert len(attempts) == 3
    error = results.messages[-1].value.exception
    assert error is fail
    assert error.attempts == 3


def test_non_retryable_errors_reach_the_subscriber_after_one_attempt() -> None:
    for error in (HTTPStatusError("400", status=400), ParseError("bad")):
        scheduler = TestScheduler()
        source, attempts = failing_then(scheduler, [error], ["never"])
        results = scheduler.start(
            lambda s=source, c=scheduler: s.pipe(ops.retry(RetryPolicy(), scheduler=c))
        )
        assert len(attempts) == 1
        assert results.messages == [on_error(200, error)]
        assert error.attempts == 1


def test_retry_after_hint_is_used_and_a_too_long_one_raises_at_once() -> None:
    scheduler = TestScheduler()
    limited = RateLimitError("429", headers={"retry-after": "3"})
    source, attempts = failing_then(scheduler, [limited], ["ok"])
    scheduler.start(lambda: source.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=scheduler)))
    assert attempts == [200, 203]

    scheduler = TestScheduler()
    too_long = RateLimitError("429", headers={"retry-after": "600"})
    source, attempts = failing_then(scheduler, [too_long], ["ok"])
    results = scheduler.start(
        lambda: source.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=scheduler))
    )
    assert attempts == [200]
    assert results.messages == [on_error(200, too_long)]
    assert too_long.retry_after == 600


def test_malformed_or_non_positive_hints_fall_back_to_backoff() -> None:
    for value in ("0", "-1", "soon", "nan"):
        scheduler = TestScheduler()
        error = HTTPStatusError("503", status=503, headers={"retry-after": value})
        source, attempts = failing_then(scheduler, [error], ["ok"])
        scheduler.start(
            lambda s=source, c=scheduler: s.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=c))
        )
        assert attempts == [200, 200.5], value


def test_budget_gives_up_now_instead_of_sleeping_past_it() -> None:
    scheduler = TestScheduler()
    fail = HTTPStatusError("503", status=503)
    source, attempts = failing_then(scheduler, [fail] * 10, [])
    policy = RetryPolicy(max_retries=None, max_elapsed=2.0, **EXACT)
    results = scheduler.start(lambda: source.pipe(ops.retry(policy, scheduler=scheduler)))
    # waits 0.5 (t=0.5) and 1.0 (t=1.5); the next (2.0) would end at 3.5 > 2: give up at 1.5
    assert attempts == [200, 200.5, 201.5]
    assert results.messages[-1].time == 201.5


def test_after_output_the_default_raises_interrupted_with_partial_text_once() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        on_next(1, TextDelta("Hel")),
        on_next(2, TextDelta("lo")),
        on_error(3, StreamInterrupted("reset")),
    )
    results = scheduler.start(
        lambda: source.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=scheduler))
    )
    assert [m.value.value for m in results.messages[:-1]] == [TextDelta("Hel"), TextDelta("lo")]
    error = results.messages[-1].value.exception
    assert isinstance(error, StreamInterrupted)
    assert (error.partial_text, error.events, error.attempts) == ("Hello", 2, 1)
    assert source.subscriptions == [subscribe(200, 203)]


@pytest.mark.parametrize(
    "failure",
    [
        StreamTimeout("stalled", which="idle", seconds=1.0),
        ProviderError("overloaded", type="overloaded_error"),
        ParseError("bad json", position=12),
        HTTPStatusError("503", status=503),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_failure_after_output_keeps_its_own_type_and_carries_the_partial_output(
    failure: StreamError,
) -> None:
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        on_next(1, SSEEvent("x", id="4")),
        on_next(2, "part"),
        on_next(3, "ial"),
        on_error(4, failure),
    )
    results = scheduler.start(lambda: source.pipe(ops.retry(RetryPolicy(), scheduler=scheduler)))
    error = results.messages[-1].value.exception
    assert error is failure  # the same object: `except StreamTimeout:` etc. catch it
    assert not isinstance(error, StreamInterrupted)
    assert (error.partial_text, error.events, error.last_event_id) == ("partial", 3, "4")
    assert error.attempts == 1
    assert source.subscriptions == [subscribe(200, 204)]  # not retried


@pytest.mark.parametrize("on_partial", ["restart", "resume"])
def test_once_restart_or_resume_retries_are_exhausted_the_error_keeps_its_type(
    on_partial: Any,
) -> None:
    scheduler = TestScheduler()
    failure = StreamTimeout("stalled", which="idle", seconds=1.0)
    source = scheduler.create_cold_observable(
        on_next(1, SSEEvent("x", id="1")), on_next(2, "ab"), on_error(3, failure)
    )
    policy = RetryPolicy(**EXACT, max_retries=1, on_partial=on_partial)
    results = scheduler.start(lambda: source.pipe(ops.retry(policy, scheduler=scheduler)))
    error = results.messages[-1].value.exception
    assert isinstance(error, StreamTimeout)
    assert error.attempts == 2
    # restart: the second run's output; resume: everything delivered across both
    expected = "ab" if on_partial == "restart" else "abab"
    assert error.partial_text == expected


def test_restart_emits_a_marker_then_starts_over() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        on_next(1, "a"), on_error(2, StreamInterrupted("reset"))
    )
    runs = {"n": 0}

    def factory() -> Observable[Any]:
        def pick(_: Any) -> Observable[Any]:
            runs["n"] += 1
            return source if runs["n"] == 1 else reactivex.of("a", "b")

        return reactivex.defer(pick).pipe(
            ops.retry(RetryPolicy(on_partial="restart", **EXACT), scheduler=scheduler)
        )

    results = scheduler.start(factory)
    values = [m.value.value for m in results.messages if m.value.kind == "N"]
    assert values == ["a", Restart("StreamInterrupted"), "a", "b"]
    restarted = [m.time for m in results.messages if m.value.kind == "N"]
    assert restarted[1] == 202  # the marker goes out when the restart is decided
    assert restarted[2] == 202.5  # the new attempt begins after the backoff


def test_resume_passes_the_last_event_id_to_the_source() -> None:
    scheduler = TestScheduler()
    seen: list[Any] = []

    def subscribe_(
        observer: abc.ObserverBase[Any], _: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        attempt = current_attempt.get()
        seen.append((attempt.number, attempt.last_event_id) if attempt else None)
        if len(seen) == 1:
            observer.on_next("first part")
            observer.on_error(StreamInterrupted("reset", last_event_id="7", reconnect_delay=0.25))
        else:
            observer.on_next(" rest")
            observer.on_completed()
        return Disposable()

    results = scheduler.start(
        lambda: Observable(subscribe_).pipe(
            ops.retry(RetryPolicy(on_partial="resume", **EXACT), scheduler=scheduler)
        )
    )
    assert seen == [(1, None), (2, "7")]
    assert [m.value.value for m in results.messages if m.value.kind == "N"] == [
        "first part",
        " rest",
    ]
    assert results.messages[-1].time == 200.25  # the server's retry: hint, not the backoff


def test_dispose_during_the_wait_starts_no_retry() -> None:
    scheduler = TestScheduler()
    fail = HTTPStatusError("503", status=503)
    source, attempts = failing_then(scheduler, [fail, fail], ["ok"])
    results = scheduler.start(
        lambda: source.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=scheduler)), disposed=200.3
    )
    assert attempts == [200]
    assert results.messages == []


def test_each_retry_logs_retry_scheduled_without_secrets() -> None:
    scheduler = TestScheduler()
    fail = HTTPStatusError("HTTP 503 from https://x/?key=sk-secret", status=503)
    source, _ = failing_then(scheduler, [fail, fail], ["ok"])
    with structlog.testing.capture_logs() as logs:
        scheduler.start(lambda: source.pipe(ops.retry(RetryPolicy(**EXACT), scheduler=scheduler)))
    scheduled = [e for e in logs if e["event"] == "retry_scheduled"]
    assert [(e["attempt"], e["delay"], e["reason"], e["status"]) for e in scheduled] == [
        (2, 0.5, "HTTPStatusError", 503),
        (3, 1.0, "HTTPStatusError", 503),
    ]
    assert "sk-secret" not in repr(logs)


def test_resume_after_an_id_reset_to_empty_does_not_reconnect() -> None:
    # `id:` with no value resets the last event id: there is no position to resume
    # after, and reconnecting without Last-Event-ID would deliver the text twice.
    scheduler = TestScheduler()
    source = scheduler.create_cold_observable(
        on_next(1, SSEEvent("a", id="5")),
        on_next(2, SSEEvent("b", id="")),
        on_error(3, StreamInterrupted("reset")),
    )
    policy = RetryPolicy(**EXACT, on_partial="resume")
    results = scheduler.start(lambda: source.pipe(ops.retry(policy, scheduler=scheduler)))
    error = results.messages[-1].value.exception
    assert isinstance(error, StreamInterrupted)
    assert (error.attempts, error.last_event_id) == (1, "")
    assert source.subscriptions == [subscribe(200, 203)]
