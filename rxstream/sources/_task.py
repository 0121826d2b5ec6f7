"""Loop-native cold sources: one asyncio task per subscription, cancelled on dispose."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from .._observable import DirectObservable
from .._scheduling import running_loop
from ..errors import StreamError

T = TypeVar("T")

# asyncio keeps only weak references to tasks: hold them until they finish, so a
# subscription whose disposable the caller dropped is not garbage-collected mid-read.
_RUNNING: set[asyncio.Task[None]] = set()
_TASK_PREFIX = "rxstream:"


class Emitter(Generic[T]):
    """What a source body uses to emit items and to learn about disposal."""

    __slots__ = ("_closers", "_emitting", "_ends_itself", "_observer", "disposed")

    def __init__(self, observer: abc.ObserverBase[T]) -> None:
        self._observer = observer
        self._closers: list[Callable[[], None]] = []
        self._emitting = False
        self._ends_itself = False
        self.disposed = False

    def emit(self, item: T) -> None:
        """Send one item downstream (dropped once the subscription is disposed)."""
        if not self.disposed:
            self._emitting = True
            try:
                self._observer.on_next(item)
            finally:
                self._emitting = False

    def end_after_emit(self) -> bool:
        """For a closer: if the body is inside ``emit`` (the dispose came from downstream
        while handling this item), let it end by itself once ``emit`` returns — it must
        then check ``disposed`` — instead of being cancelled. Returns whether it will."""
        if self._emitting:
            self._ends_itself = True
        return self._ends_itself

    def on_dispose(self, closer: Callable[[], None]) -> Callable[[], None]:
        """Run ``closer`` synchronously at dispose (e.g. close a socket at once)."""
        self._closers.append(closer)
        return lambda: self._closers.remove(closer) if closer in self._closers else None

    def _dispose(self) -> None:
        self.disposed = True
        closers, self._closers = self._closers, []
        for closer in closers:
            closer()


def task_source(body: Callable[[Emitter[T]], Awaitable[None]], *, name: str) -> Observable[T]:
    """An observable that runs ``body`` in a new task for each subscription.

    The body's normal return completes the stream and an exception errors it; disposing
    runs the registered closers, then cancels the task. After dispose nothing reaches
    the subscriber.
    """

    def subscribe(
        observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        try:
            loop = running_loop(name)
        except RuntimeError as error:
            observer.on_error(error)
            return Disposable()
        emitter = Emitter(observer)

        async def main() -> None:
            try:
                await body(emitter)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if isinstance(error, StreamError):
                    # rxstream's errors explain themselves; dropping the internal frames
                    # keeps request locals (headers with keys) out of logged tracebacks.
                    error.__traceback__ = None
                if not emitter.disposed:
                    observer.on_error(error)
                return
            finally:
                _RUNNING.discard(task)
            if not emitter.disposed:
                observer.on_completed()

        task = loop.create_task(main(), name=_TASK_PREFIX + name)
        # Dropped when the body ends or at dispose (a cancelled task stays referenced by
        # the loop until it has run): a done callback would cost a loop turn per request.
        _RUNNING.add(task)

        def dispose() -> None:
            if emitter.disposed:
                return
            emitter._dispose()
            if not emitter._ends_itself:
                task.cancel()
                _RUNNING.discard(task)

        return Disposable(dispose)

    return DirectObservable(subscribe)


def pending_tasks() -> list[asyncio.Task[Any]]:
    """The running loop's rxstream source tasks that have not finished yet, cancelled
    ones still to run included (for leak checks in tests)."""
    return [task for task in asyncio.all_tasks() if task.get_name().startswith(_TASK_PREFIX)]
