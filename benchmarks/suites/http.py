"""http: client CPU per chunk over loopback, and many short answers over HTTPS.

The mock runs in its own process; each client runs in its own process and reports its
process CPU time for one long answer (after a warm-up answer), with one event per
server write and with 64 events per write.

The HTTPS cases (a throwaway CA from ``trustme``) send many short requests, in sequence
and 16 at a time, and report the time per request and the time to first token: what
keep-alive connections save is a TCP and TLS handshake per request, which plain
loopback HTTP hides. rxstream uses its default pool, the openai SDK its default httpx
client, the floor one ``aiohttp.ClientSession`` kept by hand.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .._core import Context, Result, Target, have, ratio_target
from .._processes import client, server

NAME = "http"
CLIENTS = ("rxstream", "floor", "openai-sdk", "rxstream+otel", "rxstream+otel-unconfigured")


def run(ctx: Context) -> list[Result]:
    tokens = 10_000 if ctx.quick else 100_000
    repeats = 1 if ctx.quick else 3
    results = []
    clients = [c for c in CLIENTS if c != "openai-sdk" or have("openai")]
    if not have("opentelemetry.sdk"):
        clients = [c for c in clients if "otel" not in c]
        ctx.notes.append("http: opentelemetry-sdk not installed, telemetry rows skipped")
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
                if "cpu_without_span" in runs[0]:
                    baseline = sorted(r["cpu_without_span"] for r in runs)[len(runs) // 2]
                    results.append(
                        Result(NAME, case, f"{name} (same process, no span)",
                               "client CPU per chunk", baseline / tokens * 1e6, "µs")
                    )  # fmt: skip
                ctx.advance(f"http {case} {name}")
    results += _https(ctx, [c for c in clients if "otel" not in c])
    return results


HTTPS_TOKENS = 20  # a short answer: the handshake is a large share of a cold request
HTTPS_CASES = (("HTTPS sequential", 1), ("HTTPS 16 at a time", 16))


def _https(ctx: Context, clients: list[str]) -> list[Result]:
    requests = 100 if ctx.quick else 400
    repeats = 1 if ctx.quick else 5
    results = []
    with (
        _certificates() as (cafile, certfile, keyfile),
        server("mock-tls", str(HTTPS_TOKENS), certfile, keyfile, tls=True) as url,
    ):
        for case, concurrency in HTTPS_CASES:
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
            # interleaved, so a busy moment of this shared machine hits every client
            for _ in range(repeats):
                for name in clients:
                    arguments = (url, cafile, str(requests), str(concurrency))
                    run = client("https", name, *arguments, env={"SSL_CERT_FILE": cafile})
                    if run["requests"] != requests:
                        raise AssertionError(f"http: {name} answered {run['requests']}")
                    runs[name].append(run)
            for name in clients:
                per_request = _median(r["per_request"] for r in runs[name])
                ttft = _median(r["ttft_p50"] for r in runs[name])
                results.append(
                    Result(NAME, case, name, "time per request", per_request * 1e3, "ms")
                )
                results.append(
                    Result(NAME, case, name, "time to first token p50", ttft * 1e3, "ms")
                )
                ctx.advance(f"http {case} {name}")
    return results


def _median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


@contextmanager
def _certificates() -> Iterator[tuple[str, str, str]]:
    """A throwaway CA and a ``localhost`` certificate, as PEM files."""
    import trustme

    authority = trustme.CA()
    issued = authority.issue_cert("localhost")
    with tempfile.TemporaryDirectory() as folder:
        cafile, certfile, keyfile = (Path(folder) / n for n in ("ca.pem", "cert.pem", "key.pem"))
        authority.cert_pem.write_to_path(str(cafile))
        issued.cert_chain_pems[0].write_to_path(str(certfile))
        issued.private_key_pem.write_to_path(str(keyfile))
        yield str(cafile), str(certfile), str(keyfile)


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
TARGETS += [
    ratio_target(
        NAME,
        "64 events/write: telemetry on (SDK configured) costs ≤ 5% CPU per chunk",
        {"case": "64 events/write", "client": "rxstream+otel"},
        {"case": "64 events/write", "client": "rxstream+otel (same process, no span)"},
        at_most=1.05,
    ),
    ratio_target(
        NAME,
        "64 events/write: telemetry installed, not configured, costs ≤ 1% CPU per chunk",
        {"case": "64 events/write", "client": "rxstream+otel-unconfigured"},
        {"case": "64 events/write", "client": "rxstream+otel-unconfigured (same process, no span)"},
        at_most=1.01,
    ),
]
for _case, _ in HTTPS_CASES:
    TARGETS += [
        ratio_target(
            NAME,
            f"{_case}: rxstream time per request ≤ 1.2× the openai SDK's",
            {"case": _case, "client": "rxstream", "metric": "time per request"},
            {"case": _case, "client": "openai-sdk", "metric": "time per request"},
            at_most=1.2,
        ),
        ratio_target(
            NAME,
            f"{_case}: rxstream time per request ≤ 1.3× the hand-kept session floor",
            {"case": _case, "client": "rxstream", "metric": "time per request"},
            {"case": _case, "client": "floor", "metric": "time per request"},
            at_most=1.3,
        ),
    ]
STEPS = 2 * len(CLIENTS) + 2 * 3  # the CPU cases, then HTTPS (three clients)
