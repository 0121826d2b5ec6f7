"""Provider operators: a provider's stream format → rxstream's shared delta events."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .._decoders.openai_chat import OpenAIChatDecoder
from .._decoders.providers import AnthropicDecoder, GeminiDecoder, OllamaDecoder, ResponsesDecoder
from .._log import get_logger
from ..models import Delta, SSEEvent
from ..typing import Operator
from ._adapter import Stage, decoding

log = get_logger(__name__)


def openai_chat() -> Operator[SSEEvent | dict[str, Any], Delta]:
    """OpenAI Chat Completions chunks → ``TextDelta``, ``ToolCallDelta``, ``FinishDelta`` …

    Takes the decoded chunk objects (after ``sse_json()``) or the SSE events themselves
    (after ``parse_sse()``, handling ``[DONE]`` on its own). Tool-call fragments keep
    their ``index``, choices their ``choice`` index; the ``include_usage`` chunk becomes
    a ``UsageDelta``. A stream that ends — before ``[DONE]`` or at it — with a choice
    lacking a ``finish_reason`` raises ``StreamInterrupted`` carrying the partial text.

    ::

        --chunk("Hel")--chunk("lo")--chunk(finish=stop)--[DONE]--|
        [                     openai_chat()                     ]
        --TextDelta("Hel")--TextDelta("lo")--FinishDelta("stop")-|
    """

    return _OPENAI_CHAT


@lru_cache(maxsize=16)
def openai_chat_stage(*, text_choice: int | bool | None = False) -> Stage:
    """The ``openai_chat`` stage reading SSE events; with ``text_choice`` it emits the
    text of that choice (``None``: all) as ``str``, like ``openai_chat() → text()``."""
    return Stage(
        lambda: OpenAIChatDecoder(text_choice=text_choice),
        on_end=_log_missing_done,
        name="openai_chat" if text_choice is False else "openai_chat:text",
        absorb=None if text_choice is not False else _absorb,
        sse_data=True,
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


# Operators hold no state (each subscription builds its own decoders): one object each.
_OPENAI_CHAT: Operator[SSEEvent | dict[str, Any], Delta] = decoding(
    OpenAIChatDecoder, on_end=_log_missing_done, name="openai_chat", absorb=_absorb, sse_data=True
)


def anthropic_messages() -> Operator[Any, Delta]:
    """Anthropic Messages stream events → the shared deltas (after ``parse_sse()``).

    ``text_delta`` → ``TextDelta``; ``thinking_delta`` → ``ReasoningDelta`` (never mixed
    into ``text()``); ``tool_use`` blocks and their ``input_json_delta`` fragments →
    ``ToolCallDelta`` by tool order; ``message_delta`` → ``FinishDelta`` (``end_turn`` →
    ``stop``, ``max_tokens`` → ``length``, ``tool_use`` → ``tool_calls``) and
    ``UsageDelta``; ``message_stop`` completes; ``ping`` is ignored; ``event: error`` →
    ``ProviderError`` with its type (e.g. ``overloaded_error``, retried by policies).
    Also takes the decoded event objects.

    ::

        --message_start--block_delta("Hi")--message_delta(end_turn)--message_stop--|
        [                        anthropic_messages()                              ]
        -----------------TextDelta("Hi")----(Finish("stop"),Usage)----------------|
    """
    return _ANTHROPIC_MESSAGES


def openai_responses() -> Operator[Any, Delta]:
    """OpenAI Responses API stream events → the shared deltas (after ``parse_sse()``).

    ``response.output_text.delta`` → ``TextDelta``; function calls
    (``output_item.added`` + ``function_call_arguments.delta``/``.done``) →
    ``ToolCallDelta``; ``response.completed`` → ``FinishDelta`` + ``UsageDelta`` and
    completes; ``response.failed``, ``response.incomplete`` and ``error`` →
    ``ProviderError``; unknown event types are ignored.

    ::

        --output_text.delta("Hi")--response.completed--|
        [             openai_responses()              ]
        --TextDelta("Hi")----------(Finish,Usage)-----|
    """
    return _OPENAI_RESPONSES


def ollama_chat() -> Operator[Any, Delta]:
    """Ollama ``/api/chat`` lines → the shared deltas (after ``parse_ndjson()``).

    ``message.content`` → ``TextDelta``; ``message.thinking`` → ``ReasoningDelta``;
    whole ``tool_calls`` → ``ToolCallDelta`` (object arguments become JSON text);
    ``done`` → ``FinishDelta`` (``tool_calls`` when tools were called) and usage from
    ``prompt_eval_count``/``eval_count``; ``{"error": …}`` → ``ProviderError``.

    ::

        --{content:"Hi"}--{done:true,done_reason:"stop"}--|
        [                  ollama_chat()                  ]
        --TextDelta("Hi")--(Finish("stop"),Usage)---------|
    """
    return _OLLAMA_CHAT


def gemini() -> Operator[Any, Delta]:
    """Gemini ``streamGenerateContent?alt=sse`` responses → the shared deltas.

    ``parts[].text`` → ``TextDelta`` (``thought`` parts → ``ReasoningDelta``);
    ``functionCall`` parts → ``ToolCallDelta``; ``finishReason`` → ``FinishDelta``
    (``STOP`` → ``stop``, ``MAX_TOKENS`` → ``length``, safety reasons →
    ``content_filter``); the last ``usageMetadata`` → ``UsageDelta``. Gemini sends no
    ``[DONE]``: the stream completes with the body, and a body that ends without any
    ``finishReason`` is ``StreamInterrupted``.

    ::

        --{parts:[{text:"Hi"}]}--{finishReason:"STOP"}--|
        [                    gemini()                  ]
        --TextDelta("Hi")--------Finish("stop")-------(Usage|)
    """
    return _GEMINI


_ANTHROPIC_MESSAGES: Operator[Any, Delta] = decoding(AnthropicDecoder)
_OPENAI_RESPONSES: Operator[Any, Delta] = decoding(ResponsesDecoder)
_OLLAMA_CHAT: Operator[Any, Delta] = decoding(OllamaDecoder)
_GEMINI: Operator[Any, Delta] = decoding(GeminiDecoder)

__all__ = ["anthropic_messages", "gemini", "ollama_chat", "openai_chat", "openai_responses"]
