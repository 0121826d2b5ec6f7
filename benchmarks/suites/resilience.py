"""resilience: hedged first tokens against a heavy-tailed server, and the cost of a
dead primary provider with and without a circuit breaker.

The server (its own process) answers short OpenAI streams whose first event comes
after 30 ms, or after 3 s for a seeded 10% of requests. 200 requests, 20 at a time:
time to first token p50/p99 for plain requests and for ``rs.hedge(a, b, after=0.1)``
(both to the same server, each request drawing its own delay), and how many requests
hedging added. Then a primary that never answers (``first=0.5`` timeout) in front of a
fallback: mean time to first token over 40 sequential requests, without and with
``ops.guard(CircuitBreaker(failures=3))``.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any

import rxstream as rs
from rxstream import operators as ops

from .._core import Context, Result, Target, find, percentile
from .._processes import server

NAME = "resilience"
MESSAGES = [{"role": "user", "content": "hi"}]


def _answer(base: str, **options: Any) -> Any:
    return rs.chat(MESSAGES, model="m", base_url=base, retry=None, **options).pipe(ops.text())


async def _first_token(stream: Any) -> float:
    started = time.perf_counter()
    async for _ in rs.iterate(stream):
        return time.perf_counter() - started
    raise AssertionError("no token")


async def _ttfts(make: Any, requests: int, concurrency: int) -> list[float]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> float:
        async with gate:
            return await _first_token(make())

    return list(await asyncio.gather(*(one() for _ in range(requests))))


def _count(base: str) -> int:
    with urllib.request.urlopen(base.removesuffix("/v1") + "/count") as response:
        return int(json.load(response)["requests"])


def run(ctx: Context) -> list[Result]:
    requests, concurrency = (40, 10) if ctx.quick else (200, 20)
    results: list[Result] = []
    with server("tail", "0.1", "3.0", "0.03") as base:
        before = _count(base)
        plain = asyncio.run(_ttfts(lambda: _answer(base), requests, concurrency))
        middle = _count(base)
        hedged = asyncio.run(
            _ttfts(lambda: rs.hedge(_answer(base), _answer(base), after=0.1), requests, concurrency)
        )
        extra = (_count(base) - middle) / requests - 1
        for client, times in (("plain", plain), ("hedge(after=0.1)", hedged)):
            for q, label in ((0.5, "p50"), (0.99, "p99")):
                metric = f"time to first token {label}"
                value = percentile(times, q)
                results.append(Result(NAME, "heavy tail", client, metric, value, "s"))
        results.append(
            Result(NAME, "heavy tail", "hedge(after=0.1)", "extra requests", extra * 100, "%")
        )
        assert middle - before == requests
        ctx.advance("resilience hedge")
        sequential = 12 if ctx.quick else 40
        results += asyncio.run(_dead_primary(base, sequential))
        ctx.advance("resilience fallback")
    return results


async def _dead_primary(base: str, count: int) -> list[Result]:
    def dead() -> Any:
        return _answer(base, headers={"x-down": "1"}, first=0.5)

    breaker = rs.CircuitBreaker(failures=3, reset_after=60)
    out = []
    for client, make in (
        ("fallback", lambda: rs.fallback(dead(), _answer(base))),
        ("fallback + breaker", lambda: rs.fallback(dead().pipe(ops.guard(breaker)), _answer(base))),
    ):
        times = [await _first_token(make()) for _ in range(count)]
        out.append(
            Result(
                NAME, "primary down", client, "mean time to first token", sum(times) / count, "s"
            )
        )
    return out


def _extra_requests(results: list[Result]) -> tuple[bool | None, str]:
    found = find(results, client="hedge(after=0.1)", metric="extra requests")
    if found is None:
        return None, "not measured"
    return found.value <= 25, f"{found.value:.0f}%"


def _hedged_p99(results: list[Result]) -> tuple[bool | None, str]:
    found = find(results, client="hedge(after=0.1)", metric="time to first token p99")
    if found is None:
        return None, "not measured"
    return found.value <= 0.35, f"{found.value * 1000:.0f} ms"


TARGETS: list[Target] = [
    Target(NAME, "hedge(after=0.1): p99 time to first token ≤ 0.35 s", _hedged_p99),
    Target(NAME, "hedge(after=0.1): ≤ 25% extra requests", _extra_requests),
]
STEPS = 2
