"""console(markdown=True): rich rendering in a real pseudo-terminal, plain text elsewhere."""

from __future__ import annotations

import io
import os
import re
import select

import pytest
import reactivex

import rxstream as rs
from rxstream.sinks import ConsoleSink, MarkdownConsoleSink, console

pytest.importorskip("rich")

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
ANSWER = [
    "# Release notes\n\nThe **new** parser is ",
    "faster.\n\n```python\nprint('hi')\n```\n\n- one\n- two\n",
]


def read_all(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


async def render_in_terminal(fragments: list[str]) -> str:
    primary, secondary = os.openpty()
    with open(secondary, "w", encoding="utf-8", closefd=True) as terminal:  # noqa: ASYNC230
        sink = console(terminal, markdown=True)
        assert isinstance(sink, MarkdownConsoleSink)
        await rs.run(reactivex.from_iterable(fragments), sink)
        terminal.flush()
        output = read_all(primary)
    os.close(primary)
    return output


async def test_markdown_renders_in_a_terminal_without_markup_characters() -> None:
    output = await render_in_terminal(ANSWER)
    plain = ANSI.sub("", output)
    assert "Release notes" in plain
    assert "# Release notes" not in plain  # rendered as a heading, not shown as markup
    assert "**new**" not in plain
    assert "new" in plain
    assert "print" in plain
    assert "```" not in plain  # the fence is drawn, not printed
    assert "\x1b[" in output  # styled: bold heading, highlighted code
    assert "•" in plain  # list bullets


async def test_a_block_finished_in_one_fragment_is_printed_once() -> None:
    output = ANSI.sub("", await render_in_terminal(["Only once, this paragraph.\n\nNext.\n\n"]))
    assert output.count("Only once, this paragraph.") == 1


async def test_plain_text_when_not_a_terminal() -> None:
    out = io.StringIO()
    sink = console(out, markdown=True)
    assert isinstance(sink, ConsoleSink)
    await rs.run(reactivex.from_iterable(ANSWER), sink)
    assert out.getvalue() == "".join(ANSWER) + "\n"
