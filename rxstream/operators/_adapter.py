"""Wrap pure decoders (``rxstream._decoders``) as reactivex operators, fused.

Each Rx hop costs about a microsecond per item, more than the decoding itself. So
adjacent decoder-based operators (``parse_sse() → sse_json() → openai_chat() → text()``)
fuse into a single subscription that runs the decoders as one chain. Fusion keeps the
unfused semantics exactly: items flow depth-first in order; a decoder that turns
``done`` stops the stages before it and completes the ones after it (which flush); a
decoder error stops everything before it and reaches the later stages as an upstream
error (which they may annotate, or flush before if they hold text).

A stage may also *absorb* the stage before it when the pair has an exactly equivalent,
cheaper form (``openai_chat`` reads SSE events itself, so it needs no ``sse_json``
before it; ``text`` after ``openai_chat`` asks it for strings instead of deltas).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from .._decoders import Decoder

A = TypeVar("A")
B = TypeVar("B")
D = TypeVar("D", bound=Decoder)  # type: ignore[type-arg]


@dataclass(frozen=True, slots=True)
class Stage:
    """One decoder in a fused chain.

    ``name`` identifies it to a following stage's ``absorb``, which may return one stage
    equivalent to the previous stage followed by itself (or ``None``).
    """

    factory: Callable[[], Decoder[Any, Any]]
    on_end: Callable[[Any], None] | None = None
    flush_on_error: bool = False
    name: str = ""
    absorb: Callable[[Stage], Stage | None] | None = None


class _Failed(Exception):
    """A decoder raised: carries the stage index and the error, to unwind the chain."""

    def __init__(self, stage: int, error: Exception) -> None:
        self.stage = stage
        self.error = error


class _Done(Exception):
    """A decoder reached the end of its input (e.g. ``[DONE]``)."""

    def __init__(self, stage: int) -> None:
        self.stage = stage


class DecodedObservable(Observable[B]):
    """An observable running a chain of decoders over ``source`` in one subscription."""

    def __init__(self, source: Observable[Any], stages: Sequence[Stage]) -> None:
        self._upstream = source
        self._stages = tuple(stages)
        super().__init__(self._subscribe_chain)

    def _subscribe_chain(
        self, observer: abc.ObserverBase[B], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        stages = self._stages
        decoders = [stage.factory() for stage in stages]
        count = len(decoders)
        upstream = SingleAssignmentDisposable()
        stopped = False

        def stage_handler(index: int, after: Callable[[Any], None]) -> Callable[[Any], None]:
            decoder = decoders[index]
            feed = decoder.feed

            def handle(item: Any) -> None:
                try:
                    outputs = feed(item)
                except Exception as error:
                    raise _Failed(index, error) from None
                for output in outputs:
                    after(output)
                if decoder.done:
                    raise _Done(index)

            return handle

        # handlers[i] feeds stage i; handlers[count] is the downstream observer.
        handlers: list[Callable[[Any], None]] = [observer.on_next]
        for index in reversed(range(count)):
            handlers.insert(0, stage_handler(index, handlers[0]))

        def fail_from(stage: int, error: Exception) -> None:
            """``stage`` failed (-1: upstream did): later stages get the error."""
            nonlocal stopped
            if stopped:
                return
            stopped = True
            upstream.dispose()
            for index in range(stage + 1, count):
                if stages[index].flush_on_error:
                    try:
                        held = decoders[index].flush()
                    except Exception:
                        held = []  # the error already on its way is the one to report
                    for value in held:
                        try:
                            handlers[index + 1](value)
                        except (_Failed, _Done):
                            break
                error = decoders[index].annotate(error)
            observer.on_error(error)

        def complete_from(stage: int) -> None:
            """The input of ``stage`` (and so of every later stage) ended normally."""
            nonlocal stopped
            if stopped:
                return
            stopped = True
            upstream.dispose()
            for index in range(stage, count):
                try:
                    held = decoders[index].flush()
                except Exception as error:
                    stopped = False
                    fail_from(index, error)
                    return
                try:
                    for value in held:
                        handlers[index + 1](value)
                except _Failed as failed:
                    stopped = False
                    fail_from(failed.stage, failed.error)
                    return
                except _Done as done:
                    stopped = False
                    complete_from(done.stage + 1)
                    return
                on_end = stages[index].on_end
                if on_end is not None:
                    on_end(decoders[index])
            observer.on_completed()

        head = handlers[0]

        def on_next(item: Any) -> None:
            if stopped:
                return
            try:
                head(item)
            except _Failed as failed:
                fail_from(failed.stage, failed.error)
            except _Done as done:
                complete_from(done.stage + 1)

        upstream.disposable = self._upstream.subscribe(
            on_next,
            lambda error: fail_from(-1, error),
            lambda: complete_from(0),
            scheduler=scheduler,
        )
        return upstream


def decoding(
    factory: Callable[[], D],
    *,
    on_end: Callable[[D], None] | None = None,
    flush_on_error: bool = False,
    name: str = "",
    absorb: Callable[[Stage], Stage | None] | None = None,
) -> Callable[[Observable[A]], Observable[B]]:
    """An operator that runs a fresh decoder per subscription.

    Decoder exceptions become ``on_error`` and stop the upstream subscription; a decoder
    that turns ``done`` completes downstream and stops reading upstream; ``on_end`` sees
    the decoder when the input completes normally (used for diagnostics). With
    ``flush_on_error`` (text shaping), what the decoder holds is emitted before an
    upstream error is forwarded, so no text is lost. Applied to the output of another
    such operator, it fuses with it into one subscription.
    """
    stage = Stage(factory, on_end, flush_on_error, name, absorb)

    def operator(source: Observable[A]) -> Observable[B]:
        if isinstance(source, DecodedObservable):
            *earlier, previous = source._stages
            merged = absorb(previous) if absorb is not None else None
            if merged is not None:
                return DecodedObservable(source._upstream, (*earlier, merged))
            return DecodedObservable(source._upstream, (*source._stages, stage))
        return DecodedObservable(source, (stage,))

    return operator
