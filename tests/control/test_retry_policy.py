"""RetryPolicy: defaults, validation, backoff and classification (promises 1-5)."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from rxstream import RetryPolicy
from rxstream._retry import is_retryable, server_hint
from rxstream.errors import (
    BufferOverflow,
    ConnectError,
    EventTooLarge,
    HTTPStatusError,
    ParseError,
    ProviderError,
    RateLimitError,
    StreamInterrupted,
    StreamTimeout,
)


def test_defaults_match_the_sdks() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.multiplier, policy.max_delay) == (
        2,
        0.5,
        2.0,
        8.0,
    )
    assert (policy.jitter, policy.max_retry_after, policy.max_elapsed) == ("full", 60.0, 120.0)
    assert (policy.on_partial, policy.max_reconnect_delay) == ("fail", 30.0)


def test_without_jitter_waits_are_exact() -> None:
    policy = RetryPolicy(jitter=None, max_retries=10)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_full_jitter_is_uniform_below_the_cap_and_seedable() -> None:
    first = RetryPolicy(rng=random.Random(7))
    second = RetryPolicy(rng=random.Random(7))
    waits = [first.backoff(3) for _ in range(200)]
    assert waits == [second.backoff(3) for _ in range(200)]
    assert all(0 <= w <= 2.0 for w in waits)
    assert max(waits) > 1.5
    assert min(waits) < 0.5


def test_unlimited_retries_need_a_time_budget() -> None:
    with pytest.raises(ValueError, match="max_elapsed"):
        RetryPolicy(max_retries=None, max_elapsed=None)
    assert RetryPolicy(max_retries=None, max_elapsed=30).allows(10_000)


@pytest.mark.parametrize(
    "options",
    [
        {"max_retries": -1},
        {"initial_delay": -1},
        {"multiplier": 0.5},
        {"max_delay": float("inf")},
        {"jitter": "half"},
        {"on_partial": "retry"},
        {"max_elapsed": 0},
    ],
)
def test_invalid_policies_are_rejected(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        RetryPolicy(**options)  # type: ignore[arg-type]


def status(code: int, **headers: str) -> HTTPStatusError:
    return HTTPStatusError("x", status=code, headers=headers)


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(code: int) -> None:
    assert is_retryable(status(code))


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
def test_client_errors_are_never_retried(code: int) -> None:
    assert not is_retryable(status(code))


def test_x_should_retry_overrides_and_other_values_are_ignored() -> None:
    assert is_retryable(status(400, **{"x-should-retry": "true"}))
    assert not is_retryable(status(503, **{"x-should-retry": "false"}))
    assert is_retryable(status(503, **{"x-should-retry": "maybe"}))
    assert not is_retryable(status(400, **{"x-should-retry": "1"}))


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (ConnectError("refused"), True),
        (ConnectError("bad certificate", tls=True), False),
        (StreamTimeout("t", which="first", seconds=1), True),
        (StreamTimeout("t", which="idle", seconds=1), True),
        (StreamTimeout("t", which="total", seconds=1), False),
        (StreamInterrupted("reset"), True),
        (ProviderError("busy", type="overloaded_error"), True),
        (ProviderError("boom", type="server_error"), True),
        (ProviderError("slow", type="rate_limit_error"), True),
        (ProviderError("bad", type="invalid_request_error"), False),
        (ParseError("bad json"), False),
        (EventTooLarge("big", limit=1), False),
        (BufferOverflow("slow consumer", limit=1), False),
        (ValueError("a bug"), False),
    ],
)
def test_classification(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "-3"}, -3.0),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "x", "retry-after": "4"}, 4.0),
        ({}, None),
    ],
)
def test_server_hint_precedence(headers: dict[str, str], hint: float | None) -> None:
    assert server_hint(RateLimitError("x", headers=headers)) == hint


def test_server_hint_http_date() -> None:
    value = server_hint(status(503, **{"retry-after": formatdate(usegmt=True)}))
    assert value is not None
    assert -2 < value < 2
