"""Pure, incremental, I/O-free decoders: ``feed(item) -> list``, ``flush() -> list``.

Nothing here imports reactivex or does I/O, so every decoder can be driven by hand,
by a property test, or by the thin operator adapters in ``rxstream.operators``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


class Decoder(Generic[In, Out]):
    """Protocol-like base for incremental decoders.

    ``done`` turns true when the input itself said it is over (an SSE ``[DONE]``
    sentinel): the adapter then completes downstream and stops reading upstream.
    """

    __slots__ = ()
    done: bool = False

    def feed(self, item: In) -> list[Out]:  # pragma: no cover - abstract
        """Consume one input item and return the outputs it completes."""
        raise NotImplementedError

    def flush(self) -> list[Out]:
        """The input ended: return what is still held, or raise if it was incomplete."""
        return []

    def annotate(self, error: Exception) -> Exception:
        """Enrich an upstream error with what this decoder knows (e.g. partial text)."""
        return error


class PartialFeed(Exception):
    """Raised by ``feed`` when one input item produced ``outputs`` before ``error``.

    A decoder that runs two stages in one (``SSEDataFeed``) raises it so the outputs
    made before the failure are still delivered, then the error — as the two stages
    apart would have done.
    """

    def __init__(self, outputs: list[Any], error: Exception) -> None:
        super().__init__(error)
        self.outputs = outputs
        self.error = error
