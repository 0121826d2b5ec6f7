"""The one place that decides which scheduler timed work runs on.

Order: the operator's ``scheduler=`` argument, else the scheduler given to
``subscribe``, else an ``AsyncIOScheduler`` on the running loop. Never a thread timer:
time-based operators must run on the loop (or on a virtual-time scheduler in tests).
"""

from __future__ import annotations

import asyncio

from reactivex import abc
from reactivex.scheduler.eventloop import AsyncIOScheduler


def resolve(
    scheduler: abc.SchedulerBase | None, subscribe_scheduler: abc.SchedulerBase | None
) -> abc.SchedulerBase:
    """Pick the scheduler for timed work, or explain why there is none."""
    if scheduler is not None:
        return scheduler
    if subscribe_scheduler is not None:
        return subscribe_scheduler
    return AsyncIOScheduler(running_loop("this timed operator"))


def running_loop(what: str) -> asyncio.AbstractEventLoop:
    """The running event loop, or a ``RuntimeError`` that says how to provide one."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            f"{what} needs a running asyncio event loop: subscribe from async code "
            "(e.g. `await rs.collect(...)`) or pass scheduler= explicitly."
        ) from None
