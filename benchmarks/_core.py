"""Results, targets and the measuring helpers every suite shares."""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Result:
    """One measurement: ``value`` of ``metric`` (in ``unit``) for ``client`` in ``case``."""

    suite: str
    case: str
    client: str
    metric: str
    value: float
    unit: str
    better: str = "lower"  # which direction is good
    note: str = ""

    def record(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Target:
    """A speed target: ``check`` returns (met or ``None`` if not measurable, detail)."""

    suite: str
    description: str
    check: Callable[[list[Result]], tuple[bool | None, str]]


@dataclass(slots=True)
class Context:
    """What a suite run gets: quick mode, and a progress callback for long loops."""

    quick: bool
    advance: Callable[[str], None] = field(default=lambda _: None)
    notes: list[str] = field(default_factory=list)


def have(module: str) -> bool:
    """Whether an optional peer is installed."""
    return importlib.util.find_spec(module) is not None


def median_seconds(run: Callable[[], object], repeats: int, *, cpu: bool = False) -> float:
    """The median time of ``repeats`` runs (wall clock, or process CPU time)."""
    clock = time.process_time if cpu else time.perf_counter
    times = []
    for _ in range(repeats):
        started = clock()
        run()
        times.append(clock() - started)
    return statistics.median(times)


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, math.ceil(round(q * len(ordered), 9)))
    return ordered[min(rank, len(ordered)) - 1]


def find(results: list[Result], **where: str) -> Result | None:
    """The first result whose fields match ``where``."""
    for result in results:
        if all(getattr(result, key) == value for key, value in where.items()):
            return result
    return None


def ratio_target(
    suite: str,
    description: str,
    numerator: dict[str, str],
    denominator: dict[str, str],
    *,
    at_most: float | None = None,
    at_least: float | None = None,
) -> Target:
    """A target on ``numerator.value / denominator.value``."""

    def check(results: list[Result]) -> tuple[bool | None, str]:
        top, bottom = find(results, **numerator), find(results, **denominator)
        if top is None or bottom is None or not bottom.value:
            return None, "not measured in this run (a peer missing, or --quick sizes)"
        value = top.value / bottom.value
        met = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
        return met, f"{value:.2f}x"

    return Target(suite, description, check)


def machine() -> dict[str, Any]:
    """Where and with what the numbers were taken."""
    versions = {}
    for package in ("rxstream", "reactivex", "aiohttp", "msgspec", "openai", "httpx-sse", "orjson"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def peak_rss() -> int:
    """This process's peak resident memory, in bytes (Linux)."""
    return _status("VmHWM")


def current_rss() -> int:
    """This process's resident memory now, in bytes (Linux)."""
    return _status("VmRSS")


def _status(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field_name} not in /proc/self/status")
