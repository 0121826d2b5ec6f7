"""Assembly operators: delta events → text fragments or ``Completion`` snapshots."""

from __future__ import annotations

from typing import Any

from reactivex import Observable, abc

from .._decoders.accumulate import CompletionBuilder
from ..models import Completion, Restart, TextDelta
from ..typing import Operator
from ._adapter import decoding


def text(choice: int | None = 0) -> Operator[Any, str]:
    """Keep only answer text: ``TextDelta`` → its ``text`` (plain ``str`` items pass through).

    ``choice`` selects one choice when the request asked for ``n > 1``; ``None`` keeps
    text of every choice, interleaved as it arrived. Reasoning, refusals, tool calls
    and usage are dropped. A ``Restart`` marker (from ``retry(on_partial="restart")``)
    passes through, so text consumers can discard what they showed.

    ::

        --Text("Hi")--ToolCall(..)--Text(" there")--Finish--|
        [                     text()                       ]
        --"Hi"--------------------" there"------------------|
    """

    def operator(source: Observable[Any]) -> Observable[str]:
        def subscribe(
            observer: abc.ObserverBase[str], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            emit = observer.on_next

            def on_next(item: Any) -> None:
                kind = type(item)
                if kind is TextDelta:
                    if choice is None or item.choice == choice:
                        emit(item.text)
                elif kind is str or kind is Restart:
                    emit(item)

            return source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )

        return Observable(subscribe)

    return operator


def accumulate() -> Operator[Any, Completion]:
    """Fold deltas into ``Completion`` snapshots: one new snapshot per meaningful delta.

    Each snapshot holds one ``Message`` per choice (text, refusal, reasoning, complete
    tool calls with their JSON ``arguments`` string, finish reason) and the usage. A
    ``Restart`` marker (from a retry with ``on_partial="restart"``) starts over. Use
    ``reactivex.operators.last()`` to keep only the final snapshot.

    ::

        --Text("Hi")--Text("!")--Finish("stop")--|
        [              accumulate()             ]
        --C("Hi")-----C("Hi!")---C("Hi!",stop)---|
    """
    return decoding(CompletionBuilder)


__all__ = ["accumulate", "text"]
