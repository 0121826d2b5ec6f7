"""Keep credentials out of logs, reprs and exceptions.

Everything that leaves rxstream (an exception message, an error's ``headers``, a log
event) passes through these helpers first, so a key cannot leak by accident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

SENSITIVE_HEADERS: Final = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
    }
)
REDACTED: Final = "[redacted]"

_QUERY_SECRET = re.compile(r"(?i)([?&](?:key|api_key|api-key|access_token|token)=)[^&#\s]*")
# Bearer tokens and well-known key prefixes that servers like to echo back in error bodies.
_TOKEN = re.compile(r"\b(sk-(?:ant-|proj-)?|AIza|xai-|gsk_)[A-Za-z0-9_\-]{8,}")


def mask(secret: str) -> str:
    """Show a secret as its prefix and last four characters, e.g. ``sk-…abcd``."""
    if len(secret) <= 8:
        return "…"
    prefix = "sk-" if secret.startswith("sk-") else ""
    return f"{prefix}…{secret[-4:]}"


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Copy ``headers`` with credential-bearing values replaced by ``[redacted]``."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: (REDACTED if k.lower() in SENSITIVE_HEADERS else v) for k, v in items}


def redact_url(url: str) -> str:
    """Replace ``key=``/``api_key=``/``token=`` query values with ``[redacted]``."""
    return _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, url)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask the given secrets and anything that looks like an API key inside ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return _TOKEN.sub(lambda m: mask(m.group(0)), text)


def secrets_in(headers: Mapping[str, str] | None) -> list[str]:
    """The credential values carried by ``headers`` (for masking echoes of them)."""
    if not headers:
        return []
    found: list[str] = []
    for name, value in headers.items():
        if name.lower() in SENSITIVE_HEADERS and value:
            found.append(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.lower() in {"bearer", "basic", "token"}:
                found.append(token)
    return found
