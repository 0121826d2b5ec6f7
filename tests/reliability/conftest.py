from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from rxstream import RetryPolicy
from rxstream.mock import MockConfig, MockServer

TEXT = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota kappa."
FAST = RetryPolicy(jitter=None, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
async def faulty() -> AsyncIterator[MockServer]:
    """The mock with a known text; tests choose faults per request."""
    async with MockServer(MockConfig(text=TEXT)) as server:
        yield server


def request(**extra: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    } | extra
