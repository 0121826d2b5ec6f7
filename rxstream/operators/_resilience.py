"""Answers that survive a provider: fallback, hedged first tokens, circuit breakers.

All three decide only before a source's first item: after it, the answer is that
source's, and its typed error (with ``partial_text``) ends the stream — never a mixed
answer from two providers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, Literal, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable, SerialDisposable, SingleAssignmentDisposable

from .._clock import seconds
from .._log import get_logger
from .._scheduling import resolve
from ..errors import CircuitOpen, HTTPStatusError, SchemaError, StreamError
from ..telemetry import span_event
from ..typing import Operator

T = TypeVar("T")
log = get_logger(__name__)

BAD_REQUEST_STATUSES: Final = frozenset({400, 422})
"""A request rejected as malformed fails at every provider: never a reason to switch,
and no sign that a provider is down."""


def is_bad_request(error: BaseException) -> bool:
    """Whether ``error`` says the request itself was wrong (HTTP 400/422, ``SchemaError``)."""
    if isinstance(error, HTTPStatusError):
        return error.status in BAD_REQUEST_STATUSES
    return isinstance(error, SchemaError)


def switch_on(error: Exception) -> bool:
    """``fallback``'s default rule: every ``StreamError`` but a bad request."""
    return isinstance(error, StreamError) and not is_bad_request(error)


def fallback(
    *sources: Observable[T],
    when: Callable[[Exception], bool] | None = None,
    on_switch: Callable[[int, Exception], None] | None = None,
) -> Observable[T]:
    """The first source's items; if it fails before its first item, the next source's.

    ``when(error)`` decides whether a failure moves on (default: every ``StreamError``
    except HTTP 400/422 — a bad request fails everywhere — and ``SchemaError``). The
    failed source is disposed first; ``on_switch(index, error)`` (``index`` of the
    source being started) and a ``fallback_used`` log event report each switch. After a
    source's first item nothing switches: its error ends the stream, with the partial
    text on it. When every source fails, the last error is raised. Sources are cold
    (usually ``rs.chat(...)``), so each is one request when it starts.

    ::

        a: --#                (fails before any item)
        b:    ---x--y--|
        [ fallback(a, b) ]
        ------x--y--|
    """
    if not sources:
        raise ValueError("fallback needs at least one source")
    accept = when or switch_on

    def subscribe(
        observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        current = SerialDisposable()
        active = 0
        emitted = stopped = False

        def start(index: int) -> None:
            nonlocal active, emitted
            active, emitted = index, False
            # A holder first: a source that fails inside subscribe() (an open breaker)
            # starts the next one before this call returns, replacing the holder.
            holder = SingleAssignmentDisposable()
            current.disposable = holder
            holder.disposable = sources[index].subscribe(
                lambda item: on_next(index, item),
                lambda error: on_error(index, error),
                lambda: on_completed(index),
                scheduler=scheduler,
            )

        def on_next(index: int, item: T) -> None:
            nonlocal emitted
            if not stopped and index == active:
                emitted = True
                observer.on_next(item)

        def on_error(index: int, error: Exception) -> None:
            nonlocal stopped
            if stopped or index != active:
                return
            next_index = index + 1
            if emitted or next_index >= len(sources) or not _accepts(accept, error):
                stopped = True
                observer.on_error(error)
                return
            current.disposable = None  # close the failed request before the next starts
            failure = type(error).__name__
            log.info("fallback_used", failed=index, next=next_index, error=failure)
            span_event("rxstream.fallback", failed=index, next=next_index, error=failure)
            if on_switch is not None:
                try:
                    on_switch(next_index, error)
                except Exception as callback_error:
                    stopped = True
                    observer.on_error(callback_error)
                    return
            start(next_index)

        def on_completed(index: int) -> None:
            nonlocal stopped
            if not stopped and index == active:
                stopped = True
                observer.on_completed()

        start(0)
        return current

    return Observable(subscribe)


def _accepts(when: Callable[[Exception], bool], error: Exception) -> bool:
    try:
        return bool(when(error))
    except Exception:
        return False  # a broken rule must not hide the original error


def hedge(
    *sources: Observable[T], after: float = 1.0, scheduler: abc.SchedulerBase | None = None
) -> Observable[T]:
    """Race for the first item: start the next source every ``after`` seconds while
    none has emitted; the first to emit wins and every other is disposed at once.

    A source that fails before emitting is ignored while another runs; when the running
    ones have all failed and a source is still waiting, it starts at once. A source
    that completes without items wins too (the race is over). When every source fails,
    the error of the last one to fail is raised. Only the winner's items flow, and its
    later error ends the stream. This is "The Tail at Scale" for first tokens.

    ::

        a: ------------x--y--|     (slow first token)
        b:       --x'--y'--|       (started at `after`)
        [ hedge(a, b, after) ]
        ---------x'--y'--|         (a is disposed when b emits)
    """
    if not sources:
        raise ValueError("hedge needs at least one source")
    if not (math.isfinite(after) and after >= 0):
        raise ValueError("after must be a number of seconds >= 0")

    def subscribe(
        observer: abc.ObserverBase[T], subscribe_scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        clock = resolve(scheduler, subscribe_scheduler)
        running: dict[int, SerialDisposable] = {}
        timer = SerialDisposable()
        winner: int | None = None
        started = 0
        stopped = False

        def start_next(*_: Any) -> None:
            nonlocal started
            if stopped or winner is not None or started >= len(sources):
                return
            index = started
            started += 1
            if index > 0:
                log.info("hedge_started", index=index, after=after)
                span_event("rxstream.hedge_started", index=index, after=after)
            holder = running[index] = SerialDisposable()
            holder.disposable = sources[index].subscribe(
                lambda item: on_next(index, item),
                lambda error: on_error(index, error),
                lambda: on_completed(index),
                scheduler=subscribe_scheduler,
            )
            if winner is None and started < len(sources):
                timer.disposable = clock.schedule_relative(after, start_next)

        def win(index: int) -> None:
            nonlocal winner
            winner = index
            timer.dispose()
            for other, holder in list(running.items()):
                if other != index:
                    holder.dispose()  # closes the loser's request at once
                    del running[other]
            if index > 0:
                log.info("hedge_won", index=index)
                span_event("rxstream.hedge_won", index=index)

        def on_next(index: int, item: T) -> None:
            if stopped:
                return
            if winner is None:
                win(index)
            if index == winner:
                observer.on_next(item)

        def on_error(index: int, error: Exception) -> None:
            nonlocal stopped
            if stopped or (winner is not None and index != winner):
                return
            running.pop(index, None)
            if winner is None and (running or started < len(sources)):
                if not running:
                    timer.disposable = None
                    start_next()  # nothing is running: the next one starts now
                return
            stopped = True
            timer.dispose()
            observer.on_error(error)

        def on_completed(index: int) -> None:
            nonlocal stopped
            if stopped or (winner is not None and index != winner):
                return
            if winner is None:
                win(index)
            stopped = True
            observer.on_completed()

        def dispose() -> None:
            nonlocal stopped
            stopped = True
            timer.dispose()
            for holder in list(running.values()):
                holder.dispose()
            running.clear()

        start_next()
        return Disposable(dispose)

    return Observable(subscribe)


State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Stops calling a provider that keeps failing, so fallbacks skip it at once.

    After ``failures`` consecutive failures it opens: guarded subscriptions fail at once
    with ``CircuitOpen`` (no request). ``reset_after`` seconds after it opened, one trial
    request is let through (half-open): its success closes the breaker, its failure —
    or its disposal before it succeeded — opens it again. Share one breaker between
    every pipeline that calls the same provider (``ops.guard(breaker)``).
    """

    def __init__(self, failures: int = 5, reset_after: float = 30.0, *, name: str = "") -> None:
        if failures < 1:
            raise ValueError("failures must be >= 1")
        if not (math.isfinite(reset_after) and reset_after > 0):
            raise ValueError("reset_after must be a positive number of seconds")
        self.failures = failures
        self.reset_after = reset_after
        self.name = name
        self.state: State = "closed"
        self._consecutive = 0
        self._opened_at = 0.0
        self._trial_running = False

    def __repr__(self) -> str:
        return f"CircuitBreaker({self.name!r}, state={self.state!r}, failures={self.failures})"

    def admit(self, now: float) -> bool:
        """Whether a request may start now (and whether it is the half-open trial).

        Raises ``CircuitOpen`` (with ``retry_after``) when it may not.
        """
        if self.state == "open":
            wait = self._opened_at + self.reset_after - now
            if wait > 0:
                raise self._open_error(wait)
            self.state = "half_open"
            self._trial_running = False
            log.info("circuit_half_open", breaker=self.name)
            span_event("rxstream.circuit_half_open", breaker=self.name)
        if self.state == "half_open":
            if self._trial_running:
                raise self._open_error(self.reset_after)
            self._trial_running = True
            return True
        return False

    def succeeded(self, trial: bool) -> None:
        """The guarded request delivered its first item (or completed)."""
        self._consecutive = 0
        if trial or self.state != "closed":
            self._trial_running = False
            if self.state != "closed":
                self.state = "closed"
                log.info("circuit_closed", breaker=self.name)
                span_event("rxstream.circuit_closed", breaker=self.name)

    def failed(self, now: float, trial: bool) -> None:
        """The guarded request failed (or the trial was dropped) before its first item."""
        if trial or self.state == "half_open":
            self._trial_running = False
            self._open(now)
            return
        self._consecutive += 1
        if self.state == "closed" and self._consecutive >= self.failures:
            self._open(now)

    def released(self, trial: bool) -> None:
        """A bad request (HTTP 400/422): says nothing about the provider."""
        if trial:
            self._trial_running = False

    def _open(self, now: float) -> None:
        self.state = "open"
        self._opened_at = now
        self._consecutive = 0
        log.warning("circuit_opened", breaker=self.name, reset_after=self.reset_after)
        span_event("rxstream.circuit_opened", breaker=self.name, reset_after=self.reset_after)

    def _open_error(self, wait: float) -> CircuitOpen:
        label = f" {self.name!r}" if self.name else ""
        return CircuitOpen(
            f"The circuit breaker{label} is open after repeated failures; the next trial "
            f"request is allowed in {wait:.1f} s. A fallback provider, if any, is used now.",
            retry_after=wait,
        )


def guard(breaker: CircuitBreaker, *, scheduler: abc.SchedulerBase | None = None) -> Operator[T, T]:
    """Subscribe only while ``breaker`` allows it; report each outcome to it.

    A subscription counts as a success when it delivers its first item (or completes),
    as a failure when it errors before its first item (HTTP 400/422 and ``SchemaError``
    excepted: the request was bad, not the provider). An open breaker fails the
    subscription at once with ``CircuitOpen``: no request is made.

    ::

        --#  --#  --#         (three failures: the breaker opens)
        [ guard(breaker) ]
        #                     CircuitOpen at once, until reset_after has passed
    """

    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(
            observer: abc.ObserverBase[T], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            now = seconds(resolve(scheduler, subscribe_scheduler))
            try:
                trial = breaker.admit(now())
            except CircuitOpen as error:
                span_event("rxstream.circuit_rejected", retry_after=error.retry_after)
                observer.on_error(error)
                return Disposable()
            settled = False

            def settle() -> bool:
                nonlocal settled
                was, settled = settled, True
                return not was

            def on_next(item: T) -> None:
                if settle():
                    breaker.succeeded(trial)
                observer.on_next(item)

            def on_error(error: Exception) -> None:
                if settle():
                    if is_bad_request(error):
                        breaker.released(trial)
                    else:
                        breaker.failed(now(), trial)
                observer.on_error(error)

            def on_completed() -> None:
                if settle():
                    breaker.succeeded(trial)
                observer.on_completed()

            upstream = source.subscribe(
                on_next, on_error, on_completed, scheduler=subscribe_scheduler
            )

            def dispose() -> None:
                if trial and settle():
                    breaker.failed(now(), trial)  # never stuck half-open
                upstream.dispose()

            return Disposable(dispose)

        return Observable(subscribe)

    return operator


__all__ = ["CircuitBreaker", "fallback", "guard", "hedge"]
