"""structured: JSON that streams, in 4-character fragments, against what others do.

Each document is a list of records as a model would write them (strings, numbers,
nested objects), at 10 KB, 100 KB, 256 KB and 1 MB. Measured in this process, CPU time:

- ``partial_json()`` (a snapshot after every fragment) against the anchors' way, a
  partial re-parse of the whole text so far after every fragment: jiter's
  ``partial_mode`` (what the openai SDK's stream helper does) and partial-json-parser.
  Those are quadratic, so they are timed on an even sample of their re-parses (every
  k-th prefix) and the mean is extrapolated to every fragment — said in the note.
- ``json_items()`` against ijson's push parser (its C backend when installed).
- the floor: msgspec decoding the whole text once (no partial results at all).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import msgspec
import reactivex

from rxstream import operators as ops

from .._core import Context, Result, Target, have, ratio_target

NAME = "structured"
FRAGMENT = 4
SIZES = {"10 KB": 10_000, "100 KB": 100_000, "256 KB": 256_000, "1 MB": 1_000_000}
SAMPLED_REPARSES = 120  # re-parses timed per quadratic peer and size


def document(size: int) -> str:
    """A JSON object with a ``records`` array, at least ``size`` characters long."""
    records: list[dict[str, Any]] = []
    while not records or len(records) % 10 or len(_encode(records)) < size:
        n = len(records)
        records.append(
            {
                "id": n,
                "name": f"Record number {n}",
                "score": round(n * 0.37, 2),
                "active": n % 3 != 0,
                "tags": ["alpha", "beta", "gamma"][: 1 + n % 3],
                "address": {"city": "Oslo", "street": f"Karl Johans gate {n}", "zip": "0154"},
                "note": 'A short sentence written by the model, with "quotes" and é.',
            }
        )
    return _encode(records)


def _encode(records: list[dict[str, Any]]) -> str:
    return msgspec.json.encode({"records": records}).decode()


def _fragments(text: str) -> list[str]:
    return [text[i : i + FRAGMENT] for i in range(0, len(text), FRAGMENT)]


def _cpu(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def _through(operator: Any, fragments: list[str]) -> Callable[[], object]:
    def run() -> object:
        count = [0]

        def seen(_: Any) -> None:
            count[0] += 1

        reactivex.from_iterable(fragments).pipe(operator).subscribe(seen)
        return count[0]

    return run


def _reparse_mean(parse: Callable[[bytes], object], text: str, samples: int) -> float:
    """Mean CPU seconds of one re-parse, over ``samples`` prefixes evenly spaced."""
    data = text.encode()
    ends = [len(data) * (k + 1) // samples for k in range(samples)]
    started = time.process_time()
    for end in ends:
        # a prefix cut inside a multi-byte character may be refused: still paid for
        with contextlib.suppress(ValueError):
            parse(data[:end])
    return (time.process_time() - started) / samples


def run(ctx: Context) -> list[Result]:
    sizes = {k: v for k, v in SIZES.items() if not ctx.quick or v <= 100_000}
    results: list[Result] = []
    for label, size in sizes.items():
        results += _measure(label, document(size))
        ctx.advance(f"structured {label}")
    return results


def _measure(label: str, text: str) -> list[Result]:
    fragments = _fragments(text)
    count = len(fragments)
    results: list[Result] = []

    def per_fragment(seconds: float, client: str, metric: str, note: str = "") -> None:
        value = seconds / count * 1e6
        results.append(Result(NAME, label, client, metric, value, "µs", note=note))

    snapshots = "CPU per fragment (snapshots)"
    total = _cpu(_through(ops.partial_json(), fragments))
    per_fragment(total, "rxstream partial_json", snapshots)
    results.append(Result(NAME, label, "rxstream partial_json", "CPU total", total, "s"))
    if have("jiter"):
        import jiter

        mean = _reparse_mean(
            lambda data: jiter.from_json(data, partial_mode="trailing-strings"),
            text,
            SAMPLED_REPARSES,
        )
        note = f"{SAMPLED_REPARSES} of {count} re-parses timed, extrapolated"
        per_fragment(mean * count, "jiter partial re-parse", snapshots, note)
    if have("partial_json_parser") and len(text) <= 300_000:
        from partial_json_parser import loads

        samples = max(10, SAMPLED_REPARSES // 10)
        mean = _reparse_mean(lambda data: loads(data.decode("utf-8", "ignore")), text, samples)
        note = f"{samples} of {count} re-parses timed, extrapolated"
        per_fragment(mean * count, "partial-json-parser", snapshots, note)
    items = "CPU per fragment (items)"
    per_fragment(_cpu(_through(ops.json_items("records"), fragments)), "rxstream json_items", items)
    if have("ijson"):
        per_fragment(_ijson_items(fragments), "ijson push parser", items)
    floor = _cpu(lambda: msgspec.json.decode(text))
    per_fragment(floor, "floor: msgspec, whole text once", "CPU per fragment (no partials)")
    return results


def _ijson_items(fragments: list[str]) -> float:
    import ijson

    def run() -> None:
        items: list[Any] = []
        coro = ijson.items_coro(_Sink(items), "records.item")
        for fragment in fragments:
            coro.send(fragment.encode())
        coro.close()

    return _cpu(run)


class _Sink:
    """ijson's push interface sends each item to a coroutine-like target."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def send(self, item: Any) -> None:
        self.items.append(item)


TARGETS: list[Target] = [
    ratio_target(
        NAME,
        "100 KB: partial_json ≥ 40× faster than jiter's partial re-parse",
        {"case": "100 KB", "client": "rxstream partial_json"},
        {"case": "100 KB", "client": "jiter partial re-parse"},
        at_most=1 / 40,
    ),
    ratio_target(
        NAME,
        "1 MB: partial_json ≥ 500× faster than jiter's partial re-parse",
        {"case": "1 MB", "client": "rxstream partial_json"},
        {"case": "1 MB", "client": "jiter partial re-parse"},
        at_most=1 / 500,
    ),
    ratio_target(
        NAME,
        "linear: partial_json CPU(1 MB) / CPU(256 KB) ≤ 4.6",
        {"case": "1 MB", "client": "rxstream partial_json", "metric": "CPU total"},
        {"case": "256 KB", "client": "rxstream partial_json", "metric": "CPU total"},
        at_most=4.6,
    ),
    ratio_target(
        NAME,
        "100 KB: json_items within 25× of ijson's push parser",
        {"case": "100 KB", "client": "rxstream json_items"},
        {"case": "100 KB", "client": "ijson push parser"},
        at_most=25,
    ),
]
STEPS = len(SIZES)
