"""Library logging: structlog when the application configured it, stdlib logging if not.

structlog's defaults print every level to stdout, which is right for an application and
wrong for a library inside someone else's program (debug lines mixed into its output).
So each event goes to structlog only once ``structlog.is_configured()``; before that it
goes to the standard ``logging`` logger of the same name (``rxstream.…``), which, like
any library's, is silent below WARNING until the application sets logging up. The
decision is made per event, so configuring structlog later takes effect at once.

structlog's lazy proxy assembles a new bound logger (and a new ``PrintLogger``) on every
call, which cost about 4 µs per event even when the level filter then drops it: four
debug events per request were most of what logging cost a warm request. So the
assembled logger is kept and assembled again only when the configuration it was built
from changes (or ``sys.stdout``, which structlog's default logger writes to).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

__all__ = ["get_logger"]

_FALLBACK_PROCESSORS: list[Any] = [
    structlog.stdlib.filter_by_level,  # cheap exit before any rendering
    structlog.processors.format_exc_info,
    structlog.processors.KeyValueRenderer(key_order=["event"], sort_keys=True),
]


class LibraryLogger:
    """A logger with structlog's level methods that picks its backend per event."""

    __slots__ = ("_built_from", "_configured", "_level_source", "_stdlib", "_structlog")

    def __init__(self, name: str) -> None:
        self._structlog: Any = structlog.get_logger(name)
        self._configured: Any = None  # the structlog logger assembled from _built_from
        self._built_from: tuple[Any, ...] = ()
        self._level_source = logging.getLogger(name)
        self._stdlib: Any = structlog.wrap_logger(
            self._level_source,
            processors=_FALLBACK_PROCESSORS,
            wrapper_class=structlog.stdlib.BoundLogger,
        )

    def _log(self, level: int, method: str, event: str, context: dict[str, Any]) -> None:
        if structlog.is_configured():
            getattr(self._configured_logger(), method)(event, **context)
        elif self._level_source.isEnabledFor(level):
            # checked first: building the wrapped stdlib call costs more than the
            # request it reports on, and most applications log rxstream at WARNING
            getattr(self._stdlib, method)(event, **context)

    def _configured_logger(self) -> Any:
        config = structlog.get_config()
        processors, wrapper = config["processors"], config["wrapper_class"]
        context_class, factory = config["context_class"], config["logger_factory"]
        stdout = sys.stdout
        built = self._built_from
        if not (
            built
            and built[0] is processors
            and built[1] is wrapper
            and built[2] is context_class
            and built[3] is factory
            and built[4] is stdout
        ):
            self._configured = self._structlog.bind()
            self._built_from = (processors, wrapper, context_class, factory, stdout)
        return self._configured

    def debug(self, event: str, **context: Any) -> None:
        """Log ``event`` at debug level with key/value ``context``."""
        self._log(logging.DEBUG, "debug", event, context)

    def info(self, event: str, **context: Any) -> None:
        """Log ``event`` at info level with key/value ``context``."""
        self._log(logging.INFO, "info", event, context)

    def warning(self, event: str, **context: Any) -> None:
        """Log ``event`` at warning level with key/value ``context``."""
        self._log(logging.WARNING, "warning", event, context)

    def error(self, event: str, **context: Any) -> None:
        """Log ``event`` at error level with key/value ``context``."""
        self._log(logging.ERROR, "error", event, context)


def get_logger(name: str) -> LibraryLogger:
    """The logger of module ``name`` (use ``__name__``)."""
    return LibraryLogger(name)
