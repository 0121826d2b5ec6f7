"""Where streams end: awaited results, async iteration, and destinations for ``rs.run``."""

from ._console import ConsoleSink, console
from ._core import collect, iterate, run

__all__ = ["ConsoleSink", "collect", "console", "iterate", "run"]
