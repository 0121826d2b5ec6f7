"""fanout: many streams, each read by 4 consumers — through Redis Streams, or in-process.

The ticker server (its own process) stamps each chunk with its send time; one client
process produces every stream and reads it 4 times, either through Redis
(``produce_once`` + ``from_redis_stream``, a ``redis-server`` started for the run) or
in-process (one ``LiveStream`` per stream). Reports added latency p50/p99 per chunk
read; Redis round trips per chunk (socket writes counted by the client: a pipeline is
one) and commands per chunk (from Redis's own command statistics), both per chunk
produced — a chunk read by 4 consumers counts once.
"""

from __future__ import annotations

import shutil

from rxstream.testing import RedisServer

from .._core import Context, Result, Target, find, have
from .._processes import client, server

NAME = "fanout"
CONSUMERS = 4


def run(ctx: Context) -> list[Result]:
    if shutil.which("redis-server") is None or not have("redis"):
        ctx.notes.append("fanout: needs redis-server and the redis package; skipped")
        return []
    streams, tokens = (20, 50) if ctx.quick else (100, 200)
    results = []
    with RedisServer() as redis:
        case = f"{streams} streams x {CONSUMERS} consumers"
        for mode in ("in-process", "redis"):
            with server("ticker", str(tokens), "50") as url:
                report = client("fanout", mode, url, redis.url, str(streams), str(CONSUMERS))
            expected = streams * tokens * CONSUMERS
            if report["chunks"] != expected:
                ctx.notes.append(f"fanout: {mode} read {report['chunks']} of {expected} chunks")
            name = "rxstream via Redis" if mode == "redis" else "rxstream in-process"
            results.append(
                Result(NAME, case, name, "added latency p50", report["latency_p50"] * 1000, "ms")
            )
            results.append(
                Result(NAME, case, name, "added latency p99", report["latency_p99"] * 1000, "ms")
            )
            if mode == "redis":
                for metric, field in (
                    ("Redis round trips per chunk", "round_trips"),
                    ("Redis commands per chunk", "commands"),
                ):
                    results.append(Result(NAME, case, name, metric, report[field], "calls"))
            ctx.advance(f"fanout {mode}")
    return results


def _ratio(results: list[Result]) -> tuple[bool | None, str]:
    redis = find(results, client="rxstream via Redis", metric="added latency p99")
    local = find(results, client="rxstream in-process", metric="added latency p99")
    if redis is None or local is None or not local.value:
        return None, "not measured"
    return None, f"p99 via Redis = {redis.value / local.value:.2f}x in-process"


def _batched(results: list[Result]) -> tuple[bool | None, str]:
    trips = find(results, metric="Redis round trips per chunk")
    if trips is None:
        return None, "not measured"
    return trips.value < 1, f"{trips.value:.2f} round trips per chunk produced"


TARGETS: list[Target] = [
    Target(NAME, "Redis fan-out cost (reported, no threshold)", _ratio),
    # 4 readers and 1 writer per chunk: under one round trip means reads and writes batch
    Target(NAME, "Redis round trips per chunk < 1 (shared XREAD, pipelined XADD)", _batched),
]
STEPS = 2
