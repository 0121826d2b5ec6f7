"""fanout: many streams, each read by 4 consumers — through Redis Streams, or in-process.

The ticker server (its own process) stamps each chunk with its send time; one client
process produces every stream and reads it 4 times, either through Redis
(``produce_once`` + ``from_redis_stream``, a ``redis-server`` started for the run) or
in-process (one ``LiveStream`` per stream). Reports added latency p50/p99 per chunk
read; Redis round trips per chunk (socket writes counted by the client: a pipeline is
one) and commands per chunk (from Redis's own command statistics), both per chunk
produced — a chunk read by 4 consumers counts once. The same run on a local Redis
Cluster (3 primaries, 3 replicas, 16 shards) follows, and the cost of a producer waiting
for a replica (``WAIT 1``) after each pipeline of 10 ``XADD``s to one primary.
"""

from __future__ import annotations

import shutil

from rxstream.testing import RedisClusterServer, RedisServer

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
    if shutil.which("redis-cli") is None:
        ctx.notes.append("fanout: needs redis-cli for the cluster case; skipped")
        return results
    with RedisClusterServer() as cluster:
        with server("ticker", str(tokens), "50") as url:
            report = client("fanout", "redis-cluster", url, cluster.url, str(streams),
                            str(CONSUMERS))  # fmt: skip
        name = "rxstream via Redis Cluster (3 primaries)"
        for metric, field, unit, scale in (
            ("added latency p50", "latency_p50", "ms", 1000),
            ("added latency p99", "latency_p99", "ms", 1000),
            ("Redis round trips per chunk", "round_trips", "calls", 1),
            ("Redis commands per chunk", "commands", "calls", 1),
        ):
            results.append(Result(NAME, case, name, metric, report[field] * scale, unit))
        ctx.advance("fanout redis-cluster")
        primary = cluster.primary_of("{rxs0}:ack-cost")  # the key replica_ack_cost writes
        cost = client("replica-ack", "-", f"redis://127.0.0.1:{primary}", "200" if ctx.quick
                      else "2000")  # fmt: skip
        for label, field in (("XADD x10", "without_wait"), ("XADD x10 + WAIT 1", "with_wait")):
            results.append(
                Result(NAME, "replica acknowledgement per batch", label, "time per batch",
                       cost[field], "ms")
            )  # fmt: skip
    return results


def _ratio(results: list[Result]) -> tuple[bool | None, str]:
    redis = find(results, client="rxstream via Redis", metric="added latency p99")
    local = find(results, client="rxstream in-process", metric="added latency p99")
    if redis is None or local is None or not local.value:
        return None, "not measured"
    return None, f"p99 via Redis = {redis.value / local.value:.2f}x in-process"


def _batched(results: list[Result]) -> tuple[bool | None, str]:
    trips = find(results, client="rxstream via Redis", metric="Redis round trips per chunk")
    if trips is None:
        return None, "not measured"
    return trips.value < 1, f"{trips.value:.2f} round trips per chunk produced"


def _cluster(results: list[Result]) -> tuple[bool | None, str]:
    cluster = "rxstream via Redis Cluster (3 primaries)"
    trips = find(results, client=cluster, metric="Redis round trips per chunk")
    p99 = find(results, client=cluster, metric="added latency p99")
    single = find(results, client="rxstream via Redis", metric="added latency p99")
    if trips is None or p99 is None or single is None or not single.value:
        return None, "not measured"
    return trips.value < 1, (
        f"{trips.value:.2f} round trips per chunk; p99 {p99.value / single.value:.2f}x one primary"
    )


TARGETS: list[Target] = [
    Target(NAME, "Redis fan-out cost (reported, no threshold)", _ratio),
    # 4 readers and 1 writer per chunk: under one round trip means reads and writes batch
    Target(NAME, "Redis round trips per chunk < 1 (shared XREAD, pipelined XADD)", _batched),
    Target(NAME, "on a cluster too: round trips per chunk < 1 (a read per shard)", _cluster),
]
STEPS = 3
