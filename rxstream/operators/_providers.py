"""Provider operators: a provider's stream format → rxstream's shared delta events."""

from __future__ import annotations

from typing import Any

import structlog

from .._decoders.openai_chat import OpenAIChatDecoder
from ..models import Delta, SSEEvent
from ..typing import Operator
from ._adapter import Stage, decoding

log = structlog.get_logger(__name__)


def openai_chat() -> Operator[SSEEvent | dict[str, Any], Delta]:
    """OpenAI Chat Completions chunks → ``TextDelta``, ``ToolCallDelta``, ``FinishDelta`` …

    Takes the decoded chunk objects (after ``sse_json()``) or the SSE events themselves
    (after ``parse_sse()``, handling ``[DONE]`` on its own). Tool-call fragments keep
    their ``index``, choices their ``choice`` index; the ``include_usage`` chunk becomes
    a ``UsageDelta``. A stream that ends before ``[DONE]`` with a choice lacking a
    ``finish_reason`` raises ``StreamInterrupted`` carrying the partial text.

    ::

        --chunk("Hel")--chunk("lo")--chunk(finish=stop)--[DONE]--|
        [                     openai_chat()                     ]
        --TextDelta("Hel")--TextDelta("lo")--FinishDelta("stop")-|
    """

    return decoding(OpenAIChatDecoder, on_end=_log_missing_done, name="openai_chat", absorb=_absorb)


def openai_chat_stage(*, text_choice: int | bool | None = False) -> Stage:
    """The ``openai_chat`` stage reading SSE events; with ``text_choice`` it emits the
    text of that choice (``None``: all) as ``str``, like ``openai_chat() → text()``."""
    return Stage(
        lambda: OpenAIChatDecoder(text_choice=text_choice),
        on_end=_log_missing_done,
        name="openai_chat" if text_choice is False else "openai_chat:text",
        absorb=None if text_choice is not False else _absorb,
    )


def _absorb(previous: Stage) -> Stage | None:
    # openai_chat handles [DONE], event: error and in-band errors itself: sse_json with
    # the same sentinel before it adds nothing but a stage.
    if previous.name == "sse_json:[DONE]":
        return openai_chat_stage()
    return None


def _log_missing_done(decoder: OpenAIChatDecoder) -> None:
    # Only reached when the input completed without [DONE] (done stops earlier).
    if decoder.read_sse:
        log.warning("stream_ended_without_done", provider="openai", events=decoder.chunks)


__all__ = ["openai_chat"]
