"""Public type aliases and protocols for annotating pipelines and sinks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeAlias, TypeVar

from reactivex import Observable

A = TypeVar("A")
B = TypeVar("B")
T_contra = TypeVar("T_contra", contravariant=True)

__all__ = ["Operator", "Sink"]

Operator: TypeAlias = Callable[[Observable[A]], Observable[B]]
"""What every rxstream operator returns: a function from one observable to another."""


class Sink(Protocol[T_contra]):
    """A destination that ``rs.run(observable, sink)`` feeds item by item.

    ``send`` is awaited for each item in order; ``close`` once at the end with ``None``
    on completion or the exception that ended the stream (including cancellation).
    """

    async def send(self, item: T_contra) -> None:
        """Deliver one item."""

    async def close(self, error: BaseException | None) -> None:
        """The stream ended: finish up (write a trailer, flush, release resources)."""
