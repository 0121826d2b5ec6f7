"""Assembly operators: delta events → text fragments or ``Completion`` snapshots."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .._decoders.accumulate import CompletionBuilder
from .._decoders.text import TextFilter
from ..models import Completion
from ..typing import Operator
from ._adapter import Stage, decoding
from ._providers import openai_chat_stage


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
    return _text(choice)


@lru_cache(maxsize=16)
def _text(choice: int | None) -> Operator[Any, str]:
    # one operator object per choice: operators hold no state (see _parse.parse_sse)
    def absorb(previous: Stage) -> Stage | None:
        # openai_chat can hand out the text itself: no TextDelta objects, one stage less.
        if previous.name == "openai_chat":
            return openai_chat_stage(text_choice=choice)
        return None

    return decoding(lambda: TextFilter(choice), name="text", absorb=absorb)


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
    return _ACCUMULATE


_ACCUMULATE: Operator[Any, Completion] = decoding(CompletionBuilder)


__all__ = ["accumulate", "text"]
