from __future__ import annotations

from reactivex.testing import ReactiveTest, TestScheduler

from rxstream import operators as ops
from rxstream.models import StreamMetrics, TextDelta, Usage, UsageDelta

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)


def test_metrics_in_virtual_time() -> None:
    scheduler = TestScheduler()
    # Ticks are seconds on the TestScheduler's clock; subscription happens at 200.
    source = scheduler.create_hot_observable(
        on_next(202, TextDelta("abcd")),
        on_next(203, TextDelta("ef")),
        on_next(207, UsageDelta(Usage(completion_tokens=10))),
        on_completed(210),
    )
    reports: list[StreamMetrics] = []
    results = scheduler.start(lambda: source.pipe(ops.metrics(reports.append, scheduler=scheduler)))
    assert [m.time for m in results.messages] == [202, 203, 207, 210]  # passes items through
    (report,) = reports
    assert report.items == 3
    assert report.time_to_first_item == 2
    assert report.duration == 10
    assert report.chars == 6
    assert report.chars_per_second == 0.6
    assert report.tokens_per_second == 1.0
    assert (report.gap_p50, report.gap_p99) == (1, 4)


def test_metrics_reports_on_error_and_forwards_it() -> None:
    scheduler = TestScheduler()
    boom = RuntimeError("boom")
    source = scheduler.create_hot_observable(on_next(205, "x"), on_error(206, boom))
    reports: list[StreamMetrics] = []
    results = scheduler.start(lambda: source.pipe(ops.metrics(reports.append, scheduler=scheduler)))
    assert results.messages[-1] == on_error(206, boom)
    assert reports[0].error == "RuntimeError"
    assert reports[0].tokens_per_second is None


def test_a_failing_report_callback_becomes_on_error() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(205, "x"), on_completed(206))

    def explode(_: StreamMetrics) -> None:
        raise ValueError("callback bug")

    results = scheduler.start(lambda: source.pipe(ops.metrics(explode, scheduler=scheduler)))
    assert isinstance(results.messages[-1].value.exception, ValueError)
