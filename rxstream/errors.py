"""The exceptions rxstream raises, all rooted at :class:`StreamError`.

Every error reaches the subscriber through ``on_error`` (or is raised by the awaiting
sink), says what happened and what to do about it, and never carries a credential::

    StreamError                      attempts: number of HTTP requests made
    ├── ConnectError                 DNS failure, connection refused, TLS failure
    ├── HTTPStatusError              non-2xx answer: status, headers, body excerpt
    │   └── RateLimitError           429, with retry_after
    ├── StreamInterrupted            the body ended or broke before the stream was done
    ├── StreamTimeout                a first/idle/total deadline passed
    ├── ParseError                   malformed bytes or JSON: position, excerpt
    ├── EventTooLarge                one event exceeded max_event_bytes / max_line_bytes
    ├── ProviderError                the provider reported an error inside the stream
    ├── BufferOverflow               a bounded sink queue filled up (consumer too slow)
    ├── StreamExpired                a Redis stream expired (or never existed) before it was read
    └── LeaseLost                    a Redis producer found its lease taken and stopped writing
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "BufferOverflow",
    "ConnectError",
    "EventTooLarge",
    "HTTPStatusError",
    "LeaseLost",
    "ParseError",
    "ProviderError",
    "RateLimitError",
    "StreamError",
    "StreamInterrupted",
    "StreamExpired",
    "StreamTimeout",
]

MAX_EXCERPT_CHARS = 200
"""How much of the offending input a :class:`ParseError` quotes."""


class StreamError(Exception):
    """Base class of every rxstream error.

    ``attempts`` is the number of HTTP requests made before this error was raised
    (``0`` for errors that did not come from a request, such as parsing recorded data).
    """

    attempts: int

    def __init__(self, message: str, *, attempts: int = 0) -> None:
        super().__init__(message)
        self.attempts = attempts

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConnectError(StreamError):
    """The connection could not be established (DNS, refused, timeout, TLS).

    ``tls`` is true for certificate and handshake failures, which retrying cannot fix.
    """

    tls: bool

    def __init__(self, message: str, *, tls: bool = False, attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.tls = tls


class HTTPStatusError(StreamError):
    """The server answered with a non-2xx status before any data was streamed.

    ``headers`` are the response headers (case-insensitive) with credentials
    redacted; ``body`` is an excerpt of at most 2 KiB of the response body;
    ``retry_after`` the server's delay hint in seconds, if it sent one.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: str
    retry_after: float | None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: str = "",
        retry_after: float | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.status = status
        self.headers = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.body = body
        self.retry_after = retry_after


class RateLimitError(HTTPStatusError):
    """HTTP 429 (or a retry hint above the policy's limit).

    ``retry_after`` is the server's delay hint in seconds, or ``None`` without one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        headers: Mapping[str, str] | None = None,
        body: str = "",
        retry_after: float | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(
            message,
            status=status,
            headers=headers,
            body=body,
            retry_after=retry_after,
            attempts=attempts,
        )


class StreamInterrupted(StreamError):
    """The stream ended or broke before it was complete.

    Carries what was received so far: ``partial_text`` (text of choice 0), ``events``
    (parsed events delivered), ``last_event_id`` (for an SSE resume) and
    ``reconnect_delay`` (the server's SSE ``retry:`` hint in seconds, if any).
    """

    partial_text: str
    events: int
    last_event_id: str | None
    reconnect_delay: float | None

    def __init__(
        self,
        message: str,
        *,
        partial_text: str = "",
        events: int = 0,
        last_event_id: str | None = None,
        reconnect_delay: float | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.partial_text = partial_text
        self.events = events
        self.last_event_id = last_event_id
        self.reconnect_delay = reconnect_delay


class StreamTimeout(StreamError):
    """A deadline passed: ``which`` names it (``first``, ``idle`` or ``total``)."""

    which: Literal["first", "idle", "total"]
    seconds: float

    def __init__(
        self,
        message: str,
        *,
        which: Literal["first", "idle", "total"],
        seconds: float,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.which = which
        self.seconds = seconds


class ParseError(StreamError):
    """Input that cannot be decoded: ``position`` (byte offset) and ``excerpt`` of it."""

    position: int | None
    excerpt: str

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        excerpt: str = "",
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.position = position
        self.excerpt = excerpt[:MAX_EXCERPT_CHARS]


class EventTooLarge(StreamError):
    """A single event (or line) grew past ``limit`` bytes; the stream was stopped."""

    limit: int

    def __init__(self, message: str, *, limit: int, attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.limit = limit


class ProviderError(StreamError):
    """The provider reported an error inside the stream (``{"error": ...}``).

    ``message`` is the provider's own message, ``type`` its error type (such as
    ``server_error`` or ``overloaded_error``) when it gave one.
    """

    type: str | None

    def __init__(self, message: str, *, type: str | None = None, attempts: int = 0) -> None:
        detail = f"{type}: {message}" if type else message
        super().__init__(
            f"The provider reported an error in the stream: {detail}", attempts=attempts
        )
        self.provider_message = message
        self.type = type

    @property
    def message(self) -> str:
        """The provider's own error message."""
        return self.provider_message


class BufferOverflow(StreamError):
    """A bounded sink queue filled up because the consumer fell behind the stream."""

    limit: int

    def __init__(self, message: str, *, limit: int, attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.limit = limit


class StreamExpired(StreamError):
    """The Redis stream ``key`` is gone (its TTL passed) or was never started: there is
    nothing to resume. Start the request again."""

    key: str

    def __init__(self, message: str, *, key: str = "", attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.key = key


class LeaseLost(StreamError):
    """A Redis producer found its lease (``key:lease``) held by another worker — it stalled
    for longer than the lease — and stopped writing, so only one producer writes ``key``."""

    key: str

    def __init__(self, message: str, *, key: str = "", attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.key = key
