"""Newline-delimited JSON (NDJSON / JSON Lines), incrementally and with bounded lines."""

from __future__ import annotations

from typing import Any, Final

from ..errors import EventTooLarge
from . import Decoder
from .json import loads

DEFAULT_MAX_LINE_BYTES: Final = 16 * 1024 * 1024


class NDJSONDecoder(Decoder[bytes | str, Any]):
    """Feed bytes, get one decoded JSON value per non-blank line.

    Lines end at LF (a preceding CR is ignored); a last line without LF is decoded at
    end of input. A line longer than ``max_line_bytes`` raises ``EventTooLarge``.
    """

    __slots__ = ("_consumed", "_limit", "_pending", "_pending_size")

    def __init__(self, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> None:
        if max_line_bytes <= 0:
            raise ValueError("max_line_bytes must be positive")
        self._limit = max_line_bytes
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._consumed = 0  # stream offset of the first pending byte, for error positions

    def feed(self, item: bytes | str) -> list[Any]:
        chunk = item.encode() if isinstance(item, str) else item
        if b"\n" not in chunk:
            self._hold(chunk)
            return []
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
        values: list[Any] = []
        for line in lines:
            self._decode_line(line, values)
            self._consumed += len(line) + 1
        if tail:
            self._hold(tail)
        return values

    def flush(self) -> list[Any]:
        values: list[Any] = []
        if self._pending:
            line = b"".join(self._pending)
            self._pending.clear()
            self._decode_line(line, values)
        return values

    def _hold(self, chunk: bytes) -> None:
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if self._pending_size > self._limit:
            self._pending.clear()
            raise EventTooLarge(
                f"An NDJSON line grew past max_line_bytes={self._limit} bytes without ending; "
                "the stream was stopped. Raise max_line_bytes if such lines are expected.",
                limit=self._limit,
            )

    def _decode_line(self, line: bytes, values: list[Any]) -> None:
        if len(line) > self._limit:
            raise EventTooLarge(
                f"An NDJSON line of {len(line)} bytes exceeds max_line_bytes={self._limit}.",
                limit=self._limit,
            )
        if line.endswith(b"\r"):
            line = line[:-1]
        if line.strip():
            values.append(loads(line, offset=self._consumed))
