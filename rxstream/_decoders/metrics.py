"""Stream measurements from item timestamps: pure, so any clock (real or virtual) drives it."""

from __future__ import annotations

import math
import random
from typing import Any

from ..models import StreamMetrics, TextDelta, UsageDelta

MAX_GAP_SAMPLES = 4096
"""Gap percentiles come from a reservoir sample of this size, so memory stays bounded."""


class MetricsRecorder:
    """Feed ``observe(item, now)`` per item, then ``report(now)`` for a ``StreamMetrics``."""

    __slots__ = (
        "_gaps",
        "_last",
        "_rng",
        "_seen_gaps",
        "chars",
        "first",
        "items",
        "start",
        "tokens",
    )

    def __init__(self, start: float) -> None:
        self.start = start
        self.first: float | None = None
        self._last = start
        self.items = 0
        self.chars = 0
        self.tokens: int | None = None
        self._gaps: list[float] = []
        self._seen_gaps = 0
        self._rng = random.Random(0)  # fixed seed: the same stream gives the same report

    def observe(self, item: Any, now: float) -> None:
        """Record one item that arrived at ``now`` (seconds on the recorder's clock)."""
        if self.items == 0:
            self.first = now - self.start
        else:
            self._sample_gap(now - self._last)
        self._last = now
        self.items += 1
        kind = type(item)
        if kind is TextDelta:
            self.chars += len(item.text)
        elif kind is str:
            self.chars += len(item)
        elif kind is UsageDelta and item.usage.completion_tokens is not None:
            self.tokens = item.usage.completion_tokens

    def _sample_gap(self, gap: float) -> None:
        self._seen_gaps += 1
        if len(self._gaps) < MAX_GAP_SAMPLES:
            self._gaps.append(gap)
        else:
            slot = self._rng.randrange(self._seen_gaps)
            if slot < MAX_GAP_SAMPLES:
                self._gaps[slot] = gap

    def report(self, now: float, error: BaseException | None = None) -> StreamMetrics:
        """The measurements so far, as of ``now``."""
        duration = max(now - self.start, 0.0)
        gaps = sorted(self._gaps)
        return StreamMetrics(
            items=self.items,
            duration=duration,
            time_to_first_item=self.first,
            items_per_second=self.items / duration if duration > 0 else 0.0,
            chars_per_second=self.chars / duration if duration > 0 else 0.0,
            tokens_per_second=(
                self.tokens / duration if self.tokens is not None and duration > 0 else None
            ),
            gap_p50=_percentile(gaps, 0.50),
            gap_p99=_percentile(gaps, 0.99),
            chars=self.chars,
            completion_tokens=self.tokens,
            error=type(error).__name__ if error is not None else None,
        )


def _percentile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    # nearest rank; round() keeps 0.99 * 100 from becoming rank 100 through float error
    rank = max(1, math.ceil(round(q * len(ordered), 9)))
    return ordered[rank - 1]
