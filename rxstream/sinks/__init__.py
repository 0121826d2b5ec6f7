"""Where streams end: awaited results, async iteration, and destinations for ``rs.run``."""

from ._console import ConsoleSink, console
from ._core import collect, iterate, run
from ._live import LiveStream, LiveStreams
from ._recording import RecordingSink, to_recording
from ._sse import encode_event, event_name, sse_response

__all__ = [
    "ConsoleSink",
    "LiveStream",
    "LiveStreams",
    "RecordingSink",
    "collect",
    "console",
    "encode_event",
    "event_name",
    "iterate",
    "run",
    "sse_response",
    "to_recording",
]
