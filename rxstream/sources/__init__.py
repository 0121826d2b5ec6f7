"""Where streams start: cold observables of ``bytes`` (or items), one request per subscription."""

from ._chat import chat
from ._http import from_http
from ._memory import from_async_iterable, from_chunks, from_file, from_recording

__all__ = [
    "chat",
    "from_async_iterable",
    "from_chunks",
    "from_file",
    "from_http",
    "from_recording",
]
