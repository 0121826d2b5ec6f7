"""Seconds on a scheduler's clock, cheaply (timeouts read it once per item)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from reactivex import abc
from reactivex.scheduler.eventloop import AsyncIOScheduler


def seconds(scheduler: abc.SchedulerBase) -> Callable[[], float]:
    """A function returning the scheduler's current time in seconds."""
    if isinstance(scheduler, AsyncIOScheduler):
        try:
            # the loop's monotonic clock, without building a datetime per call
            return asyncio.get_running_loop().time
        except RuntimeError:
            pass
    return lambda: scheduler.now.timestamp()
