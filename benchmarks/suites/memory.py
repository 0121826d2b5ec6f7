"""memory: peak RSS growth for a 100 MB single event, and RSS per idle open stream.

Both in a separate client process against a server process; growth is peak RSS after
minus current RSS before (conservative).
"""

from __future__ import annotations

from .._core import Context, Result, Target, find
from .._processes import client, server

NAME = "memory"
MiB = 1024 * 1024


def run(ctx: Context) -> list[Result]:
    results = []
    with server("mock", "10", "1") as url:
        report = client("memory", "rxstream", url, "big_event=100000000")
    results.append(
        Result(NAME, "100 MB event", "rxstream", "peak RSS growth", report["growth"] / MiB, "MiB")
    )
    results.append(
        Result(NAME, "100 MB event", "rxstream", "time to EventTooLarge", report["seconds"], "s")
    )
    if report["error"] != "EventTooLarge":
        ctx.notes.append(
            f"memory: the 100 MB event ended with {report['error']}, not EventTooLarge"
        )
    ctx.advance("memory big event")
    streams = 100 if ctx.quick else 500
    with server("ticker", "3", "0.5") as url:  # a chunk every 2 s: open and mostly idle
        report = client("idle", "rxstream", url, str(streams))
    results.append(
        Result(
            NAME,
            f"{streams} idle streams",
            "rxstream",
            "RSS per open stream",
            report["per_stream"] / 1024,
            "KiB",
        )
    )
    ctx.advance("memory idle streams")
    return results


def _check_big(results: list[Result]) -> tuple[bool | None, str]:
    growth = find(results, case="100 MB event", metric="peak RSS growth")
    took = find(results, case="100 MB event", metric="time to EventTooLarge")
    if growth is None or took is None:
        return None, "not measured"
    return growth.value <= 64 and took.value <= 5, f"{growth.value:.1f} MiB in {took.value:.2f} s"


TARGETS: list[Target] = [
    Target(NAME, "100 MB event: EventTooLarge within 5 s, ≤ 64 MiB", _check_big)
]
STEPS = 2
