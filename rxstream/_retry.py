"""The retry policy: when to try again and how long to wait. Pure; no Rx, no I/O."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Final, Literal

from ._http_status import retry_after_seconds
from .errors import (
    ConnectError,
    HTTPStatusError,
    ProviderError,
    StreamInterrupted,
    StreamTimeout,
)

RETRYABLE_STATUSES: Final = frozenset({408, 409, 429}) | frozenset(range(500, 600))
TRANSIENT_PROVIDER_ERRORS: Final = frozenset(
    {"server_error", "overloaded_error", "rate_limit_error"}
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How ``ops.retry()`` retries: exponential backoff with full jitter and a budget.

    Defaults match the official OpenAI/Anthropic SDKs. Retries connection errors,
    timeouts before any output, HTTP 408/409/429/5xx (``x-should-retry`` overrides the
    status rule) and transient in-stream provider errors; never 4xx client errors, TLS
    certificate errors, ``ParseError`` or ``EventTooLarge``.

    Attributes:
        max_retries: Retries after the first attempt; ``None`` for unlimited, which
            requires ``max_elapsed``.
        initial_delay: Backoff before the second attempt, in seconds.
        multiplier: Growth of the backoff per attempt.
        max_delay: Cap on one backoff.
        jitter: ``"full"``: wait uniformly between 0 and the backoff (AWS "full
            jitter"); ``None``: wait exactly ``initial_delay * multiplier**n``.
        rng: The jitter's random source (inject a seeded one for tests).
        max_retry_after: A server delay hint above this is not waited for: the error
            is raised at once, carrying the hint.
        max_elapsed: Total time budget across attempts; never exceeded.
        on_partial: After output went downstream: ``"fail"`` raises
            ``StreamInterrupted`` with the partial output; ``"restart"`` emits a
            ``Restart`` marker and starts over; ``"resume"`` reconnects with
            ``Last-Event-ID`` (for servers that support it).
        max_reconnect_delay: Clamp for the server's SSE ``retry:`` hint when resuming.
    """

    max_retries: int | None = 2
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 8.0
    jitter: Literal["full"] | None = "full"
    rng: random.Random | None = field(default=None, compare=False)
    max_retry_after: float = 60.0
    max_elapsed: float | None = 120.0
    on_partial: Literal["fail", "restart", "resume"] = "fail"
    max_reconnect_delay: float = 30.0

    def __post_init__(self) -> None:
        if self.max_retries is None and self.max_elapsed is None:
            raise ValueError(
                "max_retries=None (unlimited) requires max_elapsed: a policy must not be "
                "able to retry forever"
            )
        if self.max_retries is not None and self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        for name in ("initial_delay", "max_delay", "max_retry_after", "max_reconnect_delay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0")
        if not (math.isfinite(self.multiplier) and self.multiplier >= 1):
            raise ValueError("multiplier must be >= 1")
        if self.max_elapsed is not None and not (self.max_elapsed > 0):
            raise ValueError("max_elapsed must be > 0 (or None with a finite max_retries)")
        if self.jitter not in ("full", None):
            raise ValueError("jitter must be 'full' or None")
        if self.on_partial not in ("fail", "restart", "resume"):
            raise ValueError("on_partial must be 'fail', 'restart' or 'resume'")

    def backoff(self, retry_number: int) -> float:
        """The wait before retry ``retry_number`` (1 for the second attempt)."""
        cap = min(self.max_delay, self.initial_delay * self.multiplier ** (retry_number - 1))
        if self.jitter is None:
            return cap
        return (self.rng or _RNG).uniform(0.0, cap)

    def allows(self, retries_done: int) -> bool:
        """Whether another retry is within ``max_retries``."""
        return self.max_retries is None or retries_done < self.max_retries


_RNG = random.Random()


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is worth another attempt (before any output went downstream)."""
    if isinstance(error, HTTPStatusError):
        override = error.headers.get("x-should-retry", "").strip().lower()
        if override == "true":
            return True
        if override == "false":
            return False
        return error.status in RETRYABLE_STATUSES
    if isinstance(error, ConnectError):
        return not error.tls
    if isinstance(error, StreamTimeout):
        return error.which != "total"
    if isinstance(error, StreamInterrupted):
        return True
    if isinstance(error, ProviderError):
        return error.type in TRANSIENT_PROVIDER_ERRORS
    return False


def server_hint(error: BaseException) -> float | None:
    """The server's delay hint in seconds (``retry-after-ms``/``retry-after``), if any."""
    if isinstance(error, HTTPStatusError):
        hint = retry_after_seconds(error.headers)
        return hint if hint is not None else error.retry_after
    return None


def describe(error: BaseException) -> tuple[str, int | None]:
    """A log-safe ``(reason, status)`` for ``error``: its class and HTTP status."""
    status = error.status if isinstance(error, HTTPStatusError) else None
    reason = type(error).__name__
    if isinstance(error, StreamTimeout):
        reason = f"StreamTimeout({error.which})"
    elif isinstance(error, ProviderError) and error.type:
        reason = f"ProviderError({error.type})"
    return reason, status


__all__ = ["RetryPolicy", "is_retryable"]
