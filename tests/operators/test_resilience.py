"""fallback, hedge and circuit breakers: in virtual time, then against real servers."""

from __future__ import annotations

import time
from typing import Any

import pytest
import structlog
from reactivex import Observable
from reactivex.testing import ReactiveTest, TestScheduler

import rxstream as rs
from rxstream import operators as ops
from rxstream.errors import CircuitOpen, HTTPStatusError, StreamInterrupted, StreamTimeout
from rxstream.mock import MockConfig, MockServer

on_next, on_error, on_completed, subscribe = (
    ReactiveTest.on_next,
    ReactiveTest.on_error,
    ReactiveTest.on_completed,
    ReactiveTest.subscribe,
)
DOWN = StreamInterrupted("connection lost")


# -- fallback ------------------------------------------------------------------------------


def test_fallback_switches_before_the_first_item_and_disposes_the_failed_source() -> None:
    scheduler = TestScheduler()
    a = scheduler.create_cold_observable(on_error(30, DOWN))
    b = scheduler.create_cold_observable(on_next(10, "x"), on_next(20, "y"), on_completed(30))
    switches: list[tuple[int, Exception]] = []
    with structlog.testing.capture_logs() as logs:
        results = scheduler.start(
            lambda: rs.fallback(a, b, on_switch=lambda i, e: switches.append((i, e)))
        )
    assert results.messages == [on_next(240, "x"), on_next(250, "y"), on_completed(260)]
    assert a.subscriptions == [subscribe(200, 230)]
    assert b.subscriptions == [subscribe(230, 260)]
    assert switches == [(1, DOWN)]
    assert next(e for e in logs if e["event"] == "fallback_used")["error"] == "StreamInterrupted"


@pytest.mark.parametrize("status", [400, 422])
def test_a_bad_request_fails_at_once_without_switching(status: int) -> None:
    scheduler = TestScheduler()
    bad = HTTPStatusError("bad", status=status)
    a = scheduler.create_cold_observable(on_error(10, bad))
    b = scheduler.create_cold_observable(on_next(10, "x"), on_completed(20))
    results = scheduler.start(lambda: rs.fallback(a, b))
    assert results.messages == [on_error(210, bad)]
    assert b.subscriptions == []


def test_no_switch_after_output_the_typed_error_ends_the_stream() -> None:
    scheduler = TestScheduler()
    stall = StreamTimeout("stall", which="idle", seconds=1)
    a = scheduler.create_cold_observable(on_next(10, "part"), on_error(20, stall))
    b = scheduler.create_cold_observable(on_next(10, "other"), on_completed(20))
    results = scheduler.start(lambda: rs.fallback(a, b))
    assert results.messages == [on_next(210, "part"), on_error(220, stall)]
    assert b.subscriptions == []


def test_when_all_fail_the_last_error_is_raised_and_when_decides() -> None:
    scheduler = TestScheduler()
    last = HTTPStatusError("503", status=503)
    a = scheduler.create_cold_observable(on_error(10, DOWN))
    b = scheduler.create_cold_observable(on_error(10, last))
    assert scheduler.start(lambda: rs.fallback(a, b)).messages == [on_error(220, last)]
    scheduler = TestScheduler()
    a = scheduler.create_cold_observable(on_error(10, DOWN))
    b = scheduler.create_cold_observable(on_next(1, "b"), on_completed(2))
    never = scheduler.start(lambda: rs.fallback(a, b, when=lambda e: False))
    assert never.messages == [on_error(210, DOWN)]


# -- hedge ---------------------------------------------------------------------------------


def test_hedge_starts_the_next_while_none_emitted_and_the_first_to_emit_wins() -> None:
    scheduler = TestScheduler()
    slow = scheduler.create_cold_observable(on_next(300, "slow"), on_completed(310))
    fast = scheduler.create_cold_observable(on_next(50, "a"), on_next(60, "b"), on_completed(70))
    results = scheduler.start(lambda: rs.hedge(slow, fast, after=100, scheduler=scheduler))
    # fast starts at 300 (after 100), emits at 350 and wins: slow is disposed then
    assert results.messages == [on_next(350, "a"), on_next(360, "b"), on_completed(370)]
    assert slow.subscriptions == [subscribe(200, 350)]
    assert fast.subscriptions == [subscribe(300, 370)]


def test_hedge_does_not_start_another_when_the_first_is_quick() -> None:
    scheduler = TestScheduler()
    quick = scheduler.create_cold_observable(on_next(50, "a"), on_completed(400))
    spare = scheduler.create_cold_observable(on_next(1, "b"), on_completed(2))
    results = scheduler.start(lambda: rs.hedge(quick, spare, after=100, scheduler=scheduler))
    assert results.messages == [on_next(250, "a"), on_completed(600)]
    assert spare.subscriptions == []


def test_a_failure_before_the_next_is_due_starts_it_at_once() -> None:
    scheduler = TestScheduler()
    broken = scheduler.create_cold_observable(on_error(20, DOWN))
    good = scheduler.create_cold_observable(on_next(10, "a"), on_completed(20))
    results = scheduler.start(lambda: rs.hedge(broken, good, after=100, scheduler=scheduler))
    assert good.subscriptions == [subscribe(220, 240)]
    assert results.messages == [on_next(230, "a"), on_completed(240)]


def test_a_failure_is_ignored_while_another_runs_and_all_failing_raises_the_last() -> None:
    scheduler = TestScheduler()
    first = HTTPStatusError("503", status=503)
    a = scheduler.create_cold_observable(on_error(150, first))
    b = scheduler.create_cold_observable(on_error(100, DOWN))
    results = scheduler.start(lambda: rs.hedge(a, b, after=100, scheduler=scheduler))
    # a fails at 350 while b runs (ignored); b fails at 400, the last to fail
    assert results.messages == [on_error(400, DOWN)]


def test_a_source_that_completes_without_items_wins() -> None:
    scheduler = TestScheduler()
    empty = scheduler.create_cold_observable(on_completed(150))
    late = scheduler.create_cold_observable(on_next(100, "x"), on_completed(110))
    results = scheduler.start(lambda: rs.hedge(empty, late, after=100, scheduler=scheduler))
    assert results.messages == [on_completed(350)]
    assert late.subscriptions == [subscribe(300, 350)]


# -- circuit breakers ----------------------------------------------------------------------


def attempt(
    scheduler: TestScheduler,
    breaker: rs.CircuitBreaker,
    source: Any,
    at: int,
    dispose_at: int | None = None,
) -> list[Any]:
    """Subscribe ``source`` through ``guard(breaker)`` at tick ``at``; what it got."""
    seen: list[Any] = []

    def go(*_: Any) -> None:
        subscription = source.pipe(ops.guard(breaker, scheduler=scheduler)).subscribe(
            seen.append, seen.append, lambda: seen.append("done")
        )
        if dispose_at is not None:
            scheduler.schedule_absolute(dispose_at, lambda *_: subscription.dispose())

    scheduler.schedule_absolute(at, go)
    return seen


def test_consecutive_failures_open_the_breaker_then_a_trial_closes_it() -> None:
    scheduler = TestScheduler()
    breaker = rs.CircuitBreaker(failures=3, reset_after=50, name="primary")
    failing = scheduler.create_cold_observable(on_error(1, DOWN))
    for at in (10, 20, 30):
        attempt(scheduler, breaker, failing, at)
    refused = attempt(scheduler, breaker, failing, 40)
    scheduler.advance_to(45)
    assert breaker.state == "open"  # opened at 31 by the third failure
    assert len(failing.subscriptions) == 3  # no request while open
    assert isinstance(refused[0], CircuitOpen)
    assert refused[0].retry_after == pytest.approx(41)  # from when it opened, 31 + 50
    still = attempt(scheduler, breaker, failing, 80)  # rejections do not extend it
    ok = scheduler.create_cold_observable(on_next(1, "x"), on_completed(2))
    trial = attempt(scheduler, breaker, ok, 81)  # past 31 + 50: the trial goes through
    scheduler.advance_to(100)
    assert isinstance(still[0], CircuitOpen)
    assert trial == ["x", "done"]
    assert breaker.state == "closed"


def test_a_failed_trial_opens_it_again_and_a_dropped_trial_counts_as_failed() -> None:
    scheduler = TestScheduler()
    breaker = rs.CircuitBreaker(failures=1, reset_after=50)
    failing = scheduler.create_cold_observable(on_error(1, DOWN))
    attempt(scheduler, breaker, failing, 10)
    scheduler.advance_to(20)
    assert breaker.state == "open"
    attempt(scheduler, breaker, failing, 70)  # the trial fails: open again, from 71
    scheduler.advance_to(80)
    assert breaker.state == "open"
    silent = scheduler.create_cold_observable(on_next(500, "late"))
    attempt(scheduler, breaker, silent, 130, dispose_at=140)
    blocked = attempt(scheduler, breaker, silent, 135)  # one trial at a time
    scheduler.advance_to(150)
    assert isinstance(blocked[0], CircuitOpen)
    assert breaker.state == "open"  # disposed before its first item: never stuck half-open


def test_bad_requests_do_not_count_against_the_provider() -> None:
    scheduler = TestScheduler()
    breaker = rs.CircuitBreaker(failures=2, reset_after=50)
    bad = scheduler.create_cold_observable(on_error(1, HTTPStatusError("bad", status=400)))
    for at in range(10, 60, 10):
        attempt(scheduler, breaker, bad, at)
    scheduler.advance_to(100)
    assert breaker.state == "closed"


def test_breaker_options_are_checked() -> None:
    with pytest.raises(ValueError, match="failures"):
        rs.CircuitBreaker(failures=0)
    with pytest.raises(ValueError, match="reset_after"):
        rs.CircuitBreaker(reset_after=0)


# -- real servers ----------------------------------------------------------------------------


def answer(mock: MockServer, fault: str | None = None, **options: Any) -> Observable[Any]:
    headers = {"x-mock-fault": fault} if fault else None
    return rs.chat(
        [{"role": "user", "content": "hi"}],
        model="m",
        base_url=mock.base_url,
        retry=None,
        headers=headers,
        **options,
    ).pipe(ops.text())


async def test_fallback_to_another_server_when_the_primary_is_down() -> None:
    async with (
        MockServer(MockConfig(text="from the primary")) as primary,
        MockServer(MockConfig(text="from the fallback")) as backup,
    ):
        text = await rs.collect(rs.fallback(answer(primary, "status=503"), answer(backup)))
        assert "".join(text) == "from the fallback"
        bad = rs.fallback(answer(primary, "status=400"), answer(backup))
        with pytest.raises(HTTPStatusError) as info:
            await rs.collect(bad)
        assert info.value.status == 400
        assert len(backup.requests) == 1  # a bad request is not sent elsewhere


async def test_the_hedge_loser_connection_is_closed_as_the_server_sees_it() -> None:
    config = MockConfig(text="winner text")
    async with MockServer(config) as slow, MockServer(config) as fast:
        started = time.perf_counter()
        race = rs.hedge(answer(slow, "slow_start=5"), answer(fast), after=0.05)
        assert "".join(await rs.collect(race)) == "winner text"
        assert time.perf_counter() - started < 1.0
        await slow.records[-1].finished.wait()
        assert slow.records[-1].outcome == "disconnected"
        assert slow.records[-1].events_sent == 0


async def test_a_breaker_lets_a_fallback_skip_a_dead_provider_without_waiting() -> None:
    breaker = rs.CircuitBreaker(failures=1, reset_after=60)
    async with MockServer() as dead, MockServer(MockConfig(text="ok")) as backup:
        slow_fail = answer(dead, "never_respond", first=0.3).pipe(ops.guard(breaker))
        assert "".join(await rs.collect(rs.fallback(slow_fail, answer(backup)))) == "ok"
        assert breaker.state == "open"
        requests = len(dead.records)
        started = time.perf_counter()
        assert "".join(await rs.collect(rs.fallback(slow_fail, answer(backup)))) == "ok"
        assert time.perf_counter() - started < 0.25  # the breaker answered, not a timeout
        assert len(dead.records) == requests


async def test_chat_falls_back_and_hedges_from_one_request() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    messages = [{"role": "user", "content": "hi"}]
    async with (
        MockServer(MockConfig(text="slow primary", first_event_delay=5)) as slow,
        MockServer(MockConfig(text="backup")) as backup,
    ):
        down = rs.chat(messages, model="m", base_url=f"http://127.0.0.1:{closed_port}/v1",
                       fallbacks=[{"base_url": backup.base_url}], retry=None)  # fmt: skip
        assert "".join(await rs.collect(down.pipe(ops.text()))) == "backup"
        started = time.perf_counter()
        hedged = rs.chat(messages, model="m", base_url=slow.base_url, retry=None,
                         fallbacks=[{"base_url": backup.base_url}], hedge_after=0.05)  # fmt: skip
        assert "".join(await rs.collect(hedged.pipe(ops.text()))) == "backup"
        assert time.perf_counter() - started < 1.0
        await slow.records[-1].finished.wait()
        assert slow.records[-1].outcome == "disconnected"  # the slow request was closed
