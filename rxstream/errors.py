"""The exceptions rxstream raises, all rooted at :class:`StreamError`.

Every error reaches the subscriber through ``on_error`` (or is raised by the awaiting
sink), says what happened and what to do about it, and never carries a credential::

    StreamError                      attempts, partial_text, events, last_event_id
    ├── ConnectError                 refused, host name not resolved, TLS, connect timeout
    ├── HTTPStatusError              non-2xx answer: status, headers, body; message/type/code
    │   └── RateLimitError           429, with retry_after
    ├── StreamInterrupted            the connection was lost or the body ended early
    ├── StreamTimeout                a first/idle/total deadline passed
    ├── ParseError                   malformed bytes or JSON: position, excerpt
    ├── EventTooLarge                one event exceeded max_event_bytes / max_line_bytes
    ├── ProviderError                the provider reported an error inside the stream
    ├── StreamStopped                a Stop ended the stream (not a failure; never retried)
    ├── SchemaError                  a JSON value does not fit the requested type: path, message
    ├── CircuitOpen                  a circuit breaker refused the request: retry_after
    ├── BufferOverflow               a bounded sink queue filled up (consumer too slow)
    ├── StreamExpired                a Redis stream expired (or never existed) before it was read
    └── LeaseLost                    a Redis producer found its lease taken and stopped writing

Whatever ends a stream keeps its own type: under ``ops.retry`` a failure after output is
the same ``StreamTimeout``/``ProviderError``/``ParseError``/``StreamInterrupted`` it would
be without retries, and every error carries the partial answer delivered so far
(``partial_text``, ``events``, ``last_event_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "BufferOverflow",
    "CircuitOpen",
    "ConnectError",
    "EventTooLarge",
    "HTTPStatusError",
    "LeaseLost",
    "ParseError",
    "ProviderError",
    "RateLimitError",
    "SchemaError",
    "StreamError",
    "StreamInterrupted",
    "StreamExpired",
    "StreamStopped",
    "StreamTimeout",
]

MAX_EXCERPT_CHARS = 200
"""How much of the offending input a :class:`ParseError` quotes."""


class StreamError(Exception):
    """Base class of every rxstream error.

    ``attempts`` is the number of HTTP requests made before this error was raised
    (``0`` for errors that did not come from a request, such as parsing recorded data).
    What had been delivered when the stream ended is on every error: ``partial_text``
    (the text of choice 0, ``""`` before any output), ``events`` (items delivered) and
    ``last_event_id`` (the SSE id to resume after, ``None`` if the server sent none).
    """

    attempts: int
    partial_text: str
    events: int
    last_event_id: str | None

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        partial_text: str = "",
        events: int = 0,
        last_event_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.partial_text = partial_text
        self.events = events
        self.last_event_id = last_event_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConnectError(StreamError):
    """The connection could not be established: refused, host name not resolved, TLS
    certificate not trusted, or no connection within the connect timeout. The message
    names ``host:port``.

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
    ``retry_after`` the server's delay hint in seconds, if it sent one. ``message``,
    ``type`` and ``code`` are the provider's own, parsed from its JSON error body
    (OpenAI, Anthropic, Gemini and Ollama shapes), or ``None`` when it sent none;
    ``str(error)`` is the whole readable message.
    """

    status: int
    headers: CIMultiDictProxy[str]
    body: str
    retry_after: float | None
    message: str | None
    type: str | None
    code: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: str = "",
        retry_after: float | None = None,
        provider_message: str | None = None,
        type: str | None = None,
        code: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(message, attempts=attempts)
        self.status = status
        self.headers = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.body = body
        self.retry_after = retry_after
        self.message = provider_message
        self.type = type
        self.code = code


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
        provider_message: str | None = None,
        type: str | None = None,
        code: str | None = None,
        attempts: int = 0,
    ) -> None:
        super().__init__(
            message,
            status=status,
            headers=headers,
            body=body,
            retry_after=retry_after,
            provider_message=provider_message,
            type=type,
            code=code,
            attempts=attempts,
        )


class StreamInterrupted(StreamError):
    """The connection was lost, or the body ended, before the stream was complete.

    Carries what was received so far (``partial_text``, ``events``, ``last_event_id``,
    as every ``StreamError``) and ``reconnect_delay`` (the server's SSE ``retry:`` hint
    in seconds, if any).
    """

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
        super().__init__(
            message,
            attempts=attempts,
            partial_text=partial_text,
            events=events,
            last_event_id=last_event_id,
        )
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

    message: str
    type: str | None

    def __init__(self, message: str, *, type: str | None = None, attempts: int = 0) -> None:
        detail = f"{type}: {message}" if type else message
        super().__init__(
            f"The provider reported an error in the stream: {detail}", attempts=attempts
        )
        self.message = message
        self.type = type


class StreamStopped(StreamError):
    """A Stop ended the stream (``LiveStream.stop()``, ``rs.stop(client, key)``).

    Not a failure and not a finished answer: readers other than the one that stopped
    get this, with what had been delivered in ``partial_text``. Never retried.
    """


class SchemaError(StreamError):
    """A JSON value from the stream does not fit the requested type (or has no array where
    ``json_items`` looks). ``path`` locates it from the root (``$.items[3].price``);
    ``message`` says what was expected. Values before it were delivered."""

    path: str
    message: str

    def __init__(self, message: str, *, path: str = "$", attempts: int = 0) -> None:
        super().__init__(f"{message} (at {path})", attempts=attempts)
        self.path = path
        self.message = message


class CircuitOpen(StreamError):
    """A circuit breaker is open after repeated failures: no request was made.
    ``retry_after`` is the number of seconds until it lets a trial request through."""

    retry_after: float

    def __init__(self, message: str, *, retry_after: float = 0.0, attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.retry_after = retry_after


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
