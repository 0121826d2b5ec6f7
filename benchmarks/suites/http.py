"""http: client CPU per chunk over loopback, the mock streaming as fast as it can.

The mock runs in its own process; each client runs in its own process and reports its
process CPU time for one long answer (after a warm-up answer), with one event per
server write and with 64 events per write.
"""

from __future__ import annotations

from .._core import Context, Result, Target, have, ratio_target
from .._processes import client, server

NAME = "http"
CLIENTS = ("rxstream", "floor", "openai-sdk")


def run(ctx: Context) -> list[Result]:
    tokens = 10_000 if ctx.quick else 100_000
    repeats = 1 if ctx.quick else 3
    results = []
    clients = [c for c in CLIENTS if c != "openai-sdk" or have("openai")]
    if "openai-sdk" not in clients:
        ctx.notes.append("http: openai not installed, skipped")
    for per_write in (1, 64):
        case = f"{per_write} event{'s' if per_write > 1 else ''}/write"
        with server("mock", str(tokens), str(per_write)) as url:
            for name in clients:
                runs = [client("http", name, url) for _ in range(repeats)]
                cpu = sorted(r["cpu"] for r in runs)[len(runs) // 2]
                chunks = runs[0]["chunks"]
                if chunks != tokens:
                    raise AssertionError(f"http: {name} received {chunks} of {tokens} chunks")
                results.append(
                    Result(NAME, case, name, "client CPU per chunk", cpu / tokens * 1e6, "µs")
                )
                ctx.advance(f"http {case} {name}")
    return results


TARGETS: list[Target] = [
    ratio_target(
        NAME,
        "64 events/write: rxstream CPU ≤ 1.5× the raw aiohttp floor",
        {"case": "64 events/write", "client": "rxstream"},
        {"case": "64 events/write", "client": "floor"},
        at_most=1.5,
    ),
    ratio_target(
        NAME,
        "64 events/write: rxstream CPU ≤ 0.1× the openai SDK's",
        {"case": "64 events/write", "client": "rxstream"},
        {"case": "64 events/write", "client": "openai-sdk"},
        at_most=0.1,
    ),
]
STEPS = 6
