"""Word and line chunking of streamed text: concatenating the output restores the input."""

from __future__ import annotations

from typing import Any

from ..models import Restart, TextDelta
from . import Decoder


class TextFilter(Decoder[Any, str]):
    """``TextDelta`` of one choice (or all, with ``None``) → its text; ``str`` and
    ``Restart`` pass through; everything else is dropped."""

    __slots__ = ("_choice",)

    def __init__(self, choice: int | None = 0) -> None:
        self._choice = choice

    def feed(self, item: Any) -> list[Any]:
        kind = type(item)
        if kind is TextDelta:
            if self._choice is None or item.choice == self._choice:
                return [item.text]
            return []
        if kind is str or kind is Restart:
            return [item]
        return []


MAX_WORD_CHARS = 4096
"""A "word" longer than this (a base64 blob, say) is emitted in pieces of this size."""


class WordSplitter(Decoder[str, str]):
    """Emits whole words, each with the whitespace that precedes it (`` world``).

    A word is complete when whitespace follows it, so it goes out as early as possible;
    trailing whitespace goes out with the remainder at the end. Words longer than
    ``MAX_WORD_CHARS`` are cut, so memory stays bounded.
    """

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, item: str) -> list[str]:
        text = self._pending + item
        words: list[str] = []
        start = 0
        i = 0
        n = len(text)
        # skip the leading whitespace of the first word
        while i < n and text[i].isspace():
            i += 1
        while i < n:
            while i < n and not text[i].isspace():
                i += 1
            if i == n:
                break  # the word may continue in the next fragment
            words.append(text[start:i])
            start = i
            while i < n and text[i].isspace():
                i += 1
        self._pending = text[start:]
        while len(self._pending) > MAX_WORD_CHARS:
            words.append(self._pending[:MAX_WORD_CHARS])
            self._pending = self._pending[MAX_WORD_CHARS:]
        return words

    def flush(self) -> list[str]:
        rest, self._pending = self._pending, ""
        return [rest] if rest else []


class LineSplitter(Decoder[str, str]):
    """Emits whole lines including their ``\\n``; the last line without one at the end."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[str] = []

    def feed(self, item: str) -> list[str]:
        if "\n" not in item:
            if item:
                self._pending.append(item)
            return []
        parts = item.split("\n")
        tail = parts.pop()
        lines = [part + "\n" for part in parts]
        if self._pending:
            lines[0] = "".join(self._pending) + lines[0]
            self._pending.clear()
        if tail:
            self._pending.append(tail)
        return lines

    def flush(self) -> list[str]:
        rest = "".join(self._pending)
        self._pending.clear()
        return [rest] if rest else []
