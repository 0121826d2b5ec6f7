"""Parsing operators: bytes → SSE events / NDJSON values, SSE events → JSON values."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from .._decoders.ndjson import DEFAULT_MAX_LINE_BYTES, NDJSONDecoder
from .._decoders.sse import DEFAULT_MAX_EVENT_BYTES, SSEDecoder
from .._decoders.sse_json import SSEJSONDecoder
from .._log import get_logger
from ..models import SSEEvent
from ..typing import Operator
from ._adapter import decoding

log = get_logger(__name__)


def parse_sse(
    *,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    errors: Literal["replace", "strict"] = "replace",
) -> Operator[bytes | str, SSEEvent]:
    """Parse a byte (or text) stream as Server-Sent Events, exactly as browsers do.

    Follows the WHATWG event-stream algorithm: CRLF/LF/CR line ends (also split across
    chunks), BOM, comments, ``data`` joined with ``\\n``, ``event`` defaulting to
    ``message``, ``id`` carried forward, digits-only ``retry``; an unterminated final
    event is discarded. Invalid UTF-8 becomes U+FFFD (``errors="strict"`` raises
    ``ParseError`` instead). An event over ``max_event_bytes`` raises ``EventTooLarge``.

    ::

        --b"data: a\\n\\nda"--b"ta: b\\n\\n"--|
        [            parse_sse()             ]
        --SSEEvent("a")------SSEEvent("b")---|
    """
    _positive("max_event_bytes", max_event_bytes)
    if errors not in ("replace", "strict"):
        raise ValueError("errors must be 'replace' or 'strict'")
    return _parse_sse(max_event_bytes, errors)


# Operators hold no state (each subscription builds its own decoders), so one object per
# set of options serves every pipeline: building a pipeline per request stays cheap.
@lru_cache(maxsize=32)
def _parse_sse(
    max_event_bytes: int, errors: Literal["replace", "strict"]
) -> Operator[bytes | str, SSEEvent]:
    return decoding(
        lambda: SSEDecoder(max_event_bytes=max_event_bytes, errors=errors), name="parse_sse"
    )


def parse_ndjson(*, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Operator[bytes | str, Any]:
    """Parse newline-delimited JSON (Ollama, many self-hosted servers): one value per line.

    Blank lines are skipped, CRLF is accepted, a final line without newline is decoded
    at the end. Malformed JSON raises ``ParseError``; a line over ``max_line_bytes``
    raises ``EventTooLarge``.

    ::

        --b'{"a":1}\\n{"a"'--b':2}\\n'--|
        [       parse_ndjson()       ]
        --{"a":1}---------{"a":2}----|
    """
    _positive("max_line_bytes", max_line_bytes)
    return decoding(lambda: NDJSONDecoder(max_line_bytes=max_line_bytes))


def sse_json(done: str | None = "[DONE]") -> Operator[SSEEvent, Any]:
    """Decode each SSE event's data as JSON, completing at the ``done`` sentinel.

    An in-band error (``{"error": ...}`` payload or ``event: error``) raises
    ``ProviderError`` with the provider's message and type. Pass ``done=None`` for
    APIs without a sentinel; with one, ending without it logs
    ``stream_ended_without_done`` (a provider operator downstream decides whether the
    stream was complete).

    ::

        --ev('{"x":1}')--ev('[DONE]')--ev(...)--
        [              sse_json()              ]
        --{"x":1}--------|
    """
    return _sse_json(done)


@lru_cache(maxsize=32)
def _sse_json(done: str | None) -> Operator[SSEEvent, Any]:
    def on_end(decoder: SSEJSONDecoder) -> None:
        if done is not None and decoder.events:
            log.warning("stream_ended_without_done", events=decoder.events, sentinel=done)

    return decoding(lambda: SSEJSONDecoder(done=done), on_end=on_end, name=f"sse_json:{done}")


def _positive(name: str, value: int) -> None:
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


__all__ = ["parse_ndjson", "parse_sse", "sse_json"]
