"""Where streams end: awaited results, async iteration, and destinations for ``rs.run``."""

from ._console import ConsoleSink, MarkdownConsoleSink, console
from ._core import collect, iterate, run
from ._live import LiveStream, LiveStreams
from ._openai import openai_sse
from ._recording import RecordingSink, to_recording
from ._sse import encode_event, event_name, sse_response

__all__ = [
    "ConsoleSink",
    "LiveStream",
    "LiveStreams",
    "MarkdownConsoleSink",
    "RecordingSink",
    "collect",
    "console",
    "encode_event",
    "event_name",
    "iterate",
    "openai_sse",
    "run",
    "sse_response",
    "to_recording",
    "to_redis_stream",
]


def __getattr__(name: str) -> object:
    # to_redis_stream lives with the rest of the Redis support (the optional extra)
    if name == "to_redis_stream":
        from .._redis import to_redis_stream

        return to_redis_stream
    raise AttributeError(name)
