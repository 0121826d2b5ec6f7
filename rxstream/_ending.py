"""How a decoder chain tells the transport that it stops reading because the stream is
over (``[DONE]``, ``message_stop``), not because the consumer gave up.

Disposal runs synchronously down the chain, so a context variable set around the
chain's ``upstream.dispose()`` is visible to ``from_http``'s dispose handler: it then
reads the few bytes left of the body (the chunked terminator) and returns the
connection to the pool instead of closing it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

stream_complete: ContextVar[bool] = ContextVar("rxstream_stream_complete", default=False)


@contextmanager
def completing() -> Iterator[None]:
    """Mark disposals inside the block as "the stream is complete"."""
    token = stream_complete.set(True)
    try:
        yield
    finally:
        stream_complete.reset(token)


stream_stopped: ContextVar[bool] = ContextVar("rxstream_stream_stopped", default=False)
"""True while a Stop (``LiveStream.stop``, ``rs.stop``) disposes a stream, so what ends
with it can tell a Stop from a consumer that went away (telemetry records it)."""


@contextmanager
def stopping() -> Iterator[None]:
    """Mark disposals inside the block as a Stop."""
    token = stream_stopped.set(True)
    try:
        yield
    finally:
        stream_stopped.reset(token)
