"""Text shaping: sentences, words and lines; buffering, throttling, debouncing, smoothing.

All take ``str`` fragments (put ``ops.text()`` before them). All flush what they hold
on completion and before forwarding an error, so no text is ever lost. Timed operators
take ``scheduler=`` (else the subscribe scheduler, else the running loop), so tests can
drive them in virtual time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, Literal

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SerialDisposable

from .._decoders.sentences import Language, SentenceSplitter
from .._decoders.text import LineSplitter, WordSplitter
from .._scheduling import resolve
from ..typing import Operator
from ._adapter import decoding


def sentences(
    *,
    min_chars: int = 0,
    max_chars: int | None = None,
    language: Language | None = None,
    abbreviations: Iterable[str] = (),
) -> Operator[str, str]:
    """Split streamed text into complete sentences, each emitted as soon as it is certain.

    A sentence goes out while handling the fragment that brings the first character of
    the next one (or its line break); where that character cannot decide it (``U.S.``
    at the end of the text so far), it waits only for the next word. Needs no language:
    the abbreviations of 13 languages (en, es, de, fr, it, pt, nl, ru, zh, ja, ko, hi,
    ar) apply together and every script's stops (``。``, ``।``, ``؟`` …) always do.
    Handles titles and abbreviations, initials, German ordinals, decimals/versions/IPs,
    ellipses, closing quotes and brackets (``« … »``, ``「…」と``), emoji after the
    stop, ``?!`` runs, URLs, e-mails and file names, list markers, markdown headings and
    bullets (line breaks end sentences), fenced code blocks (kept whole) and Spanish
    ``¿…?``/``¡…!``. Sentences are stripped: concatenating the output gives the input
    without the whitespace between sentences.

    Args:
        min_chars: Merge sentences shorter than this into the next one.
        max_chars: Force a break in run-on text at the best point (clause punctuation,
            then whitespace). Without it a sentence is still capped at 65,536 chars.
        language: Narrow the abbreviation lists to one language (``"en"``, ``"es"``,
            ``"de"``, ``"fr"``, ``"it"``, ``"pt"``, ``"nl"``, ``"ru"``, ``"zh"``, ``"ja"``,
            ``"ko"``, ``"hi"``, ``"ar"``); by default all apply together.
        abbreviations: Extra abbreviations (e.g. ``["approx", "Corp"]``).

    ::

        --"Hi Dr. Sm"--"ith. How"--" are you?"--|
        [              sentences()             ]
        --------------"Hi Dr. Smith."--------"How are you?"|
    """
    options: dict[str, Any] = {
        "min_chars": min_chars,
        "max_chars": max_chars,
        "language": language,
        "abbreviations": tuple(abbreviations),
    }
    SentenceSplitter(**options)  # validate now, at pipe() time
    return decoding(lambda: SentenceSplitter(**options), flush_on_error=True)


def words() -> Operator[str, str]:
    """Re-chunk text into whole words, each with the whitespace before it.

    Concatenating the output restores the input exactly.

    ::

        --"Hel"--"lo wor"--"ld"--|
        [        words()         ]
        ---------"Hello"---------(" world"|)
    """
    return decoding(WordSplitter, flush_on_error=True)


def lines() -> Operator[str, str]:
    """Re-chunk text into whole lines, each ending with its ``\\n`` (the last maybe not).

    ::

        --"a\\nb"--"c\\n"--"d"--|
        [        lines()        ]
        --"a\\n"---"bc\\n"------("d"|)
    """
    return decoding(LineSplitter, flush_on_error=True)


def buffer_text(
    *,
    max_chars: int | None = None,
    max_delay: float | None = None,
    scheduler: abc.SchedulerBase | None = None,
) -> Operator[str, str]:
    """Concatenate fragments; emit once ``max_chars`` are held or ``max_delay`` seconds
    have passed since the first held fragment, whichever comes first.

    ::

        --a--b--c---------d--|      max_chars=3 (one char each), max_delay=5
        [   buffer_text()    ]
        --------"abc"-------("d"|)
    """
    if max_chars is None and max_delay is None:
        raise ValueError("buffer_text needs max_chars, max_delay, or both")
    if max_chars is not None and max_chars < 1:
        raise ValueError("max_chars must be >= 1")
    if max_delay is not None and max_delay <= 0:
        raise ValueError("max_delay must be > 0")

    def make(state: _Timed) -> Callable[[str], None]:
        def on_next(fragment: str) -> None:
            if not fragment:
                return
            if not state.held and state.clock is not None and max_delay is not None:
                state.timer.disposable = state.clock.schedule_relative(max_delay, state.release)
            state.held.add(fragment)
            if max_chars is not None and state.held.size >= max_chars:
                state.release()

        return on_next

    return _timed_text(scheduler, make, needs_clock=max_delay is not None)


def throttle_text(
    interval: float, *, scheduler: abc.SchedulerBase | None = None
) -> Operator[str, str]:
    """Coalesce fragments for UI refresh: at most one emission per ``interval`` seconds.

    The first fragment goes out at once (time to first token does not suffer); what
    arrives during the following ``interval`` goes out together at its end; the rest
    goes out immediately on completion.

    ::

        --a-b-c-------d----|      interval=5
        [  throttle_text(5)  ]
        --a----(bc)---d----|
    """
    if interval <= 0:
        raise ValueError("interval must be > 0")

    def make(state: _Timed) -> Callable[[str], None]:
        clock = state.require_clock()
        open_window = False

        def close_window(*_: Any) -> None:
            nonlocal open_window
            if state.held:
                state.observer.on_next(state.held.take())
                state.timer.disposable = clock.schedule_relative(interval, close_window)
            else:
                open_window = False

        def on_next(fragment: str) -> None:
            nonlocal open_window
            if not fragment:
                return
            if open_window:
                state.held.add(fragment)
                return
            open_window = True
            state.observer.on_next(fragment)
            state.timer.disposable = clock.schedule_relative(interval, close_window)

        return on_next

    return _timed_text(scheduler, make)


def debounce_text(
    quiet: float, *, scheduler: abc.SchedulerBase | None = None
) -> Operator[str, str]:
    """Emit the concatenated text once no fragment arrived for ``quiet`` seconds.

    ::

        --a-b-----------c--|      quiet=5
        [  debounce_text(5) ]
        -------"ab"--------("c"|)
    """
    if quiet <= 0:
        raise ValueError("quiet must be > 0")

    def make(state: _Timed) -> Callable[[str], None]:
        clock = state.require_clock()

        def on_next(fragment: str) -> None:
            if not fragment:
                return
            state.held.add(fragment)
            state.timer.disposable = clock.schedule_relative(quiet, state.release)

        return on_next

    return _timed_text(scheduler, make)


def smooth(
    *,
    chars_per_second: float | None = None,
    chunking: Literal["word", "char"] = "word",
    max_lag: float = 1.0,
    scheduler: abc.SchedulerBase | None = None,
) -> Operator[str, str]:
    """Pace bursty text into an even stream, for a typing effect.

    Text is cut into words (with their leading whitespace) or characters and released
    one unit at a time at ``chars_per_second`` — or, when ``None``, at the rate text has
    been arriving. The pace rises whenever needed so that text is shown at most
    ``max_lag`` seconds after it arrived (a burst is spread evenly over that time); on
    completion (or error) everything held goes out at once. When idle, a new unit goes
    out immediately. An unfinished word waits for its end (or for completion).

    ::

        --"one two three four"----------|   (a burst)
        [ smooth(chars_per_second=4) ]
        --"one"--" two"--" three"--" four"|
    """
    if chars_per_second is not None and chars_per_second <= 0:
        raise ValueError("chars_per_second must be > 0")
    if chunking not in ("word", "char"):
        raise ValueError("chunking must be 'word' or 'char'")
    if max_lag <= 0:
        raise ValueError("max_lag must be > 0")

    def operator(source: Observable[str]) -> Observable[str]:
        def subscribe(
            observer: abc.ObserverBase[str], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = resolve(scheduler, subscribe_scheduler)
            timer = SerialDisposable()
            splitter = WordSplitter() if chunking == "word" else None
            units: deque[str] = deque()
            queued = 0
            received = 0
            started: float | None = None
            deadline = 0.0  # the newest text must be shown by then (arrival + max_lag)
            busy = False

            def now() -> float:
                return clock.now.timestamp()

            def pace(at: float) -> float:
                """Chars per second: the base rate, or faster to meet the deadline."""
                observed = (
                    received / (at - started) if started is not None and at > started else 0.0
                )
                base = chars_per_second if chars_per_second is not None else observed
                return max(base, queued / max(deadline - at, 1e-3), 1.0)

            def pump(*_: Any) -> None:
                nonlocal busy, queued
                if not units:
                    busy = False
                    timer.disposable = None
                    return
                at = now()
                if at >= deadline:
                    # Behind schedule: show everything held now rather than lag further.
                    unit = "".join(units)
                    units.clear()
                else:
                    unit = units.popleft()
                queued -= len(unit)
                busy = True
                observer.on_next(unit)
                timer.disposable = clock.schedule_relative(len(unit) / pace(at), pump)

            def on_next(fragment: str) -> None:
                nonlocal queued, received, started, deadline
                if not fragment:
                    return
                at = now()
                if started is None:
                    started = at
                received += len(fragment)
                deadline = at + max_lag
                pieces = splitter.feed(fragment) if splitter is not None else list(fragment)
                units.extend(pieces)
                queued += sum(map(len, pieces))
                if not busy:
                    pump()

            def release() -> None:
                nonlocal queued
                timer.disposable = None
                rest = "".join(units) + ("".join(splitter.flush()) if splitter else "")
                units.clear()
                queued = 0
                if rest:
                    observer.on_next(rest)

            return CompositeDisposable(
                source.subscribe(
                    on_next, *_flushing(observer, release), scheduler=subscribe_scheduler
                ),
                timer,
            )

        return Observable(subscribe)

    return operator


class _Timed:
    """Per-subscription state of a timed text operator: its clock, one timer, held text."""

    __slots__ = ("clock", "held", "observer", "timer")

    def __init__(self, observer: abc.ObserverBase[str], clock: abc.SchedulerBase | None) -> None:
        self.observer = observer
        self.clock = clock
        self.timer = SerialDisposable()
        self.held = _Held()

    def require_clock(self) -> abc.SchedulerBase:
        assert self.clock is not None
        return self.clock

    def release(self, *_: Any) -> None:
        """Cancel the timer and emit what is held."""
        self.timer.disposable = None
        if self.held:
            self.observer.on_next(self.held.take())


def _timed_text(
    scheduler: abc.SchedulerBase | None,
    make: Callable[[_Timed], Callable[[str], None]],
    *,
    needs_clock: bool = True,
) -> Operator[str, str]:
    """The scaffold shared by buffer_text, throttle_text and debounce_text: ``make``
    builds the ``on_next``; completion and errors release what is held first."""

    def operator(source: Observable[str]) -> Observable[str]:
        def subscribe(
            observer: abc.ObserverBase[str], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = resolve(scheduler, subscribe_scheduler) if needs_clock else None
            state = _Timed(observer, clock)
            on_next = make(state)
            return CompositeDisposable(
                source.subscribe(
                    on_next, *_flushing(observer, state.release), scheduler=subscribe_scheduler
                ),
                state.timer,
            )

        return Observable(subscribe)

    return operator


class _Held:
    """Fragments held back, joined once on release (no quadratic concatenation)."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self.parts)

    def add(self, fragment: str) -> None:
        self.parts.append(fragment)
        self.size += len(fragment)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts.clear()
        self.size = 0
        return text


def _flushing(
    observer: abc.ObserverBase[str], release: Callable[[], None]
) -> tuple[Callable[[Exception], None], Callable[[], None]]:
    """``on_error``/``on_completed`` handlers that emit what is held before ending."""

    def on_error(error: Exception) -> None:
        release()
        observer.on_error(error)

    def on_completed() -> None:
        release()
        observer.on_completed()

    return on_error, on_completed


__all__ = [
    "buffer_text",
    "debounce_text",
    "lines",
    "sentences",
    "smooth",
    "throttle_text",
    "words",
]
