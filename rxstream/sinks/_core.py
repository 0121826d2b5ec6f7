"""Sinks that turn an observable into something awaited: a list, an async iterator, a run."""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Final, Generic, Literal, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.scheduler.eventloop import AsyncIOScheduler

from ..errors import BufferOverflow
from ..typing import Sink

T = TypeVar("T")

DEFAULT_MAX_BUFFER: Final = 10_000
Overflow = Literal["error", "drop_oldest"]


async def collect(source: Observable[T]) -> list[T]:
    """Subscribe, wait for completion and return every item (raises the stream's error).

    Holds the whole stream in memory: for long streams consume with :func:`iterate` or
    :func:`run`. Cancelling the awaiting task disposes the subscription.
    """
    items: list[T] = []
    await _drive(source, items.append)
    return items


async def run(source: Observable[T], sink: Sink[T] | Callable[[T], Any]) -> None:
    """Feed every item to ``sink`` and return when the stream completes.

    ``sink`` is a :class:`~rxstream.typing.Sink` (awaited ``send`` per item, ``close``
    at the end), or a plain callable, sync or async, called per item. The stream's error
    is raised here; cancelling the awaiting task disposes the subscription (and
    closes the sink with the ``CancelledError``).
    """
    if not hasattr(sink, "send"):
        if inspect.iscoroutinefunction(sink) or inspect.iscoroutinefunction(
            getattr(sink, "__call__", None)  # noqa: B004 - an async __call__ counts
        ):
            await _run_async(source, sink)
        else:
            await _drive(source, sink)
        return
    typed: Sink[T] = sink  # type: ignore[assignment]
    error: BaseException | None = None
    try:
        async with iterate(source) as items:
            async for item in items:
                await typed.send(item)
    except BaseException as exc:
        error = exc
        raise
    finally:
        await typed.close(error)


async def _run_async(source: Observable[T], handler: Callable[[T], Awaitable[Any]]) -> None:
    async with iterate(source) as items:
        async for item in items:
            await handler(item)


async def _drive(source: Observable[T], on_item: Callable[[T], Any]) -> None:
    """Subscribe on the running loop and wait; ``on_item`` exceptions become the error."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def on_next(item: T) -> None:
        if done.done():
            return
        try:
            on_item(item)
        except Exception as error:
            done.set_exception(error)
            subscription.dispose()

    def on_error(error: Exception) -> None:
        if not done.done():
            done.set_exception(error)

    def on_completed() -> None:
        if not done.done():
            done.set_result(None)

    subscription: abc.DisposableBase = Disposable()
    subscription = source.subscribe(
        on_next, on_error, on_completed, scheduler=AsyncIOScheduler(loop)
    )
    try:
        await done
    finally:
        subscription.dispose()


class iterate(Generic[T]):  # lowercase: used like a function, `async for x in rs.iterate(obs)`
    """Consume an observable with ``async for``, through a bounded queue.

    Subscribes on first use. Breaking out of the loop, ``aclose()``, leaving
    ``async with``, or cancelling the consuming task disposes the subscription (which
    closes the HTTP connection). Rx has no backpressure, so the queue is bounded by
    ``max_buffer`` and ``overflow`` says what happens when the consumer falls behind:
    ``"error"`` (default) ends the iteration with ``BufferOverflow`` after the buffered
    items; ``"drop_oldest"`` discards the oldest buffered items (right for snapshots
    such as ``accumulate()``, where only the newest matters).

    Example::

        async with rs.iterate(stream) as items:
            async for item in items:
                ...
    """

    def __init__(
        self,
        source: Observable[T],
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        overflow: Overflow = "error",
    ) -> None:
        if max_buffer <= 0:
            raise ValueError("max_buffer must be positive")
        if overflow not in ("error", "drop_oldest"):
            raise ValueError("overflow must be 'error' or 'drop_oldest'")
        self._source = source
        self._max = max_buffer
        self._overflow = overflow
        self._queue: deque[T] = deque()
        self._end: BaseException | None = None  # StopAsyncIteration or the stream's error
        self._waiter: asyncio.Future[None] | None = None
        self._subscription: abc.DisposableBase | None = None
        self._closed = False

    def __aiter__(self) -> iterate[T]:
        return self

    async def __aenter__(self) -> iterate[T]:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def __anext__(self) -> T:
        if self._subscription is None and not self._closed:
            self._start()
        while not self._queue:
            if self._end is not None or self._closed:
                self._dispose()
                end = self._end
                if end is None or isinstance(end, StopAsyncIteration):
                    raise StopAsyncIteration
                self._end = StopAsyncIteration()  # raise the error once, then stop
                raise end
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            except asyncio.CancelledError:
                self._dispose()
                raise
            finally:
                self._waiter = None
        return self._queue.popleft()

    async def aclose(self) -> None:
        """Stop consuming: dispose the subscription and drop buffered items."""
        self._closed = True
        self._queue.clear()
        self._dispose()

    def __del__(self) -> None:
        # `async for ... : break` leaves no other handle to clean up with: dispose here
        # so the connection closes as soon as the iterator is dropped.
        self._dispose()

    def _start(self) -> None:
        if self._subscription is not None:
            return
        loop = asyncio.get_running_loop()
        self._subscription = Disposable()  # a placeholder while subscribe runs
        self._subscription = self._source.subscribe(
            self._on_next, self._on_error, self._on_completed, scheduler=AsyncIOScheduler(loop)
        )
        if isinstance(self._end, BufferOverflow):
            self._dispose()  # overflowed during a synchronous subscribe

    def _dispose(self) -> None:
        subscription = self._subscription
        if subscription is not None:
            subscription.dispose()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_next(self, item: T) -> None:
        if self._end is not None or self._closed:
            return
        if len(self._queue) >= self._max:
            if self._overflow == "drop_oldest":
                self._queue.popleft()
            else:
                self._end = BufferOverflow(
                    f"The consumer fell {self._max} items behind the stream; it was stopped. "
                    "Consume faster, raise max_buffer, or use overflow='drop_oldest'.",
                    limit=self._max,
                )
                self._dispose()
                self._wake()
                return
        self._queue.append(item)
        self._wake()

    def _on_error(self, error: Exception) -> None:
        if self._end is None:
            self._end = error
        self._wake()

    def _on_completed(self) -> None:
        if self._end is None:
            self._end = StopAsyncIteration()
        self._wake()
