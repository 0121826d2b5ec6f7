"""The WHATWG HTML "event stream" interpretation, as an incremental state machine.

Spec: https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation

Input is decoded with an incremental UTF-8 decoder (U+FFFD for invalid bytes, as the
spec requires), so multi-byte characters split across network reads decode exactly.
Lines end at CRLF, LF or a lone CR; a CR that ends one chunk is remembered so an LF
starting the next chunk is not taken for an empty line.
"""

from __future__ import annotations

import codecs
from typing import Any, Final, Literal, Protocol

from ..errors import EventTooLarge, ParseError
from ..models import SSEEvent, _new, _sse_data, _sse_event, _sse_id, _sse_retry, new_sse_event
from . import Decoder, PartialFeed

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
        "_utf8_pending",
        "read_data",
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
        self._utf8_pending = False  # the incremental decoder holds part of a character
        self._at_start = True
        self._skip_lf = False
        self._pending: list[str] = []  # pieces of the current unterminated line
        self._pending_size = 0
        self._data: list[str] = []
        self._data_size = 0
        self._event_type = ""
        self._last_event_id: str | None = None
        self._retry: int | None = None
        self.read_data = False  # the last _read() returned data strings, not events

    @property
    def last_event_id(self) -> str | None:
        """The last event id seen (what a reconnect sends as ``Last-Event-ID``)."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The server's reconnection time in milliseconds, if it sent a valid one."""
        return self._retry

    def feed(self, item: bytes | str) -> list[SSEEvent]:
        read = self._read(item)
        return self._whole_data_events(read) if self.read_data else read

    def _read(self, item: bytes | str) -> list[Any]:
        """The events ``item`` completes, or, when it is whole ``data: …`` events only
        (the shape of nearly every LLM read), just their data: then ``read_data`` is
        true, and each has type ``message`` and this decoder's id and retry."""
        self.read_data = False
        if isinstance(item, str):
            text = item
        elif not self._utf8_pending:
            try:
                # Most chunks are whole, valid UTF-8: decode them without the
                # incremental decoder's overhead (it holds nothing at this point).
                text = item.decode("utf-8")
            except UnicodeDecodeError:
                text = self._decode_incrementally(item)
        else:
            text = self._decode_incrementally(item)
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
        if "\n" not in text and "\r" not in text:
            # a piece of a line: small network reads of a long line land here every time
            self._pending.append(text)
            self._pending_size += len(text) if text.isascii() else _utf8_size(text)
            if self._pending_size + self._data_size > self._limit:
                self._too_large()
            return []
        if (
            not self._pending
            and not self._data
            and not self._event_type
            and text[:6] == "data: "
            and text[-2:] == "\n\n"
            and "\r" not in text
        ):
            # The split accounts for every newline exactly when there is no other line.
            datas = text[6:-2].split("\n\ndata: ")
            if text.count("\n") == 2 * len(datas):
                limit = self._limit
                for data in datas:
                    if len(data) >= limit and _utf8_size(data) + 1 > limit:
                        self._too_large()
                self.read_data = True
                return datas
        return self._general(text)

    def _decode_incrementally(self, item: bytes) -> str:
        try:
            text = self._utf8.decode(item)
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"Invalid UTF-8 in the event stream: {exc.reason}. "
                "Use errors='replace' to decode it as U+FFFD, as browsers do.",
                excerpt=item[max(0, exc.start - 20) : exc.end + 20].decode("utf-8", "replace"),
            ) from None
        self._utf8_pending = bool(self._utf8.getstate()[0])
        return text

    def _general(self, text: str) -> list[SSEEvent]:
        """Any text with a line end, by the spec's line-by-line algorithm."""
        if "\r" in text:
            if text[-1] == "\r":
                self._skip_lf = True
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        # _read() held a text without a line end: here there is at least one
        lines = text.split("\n")
        tail = lines.pop()
        if self._pending:
            self._pending.append(lines[0])
            lines[0] = "".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
        events: list[SSEEvent] = []
        for line in lines:
            # The two lines of nearly every event ("data: …" and the blank line that
            # dispatches it) are handled inline; _line() does the rest of the spec.
            if not line:
                if self._data:
                    self._dispatch(events)
                else:
                    self._event_type = ""
            elif line[:5] == "data:":
                value = line[6:] if line[5:6] == " " else line[5:]
                self._data.append(value)
                self._data_size += (len(value) if value.isascii() else _utf8_size(value)) + 1
                if self._data_size > self._limit:
                    self._too_large()
            else:
                self._line(line, events)
        if tail:
            self._hold(tail)
        return events

    def _whole_data_events(self, datas: list[str]) -> list[SSEEvent]:
        """The fast path: exactly what the general path yields for such a chunk."""
        last_id, retry = self._last_event_id, self._retry
        if len(datas) == 1:  # one event per read: skip the loop
            return [new_sse_event(datas[0], "message", last_id, retry)]
        events: list[SSEEvent] = []
        append = events.append
        for data in datas:
            # new_sse_event() inlined: this loop runs once per event of a busy stream
            event = _new(SSEEvent)
            _sse_data(event, data)
            _sse_event(event, "message")
            _sse_id(event, last_id)
            _sse_retry(event, retry)
            append(event)
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
                self._last_event_id = value  # "" resets it (WHATWG), unlike None: never set
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[SSEEvent]) -> None:
        data = self._data
        if not data:
            self._event_type = ""
            return
        events.append(
            new_sse_event(
                data[0] if len(data) == 1 else "\n".join(data),
                self._event_type or "message",
                self._last_event_id,
                self._retry,
            )
        )
        self._data = []
        self._data_size = 0
        self._event_type = ""


def _utf8_size(text: str) -> int:
    # len() is exact for ASCII and a lower bound otherwise; encode only when it matters.
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


class SSEDataReader(Protocol):
    """A decoder of SSE events that also takes a ``message`` event as its data string."""

    done: bool

    def feed(self, item: SSEEvent) -> list[Any]: ...

    def feed_sse_data(self, data: str, last_event_id: str | None) -> list[Any]: ...

    def flush(self) -> list[Any]: ...

    def annotate(self, error: Exception) -> Exception: ...


class SSEDataFeed(Decoder[bytes | str, Any]):
    """``SSEDecoder`` and the decoder after it in one: reads made of whole ``data:``
    events reach ``consumer.feed_sse_data`` as strings, with no ``SSEEvent`` built for
    them; any other read goes through the spec's general path as events.

    Outputs, completion (``done``), errors and their annotations are those of the two
    decoders run one after the other (outputs made before a failure inside one read
    come with it, in ``PartialFeed``).
    """

    __slots__ = ("consumer", "done", "sse")

    def __init__(self, sse: SSEDecoder, consumer: SSEDataReader) -> None:
        self.sse = sse
        self.consumer = consumer
        self.done = False

    def feed(self, item: bytes | str) -> list[Any]:
        read = self.sse._read(item)
        if not read:
            return read  # most small reads complete nothing
        sse, consumer = self.sse, self.consumer
        out: list[Any] = []
        try:
            if sse.read_data:
                feed_data, last_id = consumer.feed_sse_data, sse._last_event_id
                for data in read:
                    out += feed_data(data, last_id)
                    if consumer.done:
                        break
            else:
                feed_event = consumer.feed
                for event in read:
                    out += feed_event(event)
                    if consumer.done:
                        break
        except Exception as error:
            if out:
                raise PartialFeed(out, error) from None
            raise
        self.done = consumer.done
        return out

    def flush(self) -> list[Any]:
        out: list[Any] = []
        for event in self.sse.flush():  # the spec drops an unfinished event: none today
            out += self.consumer.feed(event)
        return out + self.consumer.flush()

    def annotate(self, error: Exception) -> Exception:
        return self.consumer.annotate(self.sse.annotate(error))
