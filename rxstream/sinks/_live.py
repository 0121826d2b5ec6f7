"""Live streams that outlive a connection: one upstream, many SSE clients, resume by id."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, Literal

from reactivex import Observable, abc
from reactivex.disposable import Disposable
from reactivex.scheduler.eventloop import AsyncIOScheduler

from .._ending import stopping
from .._log import get_logger
from ..errors import StreamInterrupted, StreamStopped
from ..models import TextDelta

log = get_logger(__name__)

Outcome = Literal["running", "completed", "failed", "stopped"]


class LiveStream:
    """Runs ``source`` once and lets any number of subscribers join, from any event id.

    Every item gets an increasing integer id and is kept in a replay buffer of the last
    ``replay`` items, so a client that reconnects with ``Last-Event-ID`` continues with
    no gap and no duplicate. A subscriber leaving does not stop the upstream (a browser
    may be reconnecting); ``stop()`` does, and so does ``linger`` seconds with nobody
    subscribed. After a stop every subscriber — and anyone who joins later, after the
    items still in the buffer — gets ``StreamStopped`` with the text delivered so far.
    Resuming after an id that has left the buffer is a ``StreamInterrupted`` error,
    never a silent gap.
    """

    def __init__(
        self, source: Observable[Any], *, replay: int = 1024, linger: float = 30.0
    ) -> None:
        if replay < 1:
            raise ValueError("replay must be >= 1")
        self._source = source
        self._buffer: deque[tuple[int, Any]] = deque(maxlen=replay)
        self._next_id = 1
        self._subscribers: set[abc.ObserverBase[tuple[int, Any]]] = set()
        self._upstream: abc.DisposableBase | None = None
        self._linger = linger
        self._linger_handle: asyncio.TimerHandle | None = None
        self._text: list[str] = []  # choice 0's text, for StreamStopped.partial_text
        self.outcome: Outcome = "running"
        self.error: Exception | None = None
        self.finished = asyncio.Event()

    @property
    def last_id(self) -> int:
        """The id of the newest item (0 before any)."""
        return self._next_id - 1

    def start(self) -> LiveStream:
        """Subscribe to the upstream (on the running loop); returns ``self``."""
        if self._upstream is None:
            loop = asyncio.get_running_loop()
            self._upstream = Disposable()
            self._upstream = self._source.subscribe(
                self._on_next, self._on_error, self._on_completed, scheduler=AsyncIOScheduler(loop)
            )
            self._arm_linger()
        return self

    def stop(self) -> None:
        """Cancel the upstream now (``outcome == "stopped"``); subscribers get
        ``StreamStopped`` carrying the text delivered so far."""
        if self.outcome != "running":
            return
        if self._upstream is not None:
            with stopping():
                self._upstream.dispose()
        log.info("live_stream_stopped", items=self.last_id)
        text = "".join(self._text)
        self.error = StreamStopped(
            f"The stream was stopped after {self.last_id} items ({len(text)} characters "
            "of text, on partial_text).",
            partial_text=text,
            events=self.last_id,
        )
        self._finish("stopped")
        for observer in list(self._subscribers):
            observer.on_error(self.error)

    def observe(self, after: int | str | None = None) -> Observable[tuple[int, Any]]:
        """``(id, item)`` pairs after ``after`` (an id, e.g. ``Last-Event-ID``), then live."""
        start_after = _parse_id(after)

        def subscribe(
            observer: abc.ObserverBase[tuple[int, Any]], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            oldest = self._buffer[0][0] if self._buffer else self._next_id
            if start_after + 1 < oldest:
                observer.on_error(
                    StreamInterrupted(
                        f"Cannot resume after event {start_after}: the replay buffer starts at "
                        f"{oldest}. Start the request again.",
                        last_event_id=str(start_after),
                    )
                )
                return Disposable()
            for pair in list(self._buffer):
                if pair[0] > start_after:
                    observer.on_next(pair)
            if self.outcome == "running":
                self._subscribers.add(observer)
                self._cancel_linger()
            elif self.error is not None:  # failed or stopped
                observer.on_error(self.error)
            else:
                observer.on_completed()

            def leave() -> None:
                self._subscribers.discard(observer)
                if not self._subscribers:
                    self._arm_linger()

            return Disposable(leave)

        return Observable(subscribe)

    def _on_next(self, item: Any) -> None:
        if type(item) is str:
            self._text.append(item)
        elif type(item) is TextDelta and item.choice == 0:
            self._text.append(item.text)
        pair = (self._next_id, item)
        self._next_id += 1
        self._buffer.append(pair)
        for observer in list(self._subscribers):
            observer.on_next(pair)

    def _on_error(self, error: Exception) -> None:
        self.error = error
        self._finish("failed")
        for observer in list(self._subscribers):
            observer.on_error(error)

    def _on_completed(self) -> None:
        self._finish("completed")
        for observer in list(self._subscribers):
            observer.on_completed()

    def _finish(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self._cancel_linger()
        self.finished.set()

    def _arm_linger(self) -> None:
        if self.outcome != "running" or self._subscribers:
            return
        self._cancel_linger()
        self._linger_handle = asyncio.get_running_loop().call_later(self._linger, self._abandon)

    def _cancel_linger(self) -> None:
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None

    def _abandon(self) -> None:
        log.info("live_stream_abandoned", linger=self._linger, items=self.last_id)
        self.stop()


def _parse_id(value: int | str | None) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if text.isdigit() else 0


class LiveStreams:
    """A registry of ``LiveStream`` by key (e.g. one per chat answer), for web handlers.

    Finished streams stay for ``keep`` seconds so late reconnects still get the end.
    """

    def __init__(self, *, replay: int = 1024, linger: float = 30.0, keep: float = 60.0) -> None:
        self._streams: dict[str, LiveStream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._replay = replay
        self._linger = linger
        self._keep = keep

    def start(self, key: str, source: Observable[Any]) -> LiveStream:
        """Start ``source`` under ``key`` (replacing a finished stream of that key)."""
        current = self._streams.get(key)
        if current is not None and current.outcome == "running":
            raise ValueError(f"a live stream {key!r} is already running")
        stream = LiveStream(source, replay=self._replay, linger=self._linger).start()
        self._streams[key] = stream
        task = asyncio.get_running_loop().create_task(self._forget_later(key, stream))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return stream

    def get(self, key: str) -> LiveStream | None:
        """The stream under ``key``, if any."""
        return self._streams.get(key)

    def stop(self, key: str) -> bool:
        """Stop the stream under ``key``; false if there is none running."""
        stream = self._streams.get(key)
        if stream is None or stream.outcome != "running":
            return False
        stream.stop()
        return True

    async def close(self) -> None:
        """Stop every running stream and forget them all (application shutdown)."""
        for stream in self._streams.values():
            stream.stop()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._streams.clear()

    async def _forget_later(self, key: str, stream: LiveStream) -> None:
        await stream.finished.wait()
        await asyncio.sleep(self._keep)
        if self._streams.get(key) is stream:
            del self._streams[key]
