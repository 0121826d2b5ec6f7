"""A side channel from fused decoder chains to whoever subscribed them: ``current_tap``
is read when a chain is subscribed, and the chain then hands it each batch of items it
emits — once per batch (per network read), not per item, and without an Rx hop.
Telemetry uses it to learn the first item, finish reasons and usage of a chat call
without a per-item operator.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

Tap = Callable[[list[Any]], None]
current_tap: ContextVar[Tap | None] = ContextVar("rxstream_tap", default=None)
