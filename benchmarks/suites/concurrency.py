"""concurrency: many paced streams at once (a realistic LLM pace of 50 chunks/s).

The ticker server (its own process) stamps every chunk with its send time; each client
process opens all streams at once and records, per chunk, receive-after-parsing minus
send (added latency), per stream the time to first chunk, plus its CPU utilisation and
peak RSS.
"""

from __future__ import annotations

from .._core import Context, Result, Target, find, have, ratio_target
from .._processes import client, server

NAME = "concurrency"
CLIENTS = ("rxstream", "floor", "openai-sdk")
KiB = 1024


def run(ctx: Context) -> list[Result]:
    levels = (100,) if ctx.quick else (500, 1000)
    tokens = 50 if ctx.quick else 200
    clients = [c for c in CLIENTS if c != "openai-sdk" or have("openai")]
    if "openai-sdk" not in clients:
        ctx.notes.append("concurrency: openai not installed, skipped")
    results = []
    for streams in levels:
        case = f"{streams} streams"
        for name in clients:
            with server("ticker", str(tokens), "50") as url:
                report = client("concurrency", name, url, str(streams))
            if report["errors"] or report["chunks"] != streams * tokens:
                ctx.notes.append(
                    f"concurrency: {name} at {streams} streams: {report['errors']} errors, "
                    f"{report['chunks']} of {streams * tokens} chunks"
                )
            add = results.append
            add(Result(NAME, case, name, "added latency p50", report["latency_p50"] * 1000, "ms"))
            add(Result(NAME, case, name, "added latency p99", report["latency_p99"] * 1000, "ms"))
            add(
                Result(NAME, case, name, "time to first chunk p50", report["ttft_p50"] * 1000, "ms")
            )
            add(
                Result(NAME, case, name, "time to first chunk p99", report["ttft_p99"] * 1000, "ms")
            )
            add(Result(NAME, case, name, "CPU utilisation", report["cpu_utilisation"] * 100, "%"))
            add(Result(NAME, case, name, "peak RSS", report["rss_peak"] / KiB / KiB, "MiB"))
            add(Result(NAME, case, name, "RSS per stream", report["rss_per_stream"] / KiB, "KiB"))
            ctx.advance(f"concurrency {case} {name}")
    return results


def _rss_target(streams: int) -> Target:
    def check(results: list[Result]) -> tuple[bool | None, str]:
        found = find(results, case=f"{streams} streams", client="rxstream", metric="RSS per stream")
        if found is None:
            return None, "not measured in this run (--quick uses 100 streams)"
        return found.value <= 64, f"{found.value:.1f} KiB"

    return Target(NAME, f"{streams} streams: rxstream RSS per stream ≤ 64 KiB", check)


TARGETS: list[Target] = [
    *(
        ratio_target(
            NAME,
            f"{streams} streams: rxstream p99 added latency ≤ 1.5× the raw aiohttp floor",
            {"case": f"{streams} streams", "client": "rxstream", "metric": "added latency p99"},
            {"case": f"{streams} streams", "client": "floor", "metric": "added latency p99"},
            at_most=1.5,
        )
        for streams in (500, 1000)
    ),
    _rss_target(500),
    _rss_target(1000),
]
STEPS = 6
