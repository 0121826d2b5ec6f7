"""What the retry operator tells the source about the attempt it is subscribing.

Rx subscriptions run synchronously down the chain, so a context variable set by
``ops.retry`` around ``subscribe`` is visible to ``from_http``'s subscribe (and copied
into the task it starts): that is how a resumed attempt sends ``Last-Event-ID``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Attempt:
    """The attempt being subscribed: its number (1 = first) and the id to resume after."""

    number: int
    last_event_id: str | None = None


current_attempt: ContextVar[Attempt | None] = ContextVar("rxstream_attempt", default=None)
