"""SSE event data → JSON values, with an end sentinel and in-band errors."""

from __future__ import annotations

from typing import Any

import msgspec

from ..errors import StreamError, StreamInterrupted
from ..models import SSEEvent
from . import Decoder
from .inband import error_event, provider_error
from .json import loads

_decode = msgspec.json.Decoder().decode


class SSEJSONDecoder(Decoder[SSEEvent, Any]):
    """Decode each event's ``data`` as JSON; stop at the ``done`` sentinel.

    An ``event: error`` or a payload with an ``error`` member raises ``ProviderError``.
    """

    __slots__ = ("_done_marker", "_last_id", "_retry_ms", "done", "events")

    def __init__(self, *, done: str | None = "[DONE]") -> None:
        self._done_marker = done
        self.done = False
        self.events = 0
        self._last_id: str | None = None
        self._retry_ms: int | None = None

    def annotate(self, error: Exception) -> Exception:
        # Downstream only sees JSON values: pass on what a resume needs.
        if isinstance(error, StreamError):
            error.last_event_id = error.last_event_id or self._last_id
            error.events = error.events or self.events
        if (
            isinstance(error, StreamInterrupted)
            and error.reconnect_delay is None
            and self._retry_ms is not None
        ):
            error.reconnect_delay = self._retry_ms / 1000
        return error

    def feed(self, item: SSEEvent) -> list[Any]:
        self._last_id = item.id
        self._retry_ms = item.retry
        data = item.data
        if data == self._done_marker:
            self.done = True
            return []
        self.events += 1
        if item.event == "error":
            raise error_event(data)
        try:
            value = _decode(data)
        except (msgspec.DecodeError, RecursionError):
            value = loads(data)  # raises the ParseError with position and excerpt
        if type(value) is dict and "error" in value:
            error = provider_error(value)
            if error is not None:
                raise error
        return [value]
