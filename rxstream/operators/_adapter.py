"""Wrap pure decoders (``rxstream._decoders``) as reactivex operators, fused.

Each Rx hop costs about a microsecond per item, more than the decoding itself. So
adjacent decoder-based operators (``parse_sse() → sse_json() → openai_chat() → text()``)
fuse into a single subscription that runs the decoders as one chain. Fusion keeps the
unfused semantics exactly: items flow depth-first in order; a decoder that turns
``done`` stops the stages before it and completes the ones after it (which flush); a
decoder error stops everything before it and reaches the later stages as an upstream
error (the failing stage and the later ones may annotate it, e.g. with the partial text
so far; later stages holding text flush it first).

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
from .._ending import completing
from .._observable import DirectObservable, subscribe_directly
from .._tap import current_tap

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


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a chain stopped: ``stage`` raised ``error``, or turned ``done`` (no error)."""

    stage: int
    error: Exception | None


class DecodedObservable(Observable[B]):
    """An observable running a chain of decoders over ``source`` in one subscription."""

    def __init__(self, source: Observable[Any], stages: Sequence[Stage]) -> None:
        self._upstream = source
        self._stages = tuple(stages)
        super().__init__(self._subscribe_chain)

    def subscribe(
        self,
        on_next: abc.ObserverBase[B] | abc.OnNext[B] | None = None,
        on_error: abc.OnError | None = None,
        on_completed: abc.OnCompleted | None = None,
        *,
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        """As ``Observable.subscribe``; straight through (no trampoline) when the upstream
        is one of rxstream's task sources, which never emit inside ``subscribe``."""
        if isinstance(self._upstream, DirectObservable):
            return subscribe_directly(self, on_next, on_error, on_completed, scheduler=scheduler)
        return super().subscribe(on_next, on_error, on_completed, scheduler=scheduler)

    def _subscribe_chain(
        self, observer: abc.ObserverBase[B], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        stages = self._stages
        decoders = [stage.factory() for stage in stages]
        feeds = [decoder.feed for decoder in decoders]
        count = len(decoders)
        emit = observer.on_next
        tap = current_tap.get()  # set by telemetry around this subscription, else None
        upstream = SingleAssignmentDisposable()
        stopped = False

        def flow(start: int, items: list[Any]) -> _Stop | None:
            """Run ``items`` through stages ``start``… and emit what comes out.

            Stage by stage rather than item by item (one call level less per item),
            with the same outcome: outputs keep their order, and when a stage stops
            (error or done) the outputs it made before still flow on; a stop further
            down on those outputs wins, as it would have happened first item by item.
            """
            for index in range(start, count):
                feed = feeds[index]
                decoder = decoders[index]
                produced: list[Any] = []
                stop: _Stop | None = None
                for item in items:
                    try:
                        produced += feed(item)
                    except Exception as error:
                        stop = _Stop(index, error)
                        break
                    if decoder.done:
                        stop = _Stop(index, None)
                        break
                if stop is not None:
                    return flow(index + 1, produced) or stop
                if not produced:
                    return None
                items = produced
            if tap is not None:
                tap(items)
            for item in items:
                emit(item)
            return None

        def settle(stop: _Stop | None) -> None:
            if stop is None:
                return
            if stop.error is not None:
                fail_from(stop.stage, stop.error)
            else:
                complete_from(stop.stage + 1)

        def fail_from(stage: int, error: Exception) -> None:
            """``stage`` failed (-1: upstream did): later stages get the error."""
            nonlocal stopped
            if stopped:
                return
            stopped = True
            upstream.dispose()
            if stage >= 0:
                error = decoders[stage].annotate(error)  # e.g. its partial text so far
            for index in range(stage + 1, count):
                if stages[index].flush_on_error:
                    try:
                        held = decoders[index].flush()
                    except Exception:
                        held = []  # the error already on its way is the one to report
                    flow(index + 1, held)  # a later stop here changes nothing: error wins
                error = decoders[index].annotate(error)
            observer.on_error(error)

        def complete_from(stage: int) -> None:
            """The input of ``stage`` (and so of every later stage) ended normally."""
            nonlocal stopped
            if stopped:
                return
            stopped = True
            with completing():  # the transport may keep its connection for reuse
                upstream.dispose()
            for index in range(stage, count):
                try:
                    held = decoders[index].flush()
                except Exception as error:
                    stopped = False
                    fail_from(index, error)
                    return
                stop = flow(index + 1, held)
                if stop is not None:
                    stopped = False
                    settle(stop)
                    return
                on_end = stages[index].on_end
                if on_end is not None:
                    on_end(decoders[index])
            observer.on_completed()

        first_feed, first = feeds[0], decoders[0]

        def on_next(item: Any) -> None:
            # flow(0, [item]) inlined for the first stage: most network reads complete no
            # event (a piece of a line), and then this is all the work there is.
            if stopped:
                return
            try:
                produced = first_feed(item)
            except Exception as error:
                fail_from(0, error)
                return
            if first.done:
                settle(flow(1, produced) or _Stop(0, None))
            elif produced:
                settle(flow(1, produced))

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
