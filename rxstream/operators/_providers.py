"""Provider operators: a provider's stream format → rxstream's shared delta events."""

from __future__ import annotations

from typing import Any

import structlog

from .._decoders.openai_chat import OpenAIChatDecoder
from ..models import Delta, SSEEvent
from ..typing import Operator
from ._adapter import decoding

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

    def on_end(decoder: OpenAIChatDecoder) -> None:
        # Only reached when the input completed without [DONE] (done stops earlier).
        if decoder.read_sse:
            log.info("stream_ended_without_done", provider="openai")

    return decoding(OpenAIChatDecoder, on_end=on_end)


__all__ = ["openai_chat"]
