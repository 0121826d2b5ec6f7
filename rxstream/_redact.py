"""Keep credentials out of logs, reprs and exceptions.

Everything that leaves rxstream (an exception message, an error's ``headers``, a log
event) passes through these helpers first, so a key cannot leak by accident.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

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
# the password of a URL's user info: scheme://user:PASSWORD@host (Redis URLs carry one)
_USERINFO_SECRET = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@", re.IGNORECASE)
# Bearer tokens and well-known key prefixes that servers like to echo back in error bodies.
_TOKEN = re.compile(r"\b(sk-(?:ant-|proj-)?|AIza|xai-|gsk_)[A-Za-z0-9_\-]{8,}")


class Secret:
    """A credential that shows itself only as ``sk-…abcd`` (repr, str, logs, pickling)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({mask(self._value)!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


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
    """Replace ``key=``/``api_key=``/``token=`` query values and the password of a URL's
    user info (``scheme://user:password@host``) with ``[redacted]``."""
    if "=" not in url and "@" not in url:
        return url  # neither pattern can match (most API URLs): once per request
    url = _USERINFO_SECRET.sub(lambda m: m.group(1) + REDACTED + "@", url)
    return _QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, url)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask the given secrets, key-like tokens and ``key=`` URL parameters in ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    text = _TOKEN.sub(lambda m: mask(m.group(0)), text)
    return redact_url(text)


def redact_secrets(_logger: object, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor that masks credentials in every event's values.

    Add it to your ``structlog.configure(processors=[...])`` chain (before the
    renderer) so nothing that looks like a key, a bearer token or a ``key=`` URL
    parameter reaches your logs, whoever logged it.
    """
    for name, value in event_dict.items():
        if isinstance(value, str):
            event_dict[name] = redact_text(value)
        elif isinstance(value, Mapping) and name.lower().endswith("headers"):
            event_dict[name] = redact_headers(value)
        elif isinstance(value, Secret):
            event_dict[name] = repr(value)
    return event_dict


def secrets_in(headers: Mapping[str, str | Secret] | None) -> list[str]:
    """The credential values carried by ``headers`` (for masking echoes of them)."""
    if not headers:
        return []
    found: list[str] = []
    for name, raw in headers.items():
        value = raw.reveal() if isinstance(raw, Secret) else raw
        if (name.lower() in SENSITIVE_HEADERS or isinstance(raw, Secret)) and value:
            found.append(value)
            scheme, _, token = value.partition(" ")
            if token and scheme.lower() in {"bearer", "basic", "token"}:
                found.append(token)
    return found
