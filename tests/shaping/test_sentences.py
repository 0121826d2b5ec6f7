"""sentences(): the corpus at every chunking, latency, options."""

from __future__ import annotations

import random

import pytest
import reactivex
from hypothesis import given
from hypothesis import strategies as st
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler

from rxstream import operators as ops
from rxstream._decoders.sentences import SentenceSplitter

from ..sentence_corpus import CORPUS, Case

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)


def split(fragments: list[str], **options: object) -> list[str]:
    splitter = SentenceSplitter(**options)  # type: ignore[arg-type]
    out: list[str] = []
    for fragment in fragments:
        out += splitter.feed(fragment)
    return out + splitter.flush()


def random_fragments(text: str, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(text):
        size = rng.randint(1, 12)
        pieces.append(text[i : i + size])
        i += size
    return pieces


def test_corpus_is_large_and_covers_every_language_and_category() -> None:
    assert len(CORPUS) >= 300
    assert {case.category for case in CORPUS} >= {
        "abbreviation", "initials", "number", "ellipsis", "quotes", "punctuation", "url",
        "list", "newline", "markdown", "code", "cjk", "spanish", "time", "month", "unit",
        "ends-sentence", "title", "spaced-abbreviation", "ordinal", "heading",
        "guillemets", "cjk-quote", "emoji", "attribution", "brand", "script-stops",
    }  # fmt: skip
    thirteen = {"en", "es", "de", "fr", "it", "pt", "nl", "ru", "zh", "ja", "ko", "hi", "ar"}
    for language in thirteen:
        assert sum(case.language == language for case in CORPUS) >= 6, language


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c.category}:{c.text[:30]!r}")
def test_corpus_whole_and_rechunked(case: Case) -> None:
    assert split([case.text]) == case.expected
    assert split(list(case.text)) == case.expected
    for seed in range(5):
        assert split(random_fragments(case.text, seed)) == case.expected, seed


def test_unambiguous_boundary_is_emitted_with_the_next_sentences_first_character() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Hello world.") == []
    assert splitter.feed(" ") == []
    assert splitter.feed("H") == ["Hello world."]
    assert splitter.feed("ow are you? I") == ["How are you?"]


@pytest.mark.parametrize(
    ("first", "space", "next_char", "sentence"),
    [
        ("नमस्ते।", " ", "आ", "नमस्ते।"),
        ("Il a dit « Bonjour. »", " ", "P", "Il a dit « Bonjour. »"),
        ("Great job!", " 🎉 ", "L", "Great job! 🎉"),
        ("Sie kam am 1. Mai 2024.", " ", "D", "Sie kam am 1. Mai 2024."),
        ("كيف حالك؟", " ", "أ", "كيف حالك؟"),
    ],
)
def test_other_scripts_and_closers_emit_with_the_next_sentences_first_character(
    first: str, space: str, next_char: str, sentence: str
) -> None:
    splitter = SentenceSplitter()
    assert splitter.feed(first + space) == []
    assert splitter.feed(next_char) == [sentence]


def test_language_narrows_the_abbreviation_lists() -> None:
    text = "Hr. Müller kommt. Dott. Rossi anche."
    assert split([text]) == ["Hr. Müller kommt.", "Dott. Rossi anche."]
    assert split([text], language="de") == ["Hr. Müller kommt.", "Dott.", "Rossi anche."]
    assert split([text], language="it") == ["Hr.", "Müller kommt.", "Dott. Rossi anche."]
    assert split(["すごい!本当?"], language="en") == ["すごい!", "本当?"]  # scripts always apply


def test_line_break_emits_at_once() -> None:
    assert SentenceSplitter().feed("A heading\n") == ["A heading"]


def test_ambiguous_boundary_waits_only_for_the_next_word() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("I live in the U.S. T") == []  # "T…" could be "The" or "Texas"
    assert splitter.feed("hen") == []
    assert splitter.feed(" we") == ["I live in the U.S."]


def test_an_abbreviation_that_often_ends_a_sentence_ends_before_a_capital_at_once() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Bring bread, etc. T") == ["Bring bread, etc."]
    assert split(["Bring bread, etc. and water."]) == ["Bring bread, etc. and water."]


def test_cjk_boundary_waits_one_character_for_closing_quotes() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("你好。") == []
    assert splitter.feed("我") == ["你好。"]


def test_min_chars_merges_short_sentences() -> None:
    assert split(["Hi. Ok. This one is long enough. Yes."], min_chars=10) == [
        "Hi. Ok. This one is long enough.",
        "Yes.",
    ]


def test_max_chars_breaks_at_clause_punctuation_then_whitespace() -> None:
    text = "one, two, three four five six seven"
    assert split([text], max_chars=12) == ["one, two,", "three four", "five six", "seven"]
    assert split(["abcdefghijklmnop"], max_chars=5) == ["abcde", "fghij", "klmno", "p"]
    for seed in range(5):
        assert split(random_fragments(text, seed), max_chars=12) == split([text], max_chars=12)


def test_code_fence_is_kept_whole_even_over_max_chars() -> None:
    block = "```\n" + "x = 1. y = 2. z = 3.\n" * 5 + "```"
    assert split([block + "\nAfter."], max_chars=10) == [block, "After."]


def test_extra_abbreviations_and_languages() -> None:
    assert split(["Call Capt. Kirk. He answers."]) == ["Call Capt. Kirk.", "He answers."]
    assert split(["It was ref. Smith."], abbreviations=["Ref"]) == ["It was ref. Smith."]
    assert split(["Das ist z.B. Eins. Dann zwei."], language="de") == [
        "Das ist z.B. Eins.",
        "Dann zwei.",
    ]


@pytest.mark.parametrize(
    "options",
    [{"min_chars": -1}, {"max_chars": 0}, {"min_chars": 5, "max_chars": 3}, {"language": "xx"}],
)
def test_invalid_options_fail_at_pipe_time(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each message is specific
        ops.sentences(**options)  # type: ignore[arg-type]


def test_memory_is_bounded_while_waiting_for_an_endless_word() -> None:
    splitter = SentenceSplitter()
    out = splitter.feed("Bring bread, etc. i")  # a lowercase brand ("iPhone") would start one
    for _ in range(200):
        out += splitter.feed("x" * 1000)
    assert out
    assert max(map(len, out)) <= 65_536
    text = "".join(out + splitter.flush())
    assert text.replace(" ", "") == ("Bring bread, etc. i" + "x" * 200_000).replace(" ", "")


def test_memory_is_bounded_for_endless_run_on_text() -> None:
    splitter = SentenceSplitter()
    out: list[str] = []
    for _ in range(2000):
        out += splitter.feed("word " * 20)
    assert out  # forced breaks happened
    assert max(map(len, out)) <= 65_536


def test_operator_emits_in_virtual_time_and_flushes_before_an_error() -> None:
    scheduler = TestScheduler()
    boom = RuntimeError("cut")
    source = scheduler.create_hot_observable(
        on_next(210, "One. T"), on_next(220, "wo is cut"), on_error(230, boom)
    )
    results = scheduler.start(lambda: source.pipe(ops.sentences()))
    assert results.messages == [
        on_next(210, "One."),
        on_next(230, "Two is cut"),
        on_error(230, boom),
    ]


@given(
    st.lists(
        st.sampled_from([*"ab .?!\n。”\"'1U.S«»—~#`」と।🎉zBd", "z. B.", "```", "~~~", "## "]),
        max_size=60,
    ).map("".join),
    st.integers(0, 3),
)
def test_output_is_the_input_without_whitespace_between_sentences(text: str, seed: int) -> None:
    out = split(random_fragments(text, seed))
    assert "".join(out).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )
    assert out == split([text])


def test_works_in_a_pipeline() -> None:
    fragments = ["The", " mock", " says", " hi.", " Then", " it", " stops."]
    result = reactivex.from_iterable(fragments).pipe(ops.sentences(), rx_ops.to_list()).run()
    assert result == ["The mock says hi.", "Then it stops."]
