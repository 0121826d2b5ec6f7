"""Control operators: measurement (and, later, retry and timeouts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from reactivex import Observable, abc

from .._decoders.metrics import MetricsRecorder
from ..models import StreamMetrics
from ..typing import Operator

T = TypeVar("T")
log = structlog.get_logger(__name__)


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


__all__ = ["metrics"]
