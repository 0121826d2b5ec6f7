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


class _Channel(Generic[T]):
    """The bounded queue between a subscription and its consumer.

    Kept apart from :class:`iterate` so the subscription's callbacks reference only the
    channel: the iterator object stays collectable while the source is still running.
    """

    __slots__ = ("closed", "end", "max", "overflow", "queue", "subscription", "waiter")

    def __init__(self, max_buffer: int, overflow: Overflow) -> None:
        self.max = max_buffer
        self.overflow = overflow
        self.queue: deque[T] = deque()
        self.end: BaseException | None = None  # StopAsyncIteration or the stream's error
        self.waiter: asyncio.Future[None] | None = None
        self.subscription: abc.DisposableBase | None = None
        self.closed = False

    def start(self, source: Observable[T]) -> None:
        if self.subscription is not None:
            return
        loop = asyncio.get_running_loop()
        self.subscription = Disposable()  # a placeholder while subscribe runs
        self.subscription = source.subscribe(
            self.on_next, self.on_error, self.on_completed, scheduler=AsyncIOScheduler(loop)
        )
        if isinstance(self.end, BufferOverflow):
            self.dispose()  # overflowed during a synchronous subscribe

    def dispose(self) -> None:
        if self.subscription is not None:
            self.subscription.dispose()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_next(self, item: T) -> None:
        if self.end is not None or self.closed:
            return
        if len(self.queue) >= self.max:
            if self.overflow == "drop_oldest":
                self.queue.popleft()
            else:
                self.end = BufferOverflow(
                    f"The consumer fell {self.max} items behind the stream; it was stopped. "
                    "Consume faster, raise max_buffer, or use overflow='drop_oldest'.",
                    limit=self.max,
                )
                self.dispose()
                self.wake()
                return
        self.queue.append(item)
        self.wake()

    def on_error(self, error: Exception) -> None:
        if self.end is None:
            self.end = error
        self.wake()

    def on_completed(self) -> None:
        if self.end is None:
            self.end = StopAsyncIteration()
        self.wake()


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
        self._channel: _Channel[T] = _Channel(max_buffer, overflow)

    def __aiter__(self) -> iterate[T]:
        return self

    async def __aenter__(self) -> iterate[T]:
        self._channel.start(self._source)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def __anext__(self) -> T:
        channel = self._channel
        if channel.subscription is None and not channel.closed:
            channel.start(self._source)
        while not channel.queue:
            if channel.end is not None or channel.closed:
                channel.dispose()
                end = channel.end
                if end is None or isinstance(end, StopAsyncIteration):
                    raise StopAsyncIteration
                channel.end = StopAsyncIteration()  # raise the error once, then stop
                raise end
            channel.waiter = asyncio.get_running_loop().create_future()
            try:
                await channel.waiter
            except asyncio.CancelledError:
                channel.dispose()
                raise
            finally:
                channel.waiter = None
        return channel.queue.popleft()

    async def aclose(self) -> None:
        """Stop consuming: dispose the subscription and drop buffered items."""
        self._channel.closed = True
        self._channel.queue.clear()
        self._channel.dispose()

    def __del__(self) -> None:
        # `async for ... : break` leaves no other handle to clean up with: dispose here
        # so the connection closes as soon as the iterator is dropped.
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.dispose()
