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
before it; ``text`` after ``openai_chat`` asks it for strings instead of deltas). At
the first subscription, ``parse_sse`` followed by a stage that takes an event's data as
a string (``Stage.sse_data``: ``openai_chat``) is planned as one ``SSEDataFeed``
decoder, so plain ``data:`` events never become ``SSEEvent`` objects; a combined
decoder that fails part-way through one input raises ``PartialFeed``, and what it made
before the failure is delivered first, as the two stages apart would.

A chain keeps the observer contract itself — nothing reaches its subscriber after a
dispose (not even the rest of a batch being emitted) and at most one terminal
notification — so over a task source it is subscribed directly, without reactivex's
per-item ``AutoDetachObserver`` (``rxstream._observable``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from .._decoders import Decoder, PartialFeed
from .._decoders.sse import SSEDataFeed, SSEDataReader, SSEDecoder
from .._ending import completing
from .._observable import is_direct, subscribe_directly
from .._tap import current_tap

A = TypeVar("A")
B = TypeVar("B")
D = TypeVar("D", bound=Decoder)  # type: ignore[type-arg]


@dataclass(frozen=True, slots=True)
class Stage:
    """One decoder in a fused chain.

    ``name`` identifies it to a following stage's ``absorb``, which may return one stage
    equivalent to the previous stage followed by itself (or ``None``). ``parse_sse``'s
    stage is named ``"parse_sse"``.
    """

    factory: Callable[[], Decoder[Any, Any]]
    on_end: Callable[[Any], None] | None = None
    flush_on_error: bool = False
    name: str = ""
    absorb: Callable[[Stage], Stage | None] | None = None
    sse_data: bool = False  # its decoder also takes a message event's data (feed_sse_data)


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a chain stopped: ``stage`` raised ``error``, or turned ``done`` (no error)."""

    stage: int
    error: Exception | None


class DecodedObservable(Observable[B]):
    """An observable running a chain of decoders over ``source`` in one subscription."""

    def __init__(self, source: Observable[Any], stages: Sequence[Stage]) -> None:
        super().__init__()  # no subscribe function: _subscribe_core is overridden
        self._upstream = source
        self._stages = tuple(stages)  # as composed: what a further operator absorbs
        self._plan: tuple[Stage, ...] | None = None  # as run: made at first subscription

    def subscribe(
        self,
        on_next: abc.ObserverBase[B] | abc.OnNext[B] | None = None,
        on_error: abc.OnError | None = None,
        on_completed: abc.OnCompleted | None = None,
        *,
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        """As ``Observable.subscribe``; directly (no trampoline, no wrapper per item) when
        the upstream is one of rxstream's task sources, which never emit inside
        ``subscribe``."""
        if self.keeps_contract:
            return subscribe_directly(self, on_next, on_error, on_completed, scheduler=scheduler)
        return super().subscribe(on_next, on_error, on_completed, scheduler=scheduler)

    @property
    def keeps_contract(self) -> bool:
        """Over a source that keeps the observer contract, a chain keeps it too."""
        return is_direct(self._upstream)

    def _subscribe_core(
        self, observer: abc.ObserverBase[B], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        plan = self._plan
        if plan is None:
            plan = self._plan = _planned(self._stages)
        chain = _Chain(plan, observer)
        chain.upstream.disposable = self._upstream.subscribe(
            chain.on_next, chain.on_error, chain.on_completed, scheduler=scheduler
        )
        return chain


def _planned(stages: tuple[Stage, ...]) -> tuple[Stage, ...]:
    """``stages`` as they run: ``parse_sse`` and an ``sse_data`` stage after it in one."""
    planned: list[Stage] = []
    for stage in stages:
        if planned and planned[-1].name == "parse_sse" and stage.sse_data:
            planned[-1] = _sse_data_stage(planned[-1], stage)
        else:
            planned.append(stage)
    return tuple(planned)


def _sse_data_stage(parse: Stage, reader: Stage) -> Stage:
    def factory() -> Decoder[Any, Any]:
        sse = cast(SSEDecoder, parse.factory())
        return SSEDataFeed(sse, cast(SSEDataReader, reader.factory()))

    reader_end = reader.on_end
    on_end = None if reader_end is None else (lambda fed: reader_end(fed.consumer))
    return Stage(factory, on_end, reader.flush_on_error, name=f"parse_sse+{reader.name}")


def _ignore(_: Any) -> None:
    pass


class _Chain(abc.DisposableBase):
    """One subscription of a fused chain: the decoders, and the subscription upstream.

    It is its own disposable. At its terminal notification or dispose it lets go of its
    subscriber and its upstream subscription, so a finished request leaves no reference
    cycle behind: everything it allocated is freed at once, without the garbage
    collector (closures calling each other, as this was written first, made about sixty
    objects of cyclic garbage per request — most of a request's cost in collections).
    """

    __slots__ = (
        "_decoders",
        "_disposed",
        "_emit",
        "_feeds",
        "_first",
        "_first_feed",
        "_observer",
        "_stages",
        "_stopped",
        "_tap",
        "upstream",
    )

    def __init__(self, stages: tuple[Stage, ...], observer: abc.ObserverBase[Any]) -> None:
        self._stages = stages
        self._decoders = decoders = [stage.factory() for stage in stages]
        self._feeds = [decoder.feed for decoder in decoders]
        self._first, self._first_feed = decoders[0], self._feeds[0]  # read per network read
        self._observer: abc.ObserverBase[Any] | None = observer
        self._emit: Callable[[Any], None] = observer.on_next
        self._tap = current_tap.get()  # set by telemetry around this subscription, else None
        self.upstream = SingleAssignmentDisposable()
        self._stopped = False  # a terminal notification is decided (flushed items may follow)
        self._disposed = False  # the subscriber left: nothing more reaches it

    def on_next(self, item: Any) -> None:
        # flow(0, [item]) inlined for the first stage: most network reads complete no
        # event (a piece of a line), and then this is all the work there is.
        if self._stopped:
            return
        try:
            produced = self._first_feed(item)
        except PartialFeed as partial:
            self._settle(self._flow(1, partial.outputs) or _Stop(0, partial.error))
            return
        except Exception as error:
            self._fail_from(0, error)
            return
        if self._first.done:
            self._settle(self._flow(1, produced) or _Stop(0, None))
        elif produced:
            self._settle(self._flow(1, produced))

    def on_error(self, error: Exception) -> None:
        self._fail_from(-1, error)

    def on_completed(self) -> None:
        self._complete_from(0)

    def dispose(self) -> None:
        """The subscriber leaves: stop reading upstream; nothing more reaches it."""
        self._stopped = self._disposed = True
        self._release()
        self.upstream.dispose()

    def _release(self) -> None:
        self._observer = None
        self._emit = _ignore

    def _flow(self, start: int, items: list[Any]) -> _Stop | None:
        """Run ``items`` through stages ``start``… and emit what comes out.

        Stage by stage rather than item by item (one call level less per item), with
        the same outcome: outputs keep their order, and when a stage stops (error or
        done) the outputs it made before still flow on; a stop further down on those
        outputs wins, as it would have happened first item by item.
        """
        feeds, decoders = self._feeds, self._decoders
        for index in range(start, len(feeds)):
            feed = feeds[index]
            decoder = decoders[index]
            produced: list[Any] = []
            stop: _Stop | None = None
            for item in items:
                try:
                    produced += feed(item)
                except PartialFeed as partial:
                    produced += partial.outputs
                    stop = _Stop(index, partial.error)
                    break
                except Exception as error:
                    stop = _Stop(index, error)
                    break
                if decoder.done:
                    stop = _Stop(index, None)
                    break
            if stop is not None:
                return self._flow(index + 1, produced) or stop
            if not produced:
                return None
            items = produced
        if self._tap is not None:
            self._tap(items)
        emit = self._emit
        for item in items:
            if self._disposed:  # the subscriber left while handling an earlier item
                return None
            emit(item)
        return None

    def _settle(self, stop: _Stop | None) -> None:
        if stop is None:
            return
        if stop.error is not None:
            self._fail_from(stop.stage, stop.error)
        else:
            self._complete_from(stop.stage + 1)

    def _fail_from(self, stage: int, error: Exception) -> None:
        """``stage`` failed (-1: upstream did): later stages get the error."""
        if self._stopped:
            return
        self._stopped = True
        self.upstream.dispose()
        stages, decoders = self._stages, self._decoders
        if stage >= 0:
            error = decoders[stage].annotate(error)  # e.g. its partial text so far
        for index in range(stage + 1, len(decoders)):
            if stages[index].flush_on_error:
                try:
                    held = decoders[index].flush()
                except Exception:
                    held = []  # the error already on its way is the one to report
                self._flow(index + 1, held)  # a later stop here changes nothing: error wins
            error = decoders[index].annotate(error)
        observer = self._observer
        if observer is not None:  # None: notified already, or the subscriber left
            self._release()
            observer.on_error(error)

    def _complete_from(self, stage: int) -> None:
        """The input of ``stage`` (and so of every later stage) ended normally."""
        if self._stopped:
            return
        self._stopped = True
        with completing():  # the transport may keep its connection for reuse
            self.upstream.dispose()
        stages, decoders = self._stages, self._decoders
        for index in range(stage, len(decoders)):
            try:
                held = decoders[index].flush()
            except Exception as error:
                self._stopped = False
                self._fail_from(index, error)
                return
            stop = self._flow(index + 1, held)
            if stop is not None:
                self._stopped = False
                self._settle(stop)
                return
            on_end = stages[index].on_end
            if on_end is not None:
                on_end(decoders[index])
        observer = self._observer
        if observer is not None:  # None: notified already, or the subscriber left
            self._release()
            observer.on_completed()


def decoding(
    factory: Callable[[], D],
    *,
    on_end: Callable[[D], None] | None = None,
    flush_on_error: bool = False,
    name: str = "",
    absorb: Callable[[Stage], Stage | None] | None = None,
    sse_data: bool = False,
) -> Callable[[Observable[A]], Observable[B]]:
    """An operator that runs a fresh decoder per subscription.

    Decoder exceptions become ``on_error`` and stop the upstream subscription; a decoder
    that turns ``done`` completes downstream and stops reading upstream; ``on_end`` sees
    the decoder when the input completes normally (used for diagnostics). With
    ``flush_on_error`` (text shaping), what the decoder holds is emitted before an
    upstream error is forwarded, so no text is lost. Applied to the output of another
    such operator, it fuses with it into one subscription (``name``, ``absorb`` and
    ``sse_data``: see ``Stage``).
    """
    stage = Stage(factory, on_end, flush_on_error, name, absorb, sse_data)

    def operator(source: Observable[A]) -> Observable[B]:
        if isinstance(source, DecodedObservable):
            *earlier, previous = source._stages
            merged = absorb(previous) if absorb is not None else None
            if merged is not None:
                return DecodedObservable(source._upstream, (*earlier, merged))
            return DecodedObservable(source._upstream, (*source._stages, stage))
        return DecodedObservable(source, (stage,))

    return operator
