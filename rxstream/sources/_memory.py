"""Sources over data already at hand: chunks, files, async iterables."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from typing import Any, TypeVar

import msgspec
import reactivex
from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, Disposable, SerialDisposable

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


def from_recording(
    path: str | os.PathLike[str],
    *,
    speed: float | None = 1.0,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[Any]:
    """Replay a recording made with ``sinks.to_recording``: same chunks, same timing.

    ``speed`` scales time (2.0 = twice as fast); ``None`` replays as fast as possible.
    Timing runs on ``scheduler`` (virtual time in tests) or the running loop. A recorded
    error ends the replay with an error of the same rxstream class where it can be
    rebuilt (otherwise a ``StreamError`` naming it): a production incident becomes a
    regression test.
    """
    if speed is not None and speed <= 0:
        raise ValueError("speed must be > 0 (or None for as fast as possible)")
    file_path = os.fspath(path)

    def subscribe(
        observer: abc.ObserverBase[Any], subscribe_scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        try:
            records = _read_recording(file_path)
        except (OSError, ValueError) as error:
            observer.on_error(error)
            return Disposable()
        if speed is None:
            for record in records:
                if not _replay(record, observer):
                    break
            return Disposable()
        clock = resolve(scheduler, subscribe_scheduler)
        pending = SerialDisposable()
        position = 0
        previous = 0.0

        def step(_: abc.SchedulerBase, __: Any = None) -> None:
            nonlocal position, previous
            while position < len(records):
                record = records[position]
                due = float(record.get("t", previous))
                if due > previous:
                    wait, previous = (due - previous) / speed, due
                    pending.disposable = clock.schedule_relative(wait, step)
                    return
                position += 1
                if not _replay(record, observer):
                    return

        pending.disposable = clock.schedule(step)
        return pending

    return Observable(subscribe)


def _read_recording(path: str) -> list[dict[str, Any]]:
    records = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = msgspec.json.decode(line)
            except msgspec.DecodeError:
                raise ValueError(f"{path}:{number}: not a recording line") from None
            if number == 1 and "format" in record:
                continue
            records.append(record)
    return records


def _replay(record: dict[str, Any], observer: abc.ObserverBase[Any]) -> bool:
    """Deliver one record; False once the recording has ended."""
    if "b" in record:
        observer.on_next(base64.b64decode(record["b"]))
    elif "s" in record:
        observer.on_next(record["s"])
    elif record.get("end") == "error":
        observer.on_error(_recorded_error(record))
        return False
    elif "end" in record:
        observer.on_completed()
        return False
    return True


def _recorded_error(record: dict[str, Any]) -> Exception:
    from .. import errors

    name = str(record.get("error") or "StreamError")
    message = str(record.get("message") or f"recorded {name}")
    kind = getattr(errors, name, None)
    if isinstance(kind, type) and issubclass(kind, errors.StreamError):
        try:
            return kind(message)
        except TypeError:
            pass  # needs more than a message (e.g. a status): keep the name in the text
    return errors.StreamError(f"{name}: {message}")
