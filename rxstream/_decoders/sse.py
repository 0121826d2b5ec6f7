"""The WHATWG HTML "event stream" interpretation, as an incremental state machine.

Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Input is decoded with an incremental UTF-8 decoder (U+FFFD for invalid bytes, as the
spec requires), so multi-byte characters split across network reads decode exactly.
Lines end at CRLF, LF or a lone CR; a CR that ends one chunk is remembered so an LF
starting the next chunk is not taken for an empty line.
"""

from __future__ import annotations

import codecs
from typing import Final, Literal

from ..errors import EventTooLarge, ParseError
from ..models import SSEEvent
from . import Decoder

DEFAULT_MAX_EVENT_BYTES: Final = 16 * 1024 * 1024
_BOM: Final = "\ufeff"


class SSEDecoder(Decoder[bytes | str, SSEEvent]):
    """Feed bytes (or already-decoded text), get dispatched :class:`SSEEvent` values.

    ``max_event_bytes`` bounds one event: its ``data`` lines plus an unterminated line.
    Sizes are counted in UTF-8 bytes. Exceeding it raises ``EventTooLarge``.
    """

    __slots__ = (
        "_at_start",
        "_data",
        "_data_size",
        "_errors",
        "_event_type",
        "_last_event_id",
        "_limit",
        "_pending",
        "_pending_size",
        "_retry",
        "_skip_lf",
        "_utf8",
    )

    def __init__(
        self,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        errors: Literal["replace", "strict"] = "replace",
    ) -> None:
        if max_event_bytes <= 0:
            raise ValueError("max_event_bytes must be positive")
        if errors not in ("replace", "strict"):
            raise ValueError("errors must be 'replace' or 'strict'")
        self._limit = max_event_bytes
        self._errors = errors
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors)
        self._at_start = True
        self._skip_lf = False
        self._pending: list[str] = []  # pieces of the current unterminated line
        self._pending_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._last_event_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        """The last event id seen (what a reconnect sends as ``Last-Event-ID``)."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The server's reconnection time in milliseconds, if it sent a valid one."""
        return self._retry

    def feed(self, item: bytes | str) -> list[SSEEvent]:
        if isinstance(item, str):
            text = item
        else:
            try:
                text = self._utf8.decode(item)
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"Invalid UTF-8 in the event stream: {exc.reason}. "
                    "Use errors='replace' to decode it as U+FFFD, as browsers do.",
                    excerpt=item[max(0, exc.start - 20) : exc.end + 20].decode("utf-8", "replace"),
                ) from None
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            if text[0] == _BOM:
                text = text[1:]
        if self._skip_lf:
            self._skip_lf = False
            if text[:1] == "\n":
                text = text[1:]
        if "\r" in text:
            if text[-1] == "\r":
                self._skip_lf = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            self._hold(text)
            return []
        lines = text.split("\n")
        tail = lines.pop()
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
        events: list[SSEEvent] = []
        for line in lines:
            self._line(line, events)
        if tail:
            self._hold(tail)
        return events

    def flush(self) -> list[SSEEvent]:
        # The spec discards an incomplete trailing event; decoding the final bytes
        # still matters in strict mode, where a truncated character is an error.
        if self._errors == "strict":
            try:
                self._utf8.decode(b"", True)
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"The stream ended inside a UTF-8 character: {exc.reason}"
                ) from None
        return []

    def _hold(self, text: str) -> None:
        self._pending.append(text)
        self._pending_size += _utf8_size(text)
        if self._pending_size + self._data_size > self._limit:
            self._too_large()

    def _too_large(self) -> None:
        self._pending.clear()
        self._data.clear()
        raise EventTooLarge(
            f"An event grew past max_event_bytes={self._limit} bytes without ending; "
            "the stream was stopped. Raise max_event_bytes if such events are expected.",
            limit=self._limit,
        )

    def _line(self, line: str, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        colon = line.find(":")
        if colon == 0:
            return  # comment, e.g. a ": ping" keep-alive
        if colon < 0:
            field, value = line, ""
        else:
            field = line[:colon]
            value = line[colon + 2 :] if line[colon + 1 : colon + 2] == " " else line[colon + 1 :]
        if field == "data":
            self._data.append(value)
            # +1 for the LF that joins data lines
            self._data_size += _utf8_size(value) + 1
            if self._data_size > self._limit:
                self._too_large()
        elif field == "event":
            self._event_type = value
        elif field == "id":
            if "\0" not in value:
                self._last_event_id = value or None
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[SSEEvent]) -> None:
        data = self._data
        if not data:
            self._event_type = ""
            return
        events.append(
            SSEEvent(
                data=data[0] if len(data) == 1 else "\n".join(data),
                event=self._event_type or "message",
                id=self._last_event_id,
                retry=self._retry,
            )
        )
        self._data = []
        self._data_size = 0
        self._event_type = ""


def _utf8_size(text: str) -> int:
    # len() is exact for ASCII and a lower bound otherwise; encode only when it matters.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
