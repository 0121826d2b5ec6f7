"""markdown_blocks(): blocks agree with markdown-it's structure, at every chunking."""

from __future__ import annotations

import pytest
import reactivex
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from reactivex import operators as rx_ops
from reactivex.testing import ReactiveTest, TestScheduler

from rxstream import EventTooLarge, MarkdownBlock
from rxstream import operators as ops
from rxstream._decoders.markdown import MarkdownBlockSplitter

from ..helpers import random_chunks
from ..markdown_corpus import ANSWERS

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)

_ORACLE = MarkdownIt("commonmark").enable("table")
_KIND_OF_TOKEN = {
    "paragraph_open": "paragraph",
    "heading_open": "heading",
    "fence": "code",
    "code_block": "code",
    "table_open": "table",
    "blockquote_open": "quote",
    "hr": "rule",
    "html_block": "html",
    "list_item_open": "list",
}


def blocks_of(fragments: list[str], *, tail: bool = False) -> list[MarkdownBlock]:
    splitter = MarkdownBlockSplitter(tail=tail)
    out: list[MarkdownBlock] = []
    for fragment in fragments:
        out += splitter.feed(fragment)
    return out + splitter.flush()


def _trimmed(lines: list[str], start: int, end: int) -> tuple[int, int]:
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def oracle(text: str) -> list[tuple[str, int, int]]:
    """markdown-it's top-level blocks (list items for lists): kind and line range."""
    lines = text.splitlines()
    found = []
    for token in _ORACLE.parse(text):
        top_level = token.level == 0 or (token.type == "list_item_open" and token.level == 1)
        if top_level and token.type in _KIND_OF_TOKEN and token.map is not None:
            found.append((_KIND_OF_TOKEN[token.type], *_trimmed(lines, *token.map)))
    return found


def ours(text: str, blocks: list[MarkdownBlock]) -> list[tuple[str, int, int]]:
    lines = text.splitlines()
    found, line = [], 0
    for block in blocks:
        count = len(block.text.splitlines())
        start, end = _trimmed(lines, line, line + count)
        if end > start:
            found.append((block.kind, start, end))
        line += count
    return found


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: repr(a[:24]))
def test_blocks_match_markdown_it_and_restore_the_input_at_every_chunking(answer: str) -> None:
    blocks = blocks_of([answer])
    assert all(block.final for block in blocks)
    assert "".join(block.text for block in blocks) == answer
    assert ours(answer, blocks) == oracle(answer)
    assert blocks_of(list(answer)) == blocks
    for seed in range(3):
        assert blocks_of(random_chunks(answer, seed, max_size=24)) == blocks, seed


def test_corpus_has_a_hundred_answers_with_every_kind_and_an_unterminated_fence() -> None:
    assert len(ANSWERS) >= 100
    kinds = {block.kind for answer in ANSWERS for block in blocks_of([answer])}
    assert kinds == {"paragraph", "heading", "list", "code", "table", "quote", "rule", "html"}
    last_blocks = [blocks_of([answer])[-1] for answer in ANSWERS]
    assert any(b.kind == "code" and not b.text.rstrip().endswith("```") for b in last_blocks)


@pytest.mark.parametrize("answer", ANSWERS[:30], ids=lambda a: repr(a[:24]))
def test_tails_are_the_open_block_so_far_and_finals_are_unchanged(answer: str) -> None:
    with_tails = blocks_of(random_chunks(answer, 1, max_size=24), tail=True)
    assert [b for b in with_tails if b.final] == blocks_of([answer])
    done = ""
    for block in with_tails:
        assert answer.startswith(done + block.text)
        if block.final:
            done += block.text


def test_a_block_is_final_as_soon_as_its_closing_line_is_complete() -> None:
    splitter = MarkdownBlockSplitter(tail=False)
    assert splitter.feed("# Title") == []
    assert splitter.feed("\n") == [MarkdownBlock("# Title\n", "heading")]
    assert splitter.feed("Some text\n") == []
    assert splitter.feed("\n") == [MarkdownBlock("Some text\n\n", "paragraph")]
    assert splitter.feed("```py\nx = 1\n") == []
    assert splitter.feed("```\n") == [MarkdownBlock("```py\nx = 1\n```\n", "code")]
    assert splitter.feed("- a\n") == []  # an indented line could still join the item
    assert splitter.feed("- b\n") == [MarkdownBlock("- a\n", "list")]


def test_tail_updates_only_when_the_open_block_changed() -> None:
    splitter = MarkdownBlockSplitter()
    assert splitter.feed("Hel") == [MarkdownBlock("Hel", "paragraph", final=False)]
    assert splitter.feed("") == []
    assert splitter.feed("lo\n\n## T") == [
        MarkdownBlock("Hello\n\n", "paragraph"),
        MarkdownBlock("## T", "heading", final=False),
    ]


def test_a_huge_open_block_costs_linear_work_not_one_copy_per_fragment() -> None:
    splitter = MarkdownBlockSplitter(max_chars=10**7)
    fragment = "word " * 4
    tails = [b for _ in range(50_000) for b in splitter.feed(fragment)]  # one 1 MB line
    copied = sum(len(tail.text) for tail in tails)
    assert len(tails) < 500 + 8 * 12  # every fragment up to 8 KiB, then per eighth grown
    assert copied < 20 * 1_000_000  # a copy per fragment would be ~25 GB
    assert splitter.flush() == [MarkdownBlock(fragment * 50_000, "paragraph")]


def test_code_blocks_keep_their_language() -> None:
    blocks = blocks_of(["```python title=x\nx\n```\n~~~\ny\n~~~\n  ```js\nz\n```\nText\n"])
    assert [b.language for b in blocks] == ["python", None, "js", None]


def test_a_block_past_max_chars_is_a_typed_error_not_unbounded_memory() -> None:
    splitter = MarkdownBlockSplitter(max_chars=100)
    splitter.feed("```\n" + "x\n" * 40)
    with pytest.raises(EventTooLarge, match="max_chars=100"):
        splitter.feed("y\n" * 20)
    with pytest.raises(ValueError, match="max_chars"):
        ops.markdown_blocks(max_chars=0)


_MARKDOWN_PIECES = [
    "a", " ", "\n", "\n\n", "# ", "- ", "1. ", "  ", "```", "~~~", "> ", "|", "---", "<div>",
    "-->", "<!--", "x | y\n|---|---|\n", "\t", "*", "=",
]  # fmt: skip


@given(st.lists(st.sampled_from(_MARKDOWN_PIECES), max_size=40).map("".join), st.integers(0, 5))
def test_any_text_restores_exactly_and_chunks_the_same(text: str, seed: int) -> None:
    blocks = blocks_of([text])
    assert "".join(block.text for block in blocks) == text
    assert blocks_of(random_chunks(text, seed, max_size=24)) == blocks


def test_operator_flushes_before_an_error_in_virtual_time() -> None:
    scheduler = TestScheduler()
    boom = RuntimeError("cut")
    source = scheduler.create_hot_observable(
        on_next(210, "# A\nPara"), on_next(220, "graph"), on_error(230, boom)
    )
    results = scheduler.start(lambda: source.pipe(ops.markdown_blocks(tail=False)))
    assert results.messages == [
        on_next(210, MarkdownBlock("# A\n", "heading")),
        on_next(230, MarkdownBlock("Paragraph", "paragraph")),
        on_error(230, boom),
    ]


def test_operator_in_a_pipeline_with_tails() -> None:
    fragments = ["# Hi\n\nOne", " two\n\n"]
    result = reactivex.from_iterable(fragments).pipe(ops.markdown_blocks(), rx_ops.to_list()).run()
    assert result == [
        MarkdownBlock("# Hi\n", "heading"),
        MarkdownBlock("\nOne", "paragraph", final=False),
        MarkdownBlock("\nOne two\n\n", "paragraph"),
    ]
