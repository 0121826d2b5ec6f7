"""JSON decoding with rxstream's errors: msgspec underneath, ``ParseError`` on the outside."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ..errors import MAX_EXCERPT_CHARS, ParseError

_decode = msgspec.json.Decoder().decode
_BYTE_POSITION = re.compile(r"\(byte (\d+)\)")


def loads(data: str | bytes, *, offset: int = 0) -> Any:
    """Decode one JSON document; ``offset`` is where ``data`` starts in the stream.

    Raises ``ParseError`` (with the stream position and an excerpt) for malformed JSON
    and for nesting too deep to decode, never ``RecursionError``.
    """
    try:
        return _decode(data)
    except msgspec.DecodeError as exc:
        reason = str(exc)
    except RecursionError:
        reason = "JSON is nested too deeply to decode"
    # Raised outside the except blocks so the error carries no chained context.
    raise _parse_error(reason, data, offset)


def _parse_error(reason: str, data: str | bytes, offset: int) -> ParseError:
    match = _BYTE_POSITION.search(reason)
    local = int(match.group(1)) if match else 0
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    start = max(0, local - MAX_EXCERPT_CHARS // 2)
    excerpt = text[start : start + MAX_EXCERPT_CHARS]
    return ParseError(
        f"Malformed JSON at byte {offset + local}: {reason}. "
        "The server sent a payload that is not valid JSON; check the endpoint and format.",
        position=offset + local,
        excerpt=excerpt,
    )
