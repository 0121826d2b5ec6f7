"""Run one client scenario and report its peak memory growth (used by test_memory.py).

``python -m tests.reliability.rss_probe URL SCENARIO`` prints one JSON object:
the error class, seconds taken, and peak RSS growth in bytes (peak RSS after minus
current RSS before, a conservative measure).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import structlog

import rxstream as rs
from benchmarks._core import current_rss, peak_rss
from rxstream import operators as ops


async def main(url: str, scenario: str) -> dict[str, Any]:
    request = {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True}
    # warm up: imports, one full request, so the baseline includes the machinery
    await rs.collect(rs.from_http(url, json=request).pipe(ops.parse_sse()))
    before = current_rss()
    started = time.perf_counter()
    headers = {"x-mock-fault": scenario}
    stream = rs.from_http(url, json=request, headers=headers).pipe(ops.parse_sse())
    error = None
    try:
        await rs.collect(stream)
    except rs.StreamError as exc:
        error = type(exc).__name__
    return {
        "error": error,
        "seconds": time.perf_counter() - started,
        "growth": peak_rss() - before,
    }


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
