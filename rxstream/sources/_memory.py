"""Sources over data already at hand: chunks, files, async iterables."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from typing import Any, TypeVar

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SerialDisposable

from .._scheduling import resolve
from ._task import Emitter, task_source

T = TypeVar("T")


def from_chunks(
    chunks: Iterable[bytes | str],
    *,
    interval: float | None = None,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[bytes]:
    """Emit recorded chunks as ``bytes`` (``str`` chunks are UTF-8 encoded).

    Without ``interval`` the chunks are emitted at once on subscription; with it, the
    first at once and each next one ``interval`` seconds later, on ``scheduler`` (or the
    subscribe scheduler, or the running loop), so tests can use virtual time. Each
    subscription iterates ``chunks`` afresh: pass a list, not a one-shot generator, if
    you subscribe more than once.

    ::

        from_chunks([a, b, c], interval=1)
        a-----b-----c|
    """
    if interval is not None and interval < 0:
        raise ValueError("interval must be >= 0")
    if interval is None:
        return reactivex.from_iterable(_BytesChunks(chunks), scheduler=scheduler)

    period = interval

    def subscribe(
        observer: abc.ObserverBase[bytes], subscribe_scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        clock = resolve(scheduler, subscribe_scheduler)
        iterator = iter(_BytesChunks(chunks))
        pending = SerialDisposable()

        def step(_: abc.SchedulerBase, __: Any = None) -> None:
            try:
                chunk = next(iterator)
            except StopIteration:
                observer.on_completed()
                return
            except Exception as error:
                observer.on_error(error)
                return
            observer.on_next(chunk)
            pending.disposable = clock.schedule_relative(period, step)

        pending.disposable = clock.schedule(step)
        return CompositeDisposable(pending)

    return Observable(subscribe)


class _BytesChunks:
    """``chunks`` as bytes, iterable afresh by every subscription."""

    __slots__ = ("_all_bytes", "_chunks")

    def __init__(self, chunks: Iterable[bytes | str]) -> None:
        self._chunks = chunks
        # A list of bytes (the usual recording) is handed over as it is: no per-chunk step.
        self._all_bytes = isinstance(chunks, list | tuple) and all(
            type(chunk) is bytes for chunk in chunks
        )

    def __iter__(self) -> Iterator[bytes]:
        if self._all_bytes:
            return iter(self._chunks)  # type: ignore[arg-type]
        return (c.encode() if isinstance(c, str) else c for c in self._chunks)


def from_file(path: str | os.PathLike[str], *, chunk_size: int = 65536) -> Observable[bytes]:
    """Read a file (a saved SSE/NDJSON body, say) as ``bytes`` chunks of ``chunk_size``.

    Reads run in a worker thread so a slow disk or a FIFO never blocks the loop; the
    file is opened per subscription and closed at the end or on dispose.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    file_path = os.fspath(path)

    async def body(out: Emitter[bytes]) -> None:
        handle = await asyncio.to_thread(open, file_path, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, chunk_size):
                out.emit(chunk)
        finally:
            handle.close()

    return task_source(body, name="from_file")


def from_async_iterable(
    source: AsyncIterable[T] | Callable[[], AsyncIterable[T]],
) -> Observable[T]:
    """Emit what an async iterable yields, e.g. the openai SDK's ``AsyncStream``.

    Pass a zero-argument factory to get a fresh iterable per subscription (needed for
    retries and repeated subscriptions); a plain iterable can be consumed only once.
    Disposing cancels the iteration and closes the iterator (``aclose()``).
    """

    async def body(out: Emitter[T]) -> None:
        iterable = source() if callable(source) else source
        iterator = aiter(iterable)
        try:
            async for item in iterator:
                out.emit(item)
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()

    return task_source(body, name="from_async_iterable")
