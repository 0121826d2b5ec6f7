"""Turning a non-2xx response into rxstream's typed errors."""

from __future__ import annotations

import html
import math
import re
import time
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Final, NamedTuple

import msgspec

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
    """The ``HTTPStatusError`` (or ``RateLimitError`` for 429) for a failed response.

    The provider's own ``message``/``type``/``code`` come from its JSON error body; a
    body that is not such JSON (an HTML page from a proxy) is quoted as a short excerpt.
    """
    secrets = list(secrets)
    text = body.decode("utf-8", "replace")
    excerpt = redact_text(text[:MAX_ERROR_BODY_QUOTE], secrets)
    safe_headers = redact_headers(headers.items())
    detail = provider_error_detail(body)
    provider_message = redact_text(detail.message, secrets) if detail.message is not None else None
    if provider_message is not None:
        labels = ", ".join(label for label in (detail.type, detail.code) if label)
        summary = provider_message + (f" ({labels})" if labels else "")
    else:
        summary = _plain_excerpt(excerpt)
    if len(summary) > _MAX_SUMMARY:
        summary = summary[: _MAX_SUMMARY - 1] + "…"
    advice = _ADVICE.get(status) or (
        "The server failed; retrying later may help." if status >= 500 else ""
    )
    if 300 <= status < 400:
        location = safe_headers.get("Location") or safe_headers.get("location") or "?"
        advice = (
            f"Redirect to {location} was not followed (pass follow_redirects=True to allow it)."
        )
    message = f"HTTP {status} {reason} from {url}".rstrip() + (f": {summary}" if summary else "")
    if advice:
        message += f" — {advice}"
    hint = retry_after_seconds(headers)
    kind = RateLimitError if status == 429 else HTTPStatusError
    return kind(
        message,
        status=status,
        headers=safe_headers,
        body=excerpt,
        retry_after=hint,
        provider_message=provider_message,
        type=detail.type,
        code=detail.code,
    )


class ErrorDetail(NamedTuple):
    """A provider's error fields: ``None`` where the body did not say."""

    message: str | None = None
    type: str | None = None
    code: str | None = None


def provider_error_detail(body: bytes) -> ErrorDetail:
    """``message``, ``type`` and ``code`` from a provider's JSON error body.

    Shapes: OpenAI ``{"error": {"message", "type", "code"}}``, Anthropic ``{"type":
    "error", "error": {"type", "message"}}``, Gemini ``{"error": {"message", "status"}}``
    (also wrapped in a list), Ollama ``{"error": "..."}``.
    """
    try:
        value = msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError):
        return ErrorDetail()
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, dict):
        return ErrorDetail()
    error = value.get("error")
    if isinstance(error, str):
        return ErrorDetail(message=error or None)
    if not isinstance(error, dict):
        message = value.get("message") or value.get("detail")
        return ErrorDetail(message=message if isinstance(message, str) and message else None)
    return ErrorDetail(
        message=_text(error.get("message")),
        type=_text(error.get("type")) or _text(error.get("status")),
        code=_text(error.get("code")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


_MAX_SUMMARY: Final = 1000
_TAG: Final = re.compile(  # comments, scripts/styles and tags, also when cut off at the end
    r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)|<[^>]*(?:>|\Z)", re.S | re.I
)


def _plain_excerpt(text: str, limit: int = 200) -> str:
    """A short one-line excerpt of a non-JSON body (markup stripped from HTML pages)."""
    if "<" in text and ">" in text:
        text = html.unescape(_TAG.sub(" ", text))
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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
