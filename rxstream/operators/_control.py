"""Control operators: retry, timeouts and measurement."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SerialDisposable, SingleAssignmentDisposable

from .._attempt import Attempt, current_attempt
from .._clock import seconds
from .._decoders.metrics import MetricsRecorder
from .._log import get_logger
from .._retry import RetryPolicy, describe, is_retryable, server_hint
from .._scheduling import resolve
from ..errors import HTTPStatusError, StreamError, StreamInterrupted, StreamTimeout
from ..models import Restart, SSEEvent, StreamMetrics, TextDelta
from ..telemetry import span_event
from ..typing import Operator

T = TypeVar("T")
log = get_logger(__name__)


def metrics(
    on_report: Callable[[StreamMetrics], None] | None = None,
    *,
    scheduler: abc.SchedulerBase | None = None,
) -> Operator[T, T]:
    """Pass items through unchanged and measure the stream.

    At completion or error, reports a ``StreamMetrics`` (time to first item, items/s,
    text chars/s, tokens/s when usage is known, gap p50/p99, duration) to ``on_report``
    and as a structlog ``stream_metrics`` event. Time is measured on ``scheduler``'s
    clock when given (virtual time in tests), else with ``time.perf_counter``. An
    exception raised by ``on_report`` reaches the subscriber as ``on_error``.

    ::

        --a----b--c--|
        [ metrics(f) ]
        --a----b--c--|   f(StreamMetrics(items=3, ...)) at completion
    """
    clock: Callable[[], float]
    if scheduler is not None:
        epoch = scheduler.now

        def clock() -> float:
            return (scheduler.now - epoch).total_seconds()
    else:
        clock = time.perf_counter

    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(
            observer: abc.ObserverBase[T], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            recorder = MetricsRecorder(clock())

            def on_next(item: T) -> None:
                recorder.observe(item, clock())
                observer.on_next(item)

            def finish(error: Exception | None) -> None:
                report = recorder.report(clock(), error)
                log.info("stream_metrics", **_loggable(report))
                if on_report is not None:
                    try:
                        on_report(report)
                    except Exception as callback_error:
                        observer.on_error(callback_error)
                        return
                if error is None:
                    observer.on_completed()
                else:
                    observer.on_error(error)

            return source.subscribe(
                on_next, finish, lambda: finish(None), scheduler=subscribe_scheduler
            )

        return Observable(subscribe)

    return operator


def _loggable(report: StreamMetrics) -> dict[str, object]:
    return {
        "items": report.items,
        "duration": round(report.duration, 6),
        "time_to_first_item": report.time_to_first_item,
        "items_per_second": round(report.items_per_second, 3),
        "chars_per_second": round(report.chars_per_second, 3),
        "tokens_per_second": report.tokens_per_second,
        "gap_p50": report.gap_p50,
        "gap_p99": report.gap_p99,
        "error": report.error,
    }


def timeout(
    *,
    first: float | None = None,
    idle: float | None = None,
    total: float | None = None,
    scheduler: abc.SchedulerBase | None = None,
) -> Operator[T, T]:
    """Fail with ``StreamTimeout`` when the stream stalls.

    ``first``: seconds from subscription to the first item; ``idle``: the longest gap
    between items (also before the first one when ``first`` is not given); ``total``:
    the whole subscription. Items are what reaches this operator, so place it after
    ``parse_sse()`` or later: SSE keep-alive comments never count as progress. On
    expiry the upstream is disposed at once (closing the HTTP connection); the error
    carries the text delivered so far (``partial_text``). Placed
    before ``ops.retry()``, ``first``/``idle`` apply per attempt and a timeout before
    any output is retried; placed after it, ``total`` bounds all attempts.

    ::

        --a--b-----------c--|
        [ timeout(idle=5)  ]
        --a--b-----#            StreamTimeout(which="idle", seconds=5)
    """
    for name, value in (("first", first), ("idle", idle), ("total", total)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds")
    if first is None and idle is None and total is None:
        raise ValueError("timeout needs first, idle or total")

    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(
            observer: abc.ObserverBase[T], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = resolve(scheduler, subscribe_scheduler)
            now = seconds(clock)
            upstream = SingleAssignmentDisposable()
            item_timer = SerialDisposable()
            total_timer = SerialDisposable()
            done = False
            seen_item = False
            last_item = now()
            partial = _Partial()

            def stop_timers() -> None:
                item_timer.dispose()
                total_timer.dispose()

            def expire(which: Any, limit: float) -> None:
                nonlocal done
                if done:
                    return
                done = True
                stop_timers()
                upstream.dispose()
                error = StreamTimeout(
                    _TIMEOUT_MESSAGES[which].format(limit=limit), which=which, seconds=limit
                )
                observer.on_error(partial.annotate(error))

            def check_idle(*_: Any) -> None:
                assert idle is not None
                # One timer per quiet period, not one per item: re-arm for what is left.
                remaining = last_item + idle - now()
                if remaining > 0:
                    item_timer.disposable = clock.schedule_relative(remaining, check_idle)
                else:
                    expire("idle", idle)

            def on_next(item: T) -> None:
                nonlocal seen_item, last_item
                if done:
                    return
                if idle is not None:
                    last_item = now()
                elif not seen_item:
                    item_timer.disposable = None  # first item: the "first" deadline is met
                if not seen_item:
                    seen_item = True
                    if first is not None and idle is not None:
                        item_timer.disposable = clock.schedule_relative(idle, check_idle)
                partial.observe(item)
                observer.on_next(item)

            def on_error(error: Exception) -> None:
                nonlocal done
                if not done:
                    done = True
                    stop_timers()
                    observer.on_error(error)

            def on_completed() -> None:
                nonlocal done
                if not done:
                    done = True
                    stop_timers()
                    observer.on_completed()

            if total is not None:
                total_timer.disposable = clock.schedule_relative(
                    total, lambda *_: expire("total", total)
                )
            if first is not None:
                item_timer.disposable = clock.schedule_relative(
                    first, lambda *_: expire("first", first)
                )
            elif idle is not None:
                item_timer.disposable = clock.schedule_relative(idle, check_idle)
            upstream.disposable = source.subscribe(
                on_next, on_error, on_completed, scheduler=subscribe_scheduler
            )
            return CompositeDisposable(upstream, item_timer, total_timer)

        return Observable(subscribe)

    return operator


_TIMEOUT_MESSAGES = {
    "first": "Nothing arrived within first={limit} s of starting the request. The server "
    "may be overloaded or stalled; retry, or raise first=.",
    "idle": "The stream stalled: no event for idle={limit} s (keep-alive comments do not "
    "count). Retry, or raise idle=.",
    "total": "The stream did not finish within total={limit} s. Raise total= for longer answers.",
}


def retry(
    policy: RetryPolicy | None = None, *, scheduler: abc.SchedulerBase | None = None
) -> Operator[T, T | Restart]:
    """Re-subscribe (one new request per attempt) when an attempt fails retryably.

    Before any item went downstream, a retryable failure (see ``RetryPolicy``) is
    retried after the backoff or the server's ``Retry-After``. After output, the
    policy's ``on_partial`` decides: ``"fail"`` (default) raises the failure with its
    own type (``StreamTimeout``, ``ProviderError``, ``ParseError``, or
    ``StreamInterrupted`` for a lost connection), so text is never delivered twice;
    ``"restart"`` emits a ``Restart`` marker, then starts over; ``"resume"``
    reconnects sending ``Last-Event-ID``. The final error, whatever its type, carries
    ``attempts`` and what went downstream (``partial_text``, ``events``,
    ``last_event_id``). Each retry logs ``retry_scheduled`` (attempt, delay, reason,
    status). Waits run on ``scheduler`` (virtual time in tests).

    ::

        --a--#                  (first attempt fails before any item? retried)
        [ retry(policy) ]
        -----(wait)--a--b--|
    """
    policy = policy if policy is not None else RetryPolicy()

    def operator(source: Observable[T]) -> Observable[T | Restart]:
        def subscribe(
            observer: abc.ObserverBase[Any], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = resolve(scheduler, subscribe_scheduler)
            now = seconds(clock)
            deadline = now() + policy.max_elapsed if policy.max_elapsed is not None else None
            current = SerialDisposable()
            timer = SerialDisposable()
            partial = _Partial()
            attempts = 0
            retries = 0
            stopped = False

            def fail(error: Exception) -> None:
                nonlocal stopped
                stopped = True
                if isinstance(error, StreamError):
                    error.attempts = attempts
                    partial.annotate(error)
                observer.on_error(error)

            def start(resume_after: str | None = None) -> None:
                nonlocal attempts
                if stopped:
                    return
                attempts += 1
                number = attempts
                token = current_attempt.set(Attempt(number, resume_after))
                try:
                    current.disposable = source.subscribe(
                        on_next,
                        lambda error: on_error(error, number),
                        lambda: on_completed(number),
                        scheduler=subscribe_scheduler,
                    )
                finally:
                    current_attempt.reset(token)

            def on_next(item: T) -> None:
                if not stopped:
                    partial.observe(item)
                    observer.on_next(item)

            def on_completed(number: int) -> None:
                nonlocal stopped
                if not stopped and number == attempts:
                    stopped = True
                    observer.on_completed()

            def on_error(error: Exception, number: int) -> None:
                nonlocal retries
                if stopped or number != attempts:
                    return
                retryable = is_retryable(error)
                resume_after: str | None = None
                if partial.emitted:
                    if not retryable:
                        fail(error)
                        return
                    if policy.on_partial == "fail":
                        fail(error)
                        return
                    if policy.on_partial == "resume":
                        resume_after = partial.last_event_id_from(error)
                        if not resume_after:  # None (never set) or "" (reset): no position
                            fail(error)
                            return
                elif not retryable:
                    fail(error)
                    return
                if not policy.allows(retries):
                    fail(error)
                    return
                delay = policy.backoff(retries + 1)
                hint = server_hint(error)
                if hint is not None and math.isfinite(hint) and hint > 0:
                    if hint > policy.max_retry_after:
                        if isinstance(error, HTTPStatusError):
                            error.retry_after = hint
                        fail(error)  # not worth waiting for: say so now
                        return
                    delay = hint
                elif (
                    resume_after is not None
                    and isinstance(error, StreamInterrupted)
                    and error.reconnect_delay is not None
                ):
                    delay = min(error.reconnect_delay, policy.max_reconnect_delay)
                if deadline is not None and now() + delay > deadline:
                    fail(error)
                    return
                retries += 1
                reason, status = describe(error)
                log.info(
                    "retry_scheduled",
                    attempt=attempts + 1,
                    delay=round(delay, 3),
                    reason=reason,
                    status=status,
                )
                span_event(
                    "rxstream.retry",
                    attempt=attempts + 1,
                    delay=delay,
                    reason=reason,
                    status=status,
                )
                if partial.emitted and policy.on_partial == "restart":
                    partial.reset()
                    span_event("rxstream.restart", reason=reason)
                    observer.on_next(Restart(reason))
                current.disposable = None
                timer.disposable = clock.schedule_relative(delay, lambda *_: start(resume_after))

            start()
            return CompositeDisposable(current, timer)

        return Observable(subscribe)

    return operator


class _Partial:
    """What went downstream in the current run: whether anything did, text, events, id."""

    __slots__ = ("emitted", "events", "last_event_id", "text")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.emitted = False
        self.events = 0
        self.text: list[str] = []
        self.last_event_id: str | None = None

    def observe(self, item: Any) -> None:
        kind = type(item)
        if kind is Restart:
            self.reset()  # the consumer discards what came before the marker
            return
        self.emitted = True
        self.events += 1
        if kind is TextDelta:
            if item.choice == 0:
                self.text.append(item.text)
        elif kind is str:
            self.text.append(item)
        elif kind is SSEEvent:
            self.last_event_id = item.id

    def last_event_id_from(self, error: Exception) -> str | None:
        if isinstance(error, StreamError) and error.last_event_id is not None:
            return error.last_event_id
        return self.last_event_id

    def annotate(self, error: StreamError) -> StreamError:
        """Put what actually went downstream on ``error`` (its type stays as it is)."""
        if self.text:
            # What this operator delivered; the decoder that raised saw the same or more.
            error.partial_text = "".join(self.text)
        if self.emitted:
            error.events = self.events
        error.last_event_id = self.last_event_id_from(error)
        return error


__all__ = ["metrics", "retry", "timeout"]
