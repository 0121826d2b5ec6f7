"""Recordings: a stream's raw chunks with their arrival times, as JSON Lines.

One line per chunk, ``{"t": seconds since recording started, "b": base64 bytes}`` (or
``"s"`` for text items), and a last line with the outcome: ``{"t": …, "end":
"completed"}`` or ``{"t": …, "end": "error", "error": "StreamInterrupted", "message":
…}``. Only the response body is recorded, never request headers or keys.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import IO, Any

import msgspec

from .._redact import redact_text
from ..errors import StreamError

FORMAT = "rxstream-recording/1"


class RecordingSink:
    """Writes what ``rs.run(stream, sink)`` delivers to ``path``; see ``to_recording``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._started = time.monotonic()
        self._file: IO[bytes] | None = None

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self._file = self.path.open("wb")
            self._file.write(msgspec.json.encode({"format": FORMAT}) + b"\n")
        self._file.write(msgspec.json.encode(record) + b"\n")

    def _elapsed(self) -> float:
        return round(time.monotonic() - self._started, 6)

    async def send(self, item: Any) -> None:
        """Record one chunk (``bytes``) or text item (``str``) with its arrival time."""
        if isinstance(item, bytes | bytearray):
            self._write({"t": self._elapsed(), "b": base64.b64encode(item).decode()})
        elif isinstance(item, str):
            self._write({"t": self._elapsed(), "s": item})
        else:
            raise TypeError(f"to_recording records bytes or str, got {type(item).__name__}")

    async def close(self, error: BaseException | None) -> None:
        """Record the outcome and close the file."""
        if error is None:
            self._write({"t": self._elapsed(), "end": "completed"})
        elif isinstance(error, Exception):
            self._write(
                {
                    "t": self._elapsed(),
                    "end": "error",
                    "error": type(error).__name__,
                    "message": redact_text(str(error)) if isinstance(error, StreamError) else "",
                }
            )
        else:
            self._write({"t": self._elapsed(), "end": "cancelled"})
        if self._file is not None:
            self._file.close()
            self._file = None


def to_recording(path: str | os.PathLike[str]) -> RecordingSink:
    """A sink recording a stream's chunks and timing: ``await rs.run(source, to_recording(p))``.

    Times are measured from when the sink is created, so create it right before
    ``rs.run`` to keep the time to first chunk. Replay with ``rs.from_recording(p)``.
    """
    return RecordingSink(path)
