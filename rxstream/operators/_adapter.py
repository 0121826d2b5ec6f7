"""Wrap a pure decoder (``rxstream._decoders``) as a reactivex operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from reactivex import Observable, abc
from reactivex.disposable import SingleAssignmentDisposable

from .._decoders import Decoder

A = TypeVar("A")
B = TypeVar("B")
D = TypeVar("D", bound=Decoder)  # type: ignore[type-arg]


def decoding(
    factory: Callable[[], D],
    *,
    on_end: Callable[[D], None] | None = None,
    flush_on_error: bool = False,
) -> Callable[[Observable[A]], Observable[B]]:
    """An operator that runs a fresh decoder per subscription.

    Decoder exceptions become ``on_error`` and stop the upstream subscription; a decoder
    that turns ``done`` completes downstream and stops reading upstream; ``on_end`` sees
    the decoder when the input completes normally (used for diagnostics). With
    ``flush_on_error`` (text shaping), what the decoder holds is emitted before an
    upstream error is forwarded, so no text is lost.
    """

    def operator(source: Observable[A]) -> Observable[B]:
        def subscribe(
            observer: abc.ObserverBase[B], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            decoder = factory()
            upstream = SingleAssignmentDisposable()
            stopped = False
            emit = observer.on_next

            def fail(error: Exception) -> None:
                nonlocal stopped
                stopped = True
                upstream.dispose()
                observer.on_error(error)

            def on_next(item: A) -> None:
                nonlocal stopped
                if stopped:
                    return
                try:
                    out = decoder.feed(item)
                except Exception as error:
                    fail(error)
                    return
                for value in out:
                    emit(value)
                if decoder.done and not stopped:
                    stopped = True
                    upstream.dispose()
                    observer.on_completed()

            def on_error(error: Exception) -> None:
                nonlocal stopped
                if stopped:
                    return
                stopped = True
                if flush_on_error:
                    try:
                        held = decoder.flush()
                    except Exception:
                        held = []  # the upstream error is the one to report
                    for value in held:
                        emit(value)
                observer.on_error(decoder.annotate(error))

            def on_completed() -> None:
                nonlocal stopped
                if stopped:
                    return
                try:
                    out = decoder.flush()
                except Exception as error:
                    fail(error)
                    return
                for value in out:
                    emit(value)
                stopped = True
                if on_end is not None:
                    on_end(decoder)
                observer.on_completed()

            upstream.disposable = source.subscribe(
                on_next, on_error, on_completed, scheduler=scheduler
            )
            return upstream

        return Observable(subscribe)

    return operator
