"""200 concurrent streams with random faults: exact text or a typed error, nothing leaks."""

from __future__ import annotations

import asyncio
import gc
import random

import aiohttp

import rxstream as rs
from rxstream import RetryPolicy
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.sources._task import pending_tasks

from ..conftest import settle
from .test_cancellation import acquired

TEXT = "One two three four five six seven eight nine ten."
FAULTS = [
    None,
    None,
    "status=503,times=1",
    "reset_before_headers,times=1",
    "reset_after=4",
    "stall_after=3",
    "malformed_after=3",
    "provider_error=server_error,after=3",
    "status=400",
    "no_done",
]


def rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def one_stream(
    server: MockServer, session: aiohttp.ClientSession, fault: str | None, n: int
) -> str:
    headers = {"x-mock-fault": f"{fault},stream={n}"} if fault else {}
    stream = rs.chat(
        [{"role": "user", "content": "count"}],
        model="m",
        base_url=server.base_url,
        session=session,
        idle=0.5,
        retry=RetryPolicy(jitter="full", rng=random.Random(n), initial_delay=0.02, max_delay=0.1),
        headers=headers,
    ).pipe(ops.accumulate())
    try:
        snapshots = await rs.collect(stream)
    except rs.StreamError as error:
        return type(error).__name__
    return snapshots[-1].text


async def test_200_concurrent_faulty_streams() -> None:
    rng = random.Random(2026)
    faults = [rng.choice(FAULTS) for _ in range(200)]
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=200)) as server:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await one_stream(server, session, None, -1)  # warm up before the baseline
            gc.collect()
            baseline = rss()
            results = await asyncio.gather(
                *(one_stream(server, session, f, n) for n, f in enumerate(faults))
            )
            await settle()
            assert acquired(session) == 0
        assert pending_tasks() == []
    expected = {
        None: TEXT,
        "status=503,times=1": TEXT,
        "reset_before_headers,times=1": TEXT,
        "reset_after=4": "StreamInterrupted",
        "stall_after=3": "StreamTimeout",
        "malformed_after=3": "ParseError",
        "provider_error=server_error,after=3": "ProviderError",
        "status=400": "HTTPStatusError",
        "no_done": "StreamInterrupted",
    }
    assert results == [expected[f] for f in faults]
    gc.collect()
    assert rss() - baseline < 32 * 1024 * 1024
