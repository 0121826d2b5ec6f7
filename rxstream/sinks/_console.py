"""A sink that renders streamed text live in a terminal, as plain text or as markdown."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from .._decoders.markdown import MarkdownBlockSplitter
from .._log import get_logger
from ..models import RefusalDelta, Restart, TextDelta

log = get_logger(__name__)


def _text_of(item: Any, wrote: bool) -> str | None:
    """The text an item shows (``None`` for items the console skips)."""
    kind = type(item)
    if kind is str:
        return str(item)
    if kind is TextDelta or kind is RefusalDelta:
        return str(item.text)
    if kind is Restart:
        return "\n[retrying from the start]\n" if wrote else ""
    return None


class ConsoleSink:
    """Writes text as it arrives and flushes after every write, so it appears live.

    Renders ``str`` items and ``TextDelta``/``RefusalDelta`` text; other items (tool
    calls, usage, finish) are skipped. A ``Restart`` marker starts a fresh line marked
    as a retry. Ends with a newline if anything was written.
    """

    def __init__(self, file: TextIO | None = None) -> None:
        self._file = file
        self._wrote = False

    @property
    def file(self) -> TextIO:
        """Where the text goes (``sys.stdout`` unless given)."""
        return self._file if self._file is not None else sys.stdout

    async def send(self, item: Any) -> None:
        """Render one item."""
        text = _text_of(item, self._wrote)
        if text:
            self.file.write(text)
            self.file.flush()
            self._wrote = True

    async def close(self, error: BaseException | None) -> None:
        """Finish the line."""
        if self._wrote:
            self.file.write("\n")
            self.file.flush()


class MarkdownConsoleSink:
    """Renders markdown with ``rich``: each finished block printed once, the open one live.

    Finished blocks go to the terminal's scrollback once and are never redrawn; only the
    block still being written is re-rendered, at most ``refresh_per_second`` times a
    second, in a transient live area below them. Fenced code is syntax-highlighted by
    its language tag.
    """

    def __init__(self, file: TextIO | None = None, *, refresh_per_second: float = 10.0) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = Console(file=file if file is not None else sys.stdout, soft_wrap=False)
        self._live = Live(
            console=self._console,
            auto_refresh=True,
            refresh_per_second=refresh_per_second,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._splitter = MarkdownBlockSplitter(tail=True)
        self._wrote = False
        self._printed = False
        self._blank_after = False
        self._live_started = False

    async def send(self, item: Any) -> None:
        """Render one item."""
        if type(item) is Restart:
            self._finish_blocks()
            self._splitter = MarkdownBlockSplitter(tail=True)
        text = _text_of(item, self._wrote)
        if not text:
            return
        self._wrote = True
        if type(item) is Restart:
            self._console.print(text.strip(), style="yellow", markup=False, highlight=False)
            return
        for block in self._splitter.feed(text):
            if block.final:
                self._print(block.text)
            else:
                self._show_tail(block.text)

    async def close(self, error: BaseException | None) -> None:
        """Print what is left as finished blocks and end the live area."""
        self._finish_blocks()
        if self._live_started:
            self._live.stop()
            self._live_started = False

    def _finish_blocks(self) -> None:
        for block in self._splitter.flush():
            self._print(block.text)
        self._show_tail("")

    def _print(self, markdown: str) -> None:
        from rich.markdown import Markdown
        from rich.segment import Segment, Segments

        self._show_tail("")
        if not markdown.strip():
            return
        # Blocks are rendered one by one, so rich's own margins (a blank line after each
        # list item) are trimmed and the answer's own blank lines kept instead.
        lines = self._console.render_lines(
            Markdown(markdown, code_theme="monokai"), self._console.options, pad=False
        )
        while lines and _blank_line(lines[-1]):
            lines.pop()
        while lines and _blank_line(lines[0]):
            lines.pop(0)
        source_lines = markdown.splitlines()
        if self._printed and (self._blank_after or not source_lines[0].strip()):
            self._console.print()  # the answer left a blank line between the blocks
        self._blank_after = len(source_lines) > 1 and not source_lines[-1].strip()
        self._console.print(
            Segments(segment for line in lines for segment in (*line, Segment.line())), end=""
        )
        self._printed = True

    def _show_tail(self, markdown: str) -> None:
        if not markdown and not self._live_started:
            return
        if not self._live_started:
            self._live.start()
            self._live_started = True
        self._live.update(_Tail(markdown), refresh=not markdown)


def _blank_line(line: list[Any]) -> bool:
    """Whether a rendered line shows nothing (background-coloured padding shows)."""
    return all(
        not segment.text.strip() and (segment.style is None or segment.style.bgcolor is None)
        for segment in line
    )


class _Tail:
    """The open block, parsed only when the live area redraws (not on every fragment)."""

    __slots__ = ("markdown",)

    def __init__(self, markdown: str) -> None:
        self.markdown = markdown

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.markdown import Markdown

        if self.markdown.strip():
            yield Markdown(self.markdown, code_theme="monokai")


def console(
    file: TextIO | None = None, *, markdown: bool = False
) -> ConsoleSink | MarkdownConsoleSink:
    """A sink that prints text live: ``await rs.run(stream, rs.sinks.console())``.

    With ``markdown=True`` and a terminal (``file.isatty()``), the text is rendered as
    markdown by ``rich`` (the ``markdown`` extra): finished blocks once, the open block
    live. Anywhere else — a pipe, a file, ``rich`` not installed — it prints the plain
    text as it arrives.
    """
    target = file if file is not None else sys.stdout
    if markdown and _is_terminal(target):
        try:
            return MarkdownConsoleSink(file)
        except ImportError:
            log.info("console_markdown_unavailable", reason="rich is not installed")
    return ConsoleSink(file)


def _is_terminal(file: TextIO) -> bool:
    isatty = getattr(file, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except ValueError:  # a closed file
        return False
