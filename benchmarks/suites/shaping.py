"""shaping: sentences() speed and accuracy (against pysbd), and per-fragment overhead.

Accuracy is the share of the project's own sentence corpus (tests/sentence_corpus.py,
118 cases) split exactly as expected, on the whole text. Per-fragment costs are µs per
4-character fragment through the operator, beside a bare ``map`` pass-through measured
in the same run (throttle_text emits far fewer items than it takes, so it can be cheaper).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reactivex
from reactivex import operators as rx_ops
from reactivex.testing import TestScheduler

from rxstream import operators as ops

from .._core import Context, Result, Target, have, median_seconds, ratio_target

NAME = "shaping"


def _corpus() -> list[Any]:
    from tests.sentence_corpus import CORPUS

    return CORPUS


def _fragments(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _through(operator: Callable[[], Any], fragments: list[str]) -> Callable[[], object]:
    def run() -> object:
        out: list[str] = []
        reactivex.from_iterable(fragments).pipe(operator()).subscribe(out.append)
        return out

    return run


def run(ctx: Context) -> list[Result]:
    corpus = _corpus()
    text = " ".join(case.text.replace("\n", " ") for case in corpus if "```" not in case.text)
    text = (text + " ") * (5 if ctx.quick else 50)
    fragments = _fragments(text)
    repeats = 1 if ctx.quick else 5
    results = []

    seconds = median_seconds(_through(ops.sentences, fragments), repeats)
    results.append(
        Result(
            NAME,
            "throughput",
            "rxstream sentences()",
            "speed",
            len(text) / seconds,
            "chars/s",
            "higher",
        )
    )
    ctx.advance("shaping throughput")

    def rxstream_split(whole: str) -> list[str]:
        out: list[str] = []
        reactivex.of(whole).pipe(ops.sentences()).subscribe(out.append)
        return out

    splitters: dict[str, Callable[[str], list[str]]] = {"rxstream sentences()": rxstream_split}
    if have("pysbd"):
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False)
        splitters["pysbd"] = lambda whole: [
            s.strip() for s in segmenter.segment(whole) if s.strip()
        ]
        seconds = median_seconds(lambda: segmenter.segment(text), 1)
        results.append(
            Result(NAME, "throughput", "pysbd", "speed", len(text) / seconds, "chars/s", "higher")
        )
    else:
        ctx.notes.append("shaping: pysbd not installed, accuracy compared to nothing")
    for name, split in splitters.items():
        right = sum(split(case.text) == case.expected for case in corpus)
        results.append(
            Result(
                NAME,
                "accuracy",
                name,
                "corpus cases right",
                100 * right / len(corpus),
                "%",
                "higher",
            )
        )
    ctx.advance("shaping accuracy")

    clock = TestScheduler()  # timers exist but never fire: this measures the per-fragment path
    for name, operator in (
        ("map (baseline)", lambda: rx_ops.map(lambda s: s)),
        ("throttle_text(0.05)", lambda: ops.throttle_text(0.05, scheduler=clock)),
        ("sentences()", ops.sentences),
        ("words()", ops.words),
    ):
        seconds = median_seconds(_through(operator, fragments), repeats)
        per_fragment = seconds / len(fragments) * 1e6
        results.append(Result(NAME, "per fragment", name, "time per fragment", per_fragment, "µs"))
    ctx.advance("shaping overhead")
    return results


def _accuracy_target() -> Target:
    def check(results: list[Result]) -> tuple[bool | None, str]:
        ours = [r for r in results if r.case == "accuracy" and r.client == "rxstream sentences()"]
        if not ours:
            return None, "not measured"
        return ours[0].value == 100.0, f"{ours[0].value:.1f}%"

    return Target(NAME, "sentences() splits the whole corpus right", check)


TARGETS: list[Target] = [
    _accuracy_target(),
    ratio_target(
        NAME,
        "sentences() at least as fast as pysbd",
        {"case": "throughput", "client": "rxstream sentences()"},
        {"case": "throughput", "client": "pysbd"},
        at_least=1.0,
    ),
]
STEPS = 3
