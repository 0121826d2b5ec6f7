"""shaping: sentences() speed and accuracy against other splitters, and per-fragment overhead.

Accuracy is the share of the project's own sentence corpus (tests/sentence_corpus.py,
320 cases in 13 languages and 5 more scripts) split exactly as expected, on the whole
text: overall and per language. ``sentences()`` is never told the language; pysbd and
sentencex are given each case's language when they support it (English otherwise), so
the comparison favours them. Per-fragment costs are µs per 4-character fragment through
the operator, beside a bare ``map`` pass-through measured in the same run (throttle_text
emits far fewer items than it takes, so it can be cheaper).
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
    once = " ".join(
        case.text.replace("\n", " ")
        for case in corpus
        if "```" not in case.text and "~~~" not in case.text
    )
    text = (once + " ") * (5 if ctx.quick else 50)
    peer_text = (once + " ") * (1 if ctx.quick else 5)  # pysbd reads ~10 k chars/s
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

    splitters = _splitters(ctx)
    for name, split in splitters.items():
        if name != "rxstream sentences()":
            seconds = median_seconds(lambda split=split: split(peer_text, "en"), 1)
            results.append(
                Result(
                    NAME, "throughput", name, "speed", len(peer_text) / seconds, "chars/s", "higher"
                )
            )
    results += _accuracy(corpus, splitters)
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
    if have("markdown_it"):
        results += _markdown(ctx)
    else:
        ctx.notes.append("shaping: markdown-it-py not installed, markdown not measured")
    ctx.advance("shaping markdown")
    return results


def _markdown(ctx: Context) -> list[Result]:
    """markdown_blocks() speed, and the render work it saves on a ~20 KB answer.

    The naive UI re-renders the whole text so far after every 20-character fragment;
    with ``markdown_blocks`` each finished block is rendered once, plus (terminal) the open
    block after every fragment, or (web page) not at all, since the tail is shown as
    text. All renders use markdown-it-py's HTML renderer.
    """
    from markdown_it import MarkdownIt

    from tests.markdown_corpus import ANSWERS

    size = 5_000 if ctx.quick else 20_000
    answer = ""
    for candidate in ANSWERS:
        if len(answer) >= size:
            break
        answer += candidate.rstrip("\n") + "\n\n"
    fragments = _fragments(answer, 20)
    render = MarkdownIt("commonmark").enable("table").render
    results = []

    def blocks() -> list[Any]:
        out: list[Any] = []
        reactivex.from_iterable(fragments).pipe(ops.markdown_blocks()).subscribe(out.append)
        return out

    seconds = median_seconds(blocks, 1 if ctx.quick else 5)
    results.append(
        Result(
            NAME, "markdown throughput", "markdown_blocks()", "speed", len(answer) / seconds,
            "chars/s", "higher", note=f"{len(fragments)} fragments",
        )
    )  # fmt: skip
    emitted = blocks()

    def whole_text_per_fragment() -> None:
        text = ""
        for fragment in fragments:
            text += fragment
            render(text)

    def finished_blocks_and_tail() -> None:
        for block in emitted:
            render(block.text)

    def finished_blocks_only() -> None:
        for block in emitted:
            if block.final:
                render(block.text)

    note = f"{len(answer) // 1000} KB answer, {len(fragments)} fragments"
    for client, run in (
        ("re-render whole text per fragment", whole_text_per_fragment),
        ("markdown_blocks: blocks once + open block per fragment", finished_blocks_and_tail),
        ("markdown_blocks: blocks once (tail as text)", finished_blocks_only),
    ):
        seconds = median_seconds(run, 1)
        results.append(
            Result(NAME, "markdown render work", client, "render time", seconds * 1e3, "ms",
                   note=note)
        )  # fmt: skip
    return results


_PYSBD_LANGUAGES = frozenset(
    "en hi mr zh es am ar hy bg ur ru pl fa nl da fr my el it ja de kk sk".split()
)


def _splitters(ctx: Context) -> dict[str, Callable[[str, str], list[str]]]:
    """Each splitter as ``split(text, language)``; peers that are not installed are noted."""

    def rxstream_split(whole: str, language: str) -> list[str]:
        out: list[str] = []
        reactivex.of(whole).pipe(ops.sentences()).subscribe(out.append)
        return out

    splitters: dict[str, Callable[[str, str], list[str]]] = {"rxstream sentences()": rxstream_split}
    if have("pysbd"):
        import pysbd

        segmenters: dict[str, Any] = {}

        def pysbd_split(whole: str, language: str) -> list[str]:
            lang = language if language in _PYSBD_LANGUAGES else "en"
            if lang not in segmenters:
                segmenters[lang] = pysbd.Segmenter(language=lang, clean=False)
            return [s.strip() for s in segmenters[lang].segment(whole) if s.strip()]

        splitters["pysbd"] = pysbd_split
    if have("sentencex"):
        import sentencex

        def sentencex_split(whole: str, language: str) -> list[str]:
            return [s.strip() for s in sentencex.segment(language, whole) if s.strip()]

        splitters["sentencex"] = sentencex_split
    if have("blingfire"):
        import blingfire

        def blingfire_split(whole: str, language: str) -> list[str]:
            return [s.strip() for s in blingfire.text_to_sentences(whole).split("\n") if s.strip()]

        splitters["blingfire"] = blingfire_split
    missing = [peer for peer in ("pysbd", "sentencex", "blingfire") if peer not in splitters]
    if missing:
        ctx.notes.append(f"shaping: not installed, not compared: {', '.join(missing)}")
    return splitters


def _accuracy(
    corpus: list[Any], splitters: dict[str, Callable[[str, str], list[str]]]
) -> list[Result]:
    """Overall and per-language share of cases split exactly as expected."""
    results = []
    languages = sorted({case.language for case in corpus})
    for name, split in splitters.items():
        right: dict[str, int] = dict.fromkeys(languages, 0)
        for case in corpus:
            try:
                ok = split(case.text, case.language) == case.expected
            except Exception:
                ok = False
            right[case.language] += ok
        total = 100 * sum(right.values()) / len(corpus)
        results.append(Result(NAME, "accuracy", name, "corpus cases right", total, "%", "higher"))
        for language in languages:
            cases = sum(case.language == language for case in corpus)
            results.append(
                Result(
                    NAME,
                    f"accuracy {language}",
                    name,
                    "cases right",
                    100 * right[language] / cases,
                    "%",
                    "higher",
                    note=f"{cases} cases",
                )
            )
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
        "markdown: rendering blocks once is at least 10x less work than re-rendering per fragment",
        {"case": "markdown render work", "client": "re-render whole text per fragment"},
        {
            "case": "markdown render work",
            "client": "markdown_blocks: blocks once + open block per fragment",
        },
        at_least=10.0,
    ),
    ratio_target(
        NAME,
        "sentences() at least as fast as pysbd",
        {"case": "throughput", "client": "rxstream sentences()"},
        {"case": "throughput", "client": "pysbd"},
        at_least=1.0,
    ),
]
STEPS = 4
