"""A sink that renders streamed text live in a terminal."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ..models import RefusalDelta, Restart, TextDelta


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
        kind = type(item)
        if kind is str:
            text = item
        elif kind is TextDelta or kind is RefusalDelta:
            text = item.text
        elif kind is Restart:
            text = "\n[retrying from the start]\n" if self._wrote else ""
        else:
            return
        if text:
            self.file.write(text)
            self.file.flush()
            self._wrote = True

    async def close(self, error: BaseException | None) -> None:
        """Finish the line."""
        if self._wrote:
            self.file.write("\n")
            self.file.flush()


def console(file: TextIO | None = None) -> ConsoleSink:
    """A sink that prints text live: ``await rs.run(stream, rs.sinks.console())``."""
    return ConsoleSink(file)
