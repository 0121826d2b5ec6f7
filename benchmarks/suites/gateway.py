"""gateway: 200 concurrent openai-SDK streams through rxstream's OpenAI gateway, against
the same through a byte-for-byte pass-through proxy (the floor), in one run.

The embedded mock (its own process) answers 100-token streams as fast as it can; the
gateway and the proxy run in their own processes in front of it, and report the CPU
they used. Every answer must arrive exact.
"""

from __future__ import annotations

import json
import urllib.request

from .._core import Context, Result, Target, have, ratio_target
from .._processes import client, server

NAME = "gateway"
TOKENS = 100


def _cpu(base: str) -> float:
    with urllib.request.urlopen(base.removesuffix("/v1") + "/cpu") as response:
        return float(json.load(response)["cpu"])


def run(ctx: Context) -> list[Result]:
    if not have("openai"):
        ctx.notes.append("gateway: openai not installed, skipped")
        return []
    streams = 40 if ctx.quick else 200
    results: list[Result] = []
    with server("mock", str(TOKENS), "1") as upstream:
        for name, mode in (("rxstream gateway", "gateway"), ("pass-through proxy", "proxy")):
            with server(mode, upstream) as front:
                before = _cpu(front)
                report = client("sdk", "openai-sdk", front, str(streams), str(TOKENS))
                used = _cpu(front) - before
            if report["exact"] != streams:
                raise AssertionError(f"gateway: {name}: {report['exact']} of {streams} exact")
            case = f"{streams} concurrent SDK streams"
            results.append(Result(NAME, case, name, "total time p99", report["p99"], "s"))
            results.append(Result(NAME, case, name, "total time p50", report["p50"], "s"))
            per_chunk = used / max(1, report["chunks"]) * 1e6
            results.append(Result(NAME, case, name, "server CPU per chunk", per_chunk, "µs"))
            ctx.advance(f"gateway {name}")
    return results


CASE = "200 concurrent SDK streams"
TARGETS: list[Target] = [
    ratio_target(
        NAME,
        "200 SDK streams: gateway p99 total time ≤ 1.5× the pass-through proxy's",
        {
            "case": "200 concurrent SDK streams",
            "client": "rxstream gateway",
            "metric": "total time p99",
        },
        {
            "case": "200 concurrent SDK streams",
            "client": "pass-through proxy",
            "metric": "total time p99",
        },
        at_most=1.5,
    ),
]
STEPS = 2
