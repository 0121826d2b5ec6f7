"""Where streams start: cold observables of ``bytes`` (or items), one request per subscription."""

from ._http import from_http
from ._memory import from_async_iterable, from_chunks, from_file

__all__ = ["from_async_iterable", "from_chunks", "from_file", "from_http"]
