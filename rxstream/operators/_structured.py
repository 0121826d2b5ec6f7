"""Structured output: JSON that streams — partial values, array items, typed results,
tool-call arguments as they arrive."""

from __future__ import annotations

import math
from typing import Any

from reactivex import Observable, abc
from reactivex.disposable import CompositeDisposable, SerialDisposable

from .._clock import seconds
from .._convert import converter
from .._decoders.partial_json import (
    DEFAULT_MAX_CHARS,
    JSONItemsDecoder,
    JSONResultDecoder,
    PartialJSONDecoder,
    PartialToolCallsDecoder,
)
from .._scheduling import resolve
from ..models import ToolCallProgress
from ..typing import Operator
from ._adapter import decoding


def partial_json(
    *,
    partial_strings: bool = True,
    interval: float | None = None,
    scheduler: abc.SchedulerBase | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> Operator[Any, Any]:
    """Text fragments (``str``, or ``TextDelta`` of choice 0) → the JSON value so far.

    One snapshot per fragment that changed the value, the complete value last. Every
    snapshot is consistent with the final value: keys in order, lists as prefixes, an
    open string as its prefix (whole strings only with ``partial_strings=False``), and
    numbers, ``true``/``false``/``null`` only once complete. A snapshot is the *live*
    value, updated in place by later fragments, so each costs the fragment and not the
    document: treat it as read-only and valid until the next one (``copy.deepcopy`` or
    ``msgspec.json.encode`` it to keep it). ``interval`` emits at most one snapshot per
    ``interval`` seconds (the latest; the final value always). A leading ```` ```json ````
    fence and whitespace are accepted; other non-JSON is ``ParseError`` (with
    ``position`` in characters), a document cut short is ``ParseError`` after the
    snapshots so far, one over ``max_chars`` characters is ``EventTooLarge``.

    ::

        --'{"a": [1'--', 2'--']}'--|
        [        partial_json()       ]
        --{a: []}-----{a: [1]}--{a: [1, 2]}--|
    """
    _check_max_chars(max_chars)
    if interval is not None and not (math.isfinite(interval) and interval > 0):
        raise ValueError("interval must be a positive number of seconds (or None)")
    parse: Operator[Any, Any] = decoding(
        lambda: PartialJSONDecoder(partial_strings=partial_strings, max_chars=max_chars)
    )
    if interval is None:
        return parse
    latest = _latest_per_interval(interval, scheduler)
    return lambda source: latest(parse(source))


def json_items(
    path: str = "", *, type: Any = None, max_chars: int = DEFAULT_MAX_CHARS
) -> Operator[Any, Any]:
    """Text fragments → each element of the array at ``path``, the moment it closes.

    ``path`` is ``""`` for a top-level array or keys from the root (``"data.items"``).
    An element is emitted when its closing ``}``/``]``/``"`` arrives (a number or
    literal: its delimiter), converted into ``type`` when given (what
    ``msgspec.convert`` accepts, or a pydantic model). Elements are not kept once
    emitted, so memory stays at one element. A document with no array at ``path`` ends
    with ``SchemaError``; an element that does not fit ``type`` is ``SchemaError`` with
    its path (``$.data.items[3].price``), after the elements before it.

    ::

        --'[{"n": 1}, {"n"'--': 2}]'--|
        [          json_items()          ]
        --{n: 1}------------{n: 2}----|
    """
    _check_max_chars(max_chars)
    keys = tuple(path.split(".")) if path else ()
    if any(not key for key in keys):
        raise ValueError(f"path is keys separated by dots, got {path!r}")
    convert = converter(type)
    return decoding(lambda: JSONItemsDecoder(keys, convert, max_chars=max_chars))


def json_result(type: Any = None, *, max_chars: int = DEFAULT_MAX_CHARS) -> Operator[Any, Any]:
    """Text fragments → the one complete JSON value, converted into ``type``.

    Emitted when the input completes, so trailing garbage is an error, never a value
    followed by an error. ``type`` is what ``msgspec.convert`` accepts or a pydantic
    model; a mismatch is ``SchemaError`` with its path from the root.

    ::

        --'{"a":'--' 1}'--|
        [  json_result() ]
        ------------------({a: 1})|
    """
    _check_max_chars(max_chars)
    convert = converter(type)
    return decoding(lambda: JSONResultDecoder(convert, max_chars=max_chars))


def partial_tool_calls() -> Operator[Any, ToolCallProgress]:
    """Deltas → ``ToolCallProgress(index, id, name, arguments, done)`` as tool calls stream.

    From every provider: OpenAI argument fragments by index, Anthropic
    ``input_json_delta``, Responses ``function_call_arguments.delta``; Ollama and Gemini
    send whole calls, which arrive done at once. ``arguments`` is the partial JSON value
    (``None`` before the first ``{``, live as in ``partial_json``); exactly one
    ``done=True`` per call comes last, with the complete arguments. Arguments cut short
    by the end of the stream are ``ParseError``.

    ::

        --call(0, "f", '{"c')--call(0, '": 1}')--|
        [          partial_tool_calls()           ]
        --P(0, f, {})-----------P(0, f, {c: 1}, done)--|
    """
    return decoding(PartialToolCallsDecoder)


def _check_max_chars(max_chars: int) -> None:
    if not isinstance(max_chars, int) or max_chars <= 0:
        raise ValueError(f"max_chars must be a positive int, got {max_chars!r}")


def _latest_per_interval(
    interval: float, scheduler: abc.SchedulerBase | None
) -> Operator[Any, Any]:
    """The first item at once, then at most one per ``interval`` (the latest); the last
    item always, before completion or an error."""

    def operator(source: Observable[Any]) -> Observable[Any]:
        def subscribe(
            observer: abc.ObserverBase[Any], subscribe_scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            clock = resolve(scheduler, subscribe_scheduler)
            now = seconds(clock)
            timer = SerialDisposable()
            pending: list[Any] = []
            last_emit: float | None = None

            def emit_pending(*_: Any) -> None:
                nonlocal last_emit
                if pending:
                    item = pending.pop()
                    last_emit = now()
                    observer.on_next(item)

            def on_next(item: Any) -> None:
                pending[:] = [item]
                if last_emit is None or now() - last_emit >= interval:
                    timer.disposable = None
                    emit_pending()
                elif timer.disposable is None:
                    wait = interval - (now() - last_emit)
                    timer.disposable = clock.schedule_relative(wait, _fire)

            def _fire(*_: Any) -> None:
                timer.disposable = None
                emit_pending()

            def on_error(error: Exception) -> None:
                timer.dispose()
                emit_pending()
                observer.on_error(error)

            def on_completed() -> None:
                timer.dispose()
                emit_pending()
                observer.on_completed()

            upstream = source.subscribe(
                on_next, on_error, on_completed, scheduler=subscribe_scheduler
            )
            return CompositeDisposable(upstream, timer)

        return Observable(subscribe)

    return operator


__all__ = ["json_items", "json_result", "partial_json", "partial_tool_calls"]
