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
import socket
import subprocess
import time

from .._core import Context, Result, Target, have
from .._processes import client, server

NAME = "fanout"
CONSUMERS = 4


def run(ctx: Context) -> list[Result]:
    binary = shutil.which("redis-server")
    if binary is None or not have("redis"):
        ctx.notes.append("fanout: needs redis-server and the redis package; skipped")
        return []
    streams, tokens = (20, 50) if ctx.quick else (100, 200)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    results = []
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.02)
        case = f"{streams} streams x {CONSUMERS} consumers"
        for mode in ("in-process", "redis"):
            with server("ticker", str(tokens), "50") as url:
                report = client(
                    "fanout", mode, url, f"redis://127.0.0.1:{port}/0", str(streams), str(CONSUMERS)
                )
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
    finally:
        redis.terminate()
        redis.wait()
    return results


def _ratio(results: list[Result]) -> tuple[bool | None, str]:
    redis = [
        r for r in results if r.client == "rxstream via Redis" and r.metric == "added latency p99"
    ]
    local = [
        r for r in results if r.client == "rxstream in-process" and r.metric == "added latency p99"
    ]
    if not redis or not local or not local[0].value:
        return None, "not measured"
    return None, f"p99 via Redis = {redis[0].value / local[0].value:.2f}x in-process"


def _batched(results: list[Result]) -> tuple[bool | None, str]:
    trips = [r for r in results if r.metric == "Redis round trips per chunk"]
    if not trips:
        return None, "not measured"
    return trips[0].value < 1, f"{trips[0].value:.2f} round trips per chunk produced"


TARGETS: list[Target] = [
    Target(NAME, "Redis fan-out cost (reported, no threshold)", _ratio),
    # 4 readers and 1 writer per chunk: under one round trip means reads and writes batch
    Target(NAME, "Redis round trips per chunk < 1 (shared XREAD, pipelined XADD)", _batched),
]
STEPS = 2
