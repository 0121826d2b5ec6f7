"""Time-based shaping operators in virtual time (1 tick = 1 second)."""

from __future__ import annotations

import pytest
import reactivex
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler

from rxstream import operators as ops

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)
subscribe = ReactiveTest.subscribe


def test_throttle_text_first_fragment_at_once_then_one_per_interval() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "a"),
        on_next(211, "b"),
        on_next(212, "c"),
        on_next(216, "d"),
        on_next(230, "e"),
        on_completed(232),
    )
    results = scheduler.start(lambda: source.pipe(ops.throttle_text(5, scheduler=scheduler)))
    assert results.messages == [
        on_next(210, "a"),  # time to first token unchanged
        on_next(215, "bc"),  # the window's end carries what arrived meanwhile
        on_next(220, "d"),  # d arrived during the next window
        on_next(230, "e"),  # idle again: immediately
        on_completed(232),
    ]
    assert source.subscriptions == [subscribe(200, 232)]


def test_throttle_text_flushes_on_completion_and_before_errors() -> None:
    scheduler = TestScheduler()
    boom = RuntimeError("x")
    source = scheduler.create_hot_observable(
        on_next(210, "a"), on_next(211, "b"), on_error(212, boom)
    )
    results = scheduler.start(lambda: source.pipe(ops.throttle_text(5, scheduler=scheduler)))
    assert results.messages == [on_next(210, "a"), on_next(212, "b"), on_error(212, boom)]


def test_throttle_text_stops_timers_on_dispose() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(210, "a"), on_next(211, "b"))
    results = scheduler.start(
        lambda: source.pipe(ops.throttle_text(5, scheduler=scheduler)), disposed=213
    )
    assert results.messages == [on_next(210, "a")]  # "b" was never due before dispose
    assert source.subscriptions == [subscribe(200, 213)]


def test_buffer_text_by_size() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "ab"), on_next(211, "cd"), on_next(212, "e"), on_completed(215)
    )
    results = scheduler.start(lambda: source.pipe(ops.buffer_text(max_chars=4)))
    assert results.messages == [on_next(211, "abcd"), on_next(215, "e"), on_completed(215)]


def test_buffer_text_by_delay_from_the_first_held_fragment() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "a"), on_next(213, "b"), on_next(221, "c"), on_completed(230)
    )
    results = scheduler.start(
        lambda: source.pipe(ops.buffer_text(max_delay=5, scheduler=scheduler))
    )
    assert results.messages == [on_next(215, "ab"), on_next(226, "c"), on_completed(230)]


def test_buffer_text_whichever_bound_comes_first() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "aaa"), on_next(211, "bb"), on_next(212, "c"), on_completed(240)
    )
    results = scheduler.start(
        lambda: source.pipe(ops.buffer_text(max_chars=5, max_delay=10, scheduler=scheduler))
    )
    # size reached at 211; "c" alone waits for its delay; the old timer must not fire at 220
    assert results.messages == [on_next(211, "aaabb"), on_next(222, "c"), on_completed(240)]


def test_debounce_text_emits_after_quiet() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "a"), on_next(212, "b"), on_next(230, "c"), on_completed(232)
    )
    results = scheduler.start(lambda: source.pipe(ops.debounce_text(5, scheduler=scheduler)))
    assert results.messages == [on_next(217, "ab"), on_next(232, "c"), on_completed(232)]


def test_smooth_paces_a_burst_at_the_given_rate() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(210, "one two three"), on_completed(300))
    results = scheduler.start(
        lambda: source.pipe(ops.smooth(chars_per_second=1, max_lag=100, scheduler=scheduler))
    )
    # "three" is still an open word until completion, which flushes at once.
    assert results.messages == [
        on_next(210, "one"),
        on_next(213, " two"),
        on_next(300, " three"),
        on_completed(300),
    ]


def test_smooth_speeds_up_so_the_backlog_stays_within_max_lag() -> None:
    scheduler = TestScheduler()
    burst = "a " * 40  # 40 words of 2 chars, at 1 char/s it would take 80 s
    source = scheduler.create_hot_observable(on_next(210, burst + "end"), on_next(260, " x"))
    results = scheduler.start(
        lambda: source.pipe(ops.smooth(chars_per_second=1, max_lag=4, scheduler=scheduler))
    )
    emitted = [(m.time, m.value.value) for m in results.messages if m.value.kind == "N"]
    assert "".join(text for _, text in emitted) == burst + "end"
    burst_times = [t for t, text in emitted if text.strip() == "a"]
    assert len(burst_times) == 40
    assert burst_times[0] == 210
    # 80 chars at 1 char/s would take 80 s; the max_lag rule drains them in about 4 s
    assert burst_times[-1] <= 210 + 4 + 1
    assert emitted[-1] == (260, " end")  # the open word was completed by " x"


def test_smooth_char_chunking_and_flush_on_error() -> None:
    scheduler = TestScheduler()
    boom = ValueError("stop")
    source = scheduler.create_hot_observable(on_next(210, "abc"), on_error(211, boom))
    results = scheduler.start(
        lambda: source.pipe(
            ops.smooth(chars_per_second=1, chunking="char", max_lag=100, scheduler=scheduler)
        )
    )
    assert results.messages == [on_next(210, "a"), on_next(211, "bc"), on_error(211, boom)]


def test_words_and_lines() -> None:
    fragments = ["Hel", "lo wor", "ld  and", "\nmore\nlines"]
    got_words = reactivex.from_iterable(fragments).pipe(ops.words(), rx_ops.to_list()).run()
    assert got_words == ["Hello", " world", "  and", "\nmore", "\nlines"]
    got_lines = reactivex.from_iterable(fragments).pipe(ops.lines(), rx_ops.to_list()).run()
    assert got_lines == ["Hello world  and\n", "more\n", "lines"]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ops.buffer_text(),
        lambda: ops.buffer_text(max_chars=0),
        lambda: ops.buffer_text(max_delay=0),
        lambda: ops.throttle_text(0),
        lambda: ops.debounce_text(-1),
        lambda: ops.smooth(chars_per_second=0),
        lambda: ops.smooth(chunking="line"),
        lambda: ops.smooth(max_lag=0),
    ],
)
def test_invalid_options_fail_at_pipe_time(make: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        make()  # type: ignore[operator]


# -- no text is ever lost: concatenated output == concatenated input -------------------

_fragments = st.lists(st.text(alphabet="ab \n.", max_size=6), max_size=15)
_gaps = st.lists(st.integers(1, 7), min_size=15, max_size=15)


def _run_timed(op_factory: object, fragments: list[str], gaps: list[int]) -> str:
    scheduler = TestScheduler()
    t = 201
    messages = []
    for fragment, gap in zip(fragments, gaps, strict=False):
        messages.append(on_next(t, fragment))
        t += gap
    messages.append(on_completed(t))
    source = scheduler.create_hot_observable(*messages)
    results = scheduler.start(lambda: source.pipe(op_factory(scheduler)))  # type: ignore[operator]
    assert results.messages[-1].value.kind == "C"
    return "".join(m.value.value for m in results.messages if m.value.kind == "N")


@settings(max_examples=60)
@given(_fragments, _gaps)
def test_timed_operators_never_lose_or_reorder_text(fragments: list[str], gaps: list[int]) -> None:
    expected = "".join(fragments)
    factories = [
        lambda s: ops.buffer_text(max_chars=4, max_delay=3, scheduler=s),
        lambda s: ops.throttle_text(4, scheduler=s),
        lambda s: ops.debounce_text(3, scheduler=s),
        lambda s: ops.smooth(chars_per_second=2, scheduler=s),
        lambda s: ops.smooth(chunking="char", scheduler=s),
        lambda s: ops.words(),
        lambda s: ops.lines(),
    ]
    for factory in factories:
        assert _run_timed(factory, fragments, gaps) == expected
