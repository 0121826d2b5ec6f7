"""Turning a non-2xx response into rxstream's typed errors."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Final

from ._redact import redact_headers, redact_text
from .errors import HTTPStatusError, RateLimitError

MAX_ERROR_BODY_READ: Final = 64 * 1024
"""An error body is read only this far; the connection is then closed, not drained."""
MAX_ERROR_BODY_QUOTE: Final = 2 * 1024
"""At most this much of the error body is kept on the exception."""


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The server's delay hint: ``retry-after-ms``, then ``retry-after`` seconds or HTTP-date.

    Returns the first hint that parses (it may be ≤ 0: callers decide what is usable),
    or ``None`` when there is none or none is well-formed and finite.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        value = _finite(millis)
        if value is not None:
            return value / 1000.0
    hint = lowered.get("retry-after")
    if hint is None:
        return None
    value = _finite(hint)
    if value is not None:
        return value
    try:
        when = parsedate_to_datetime(hint.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when.timestamp() - (time.time() if now is None else now)


def _finite(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def status_error(
    *,
    status: int,
    reason: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Iterable[str] = (),
) -> HTTPStatusError:
    """The ``HTTPStatusError`` (or ``RateLimitError`` for 429) for a failed response."""
    secrets = list(secrets)
    excerpt = redact_text(body[:MAX_ERROR_BODY_QUOTE].decode("utf-8", "replace"), secrets)
    safe_headers = redact_headers(headers.items())
    summary = " ".join(excerpt.split())[:300]
    advice = _ADVICE.get(status) or (
        "The server failed; retrying later may help." if status >= 500 else ""
    )
    if 300 <= status < 400:
        location = safe_headers.get("Location") or safe_headers.get("location") or "?"
        advice = (
            f"Redirect to {location} was not followed (pass follow_redirects=True to allow it)."
        )
    message = f"HTTP {status} {reason} from {url}" + (f": {summary}" if summary else "")
    if advice:
        message += f" — {advice}"
    hint = retry_after_seconds(headers)
    if status == 429:
        return RateLimitError(message, headers=safe_headers, body=excerpt, retry_after=hint)
    return HTTPStatusError(
        message, status=status, headers=safe_headers, body=excerpt, retry_after=hint
    )


_ADVICE: Final = {
    400: "The request was rejected; check the payload (model name, messages, parameters).",
    401: "Authentication failed; check the API key.",
    403: "The key is not allowed to do this; check its permissions.",
    404: "Not found; check the base URL and the model name.",
    408: "The server timed out waiting for the request; retrying may help.",
    409: "Conflict; retrying may help.",
    413: "The request is too large.",
    422: "The request was not understood; check the payload.",
    429: "Rate limited; wait before retrying (see retry_after).",
}
