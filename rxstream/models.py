"""The typed values that flow through rxstream pipelines.

All are frozen, slotted dataclasses. Provider operators (``openai_chat`` and friends)
emit the *delta* types; ``accumulate()`` folds them into :class:`Completion` snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "Completion",
    "Delta",
    "FinishDelta",
    "Message",
    "ReasoningDelta",
    "RefusalDelta",
    "Restart",
    "SSEEvent",
    "StreamMetrics",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "UsageDelta",
]


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched Server-Sent Event.

    ``id`` is the last event id in effect when the event was dispatched (EventSource's
    ``lastEventId``; ``None`` while none was set, ``""`` after an empty ``id`` field
    reset it — a resume then sends no ``Last-Event-ID``), ``retry`` the reconnection time in
    milliseconds in effect (the last valid ``retry`` field so far).
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, normalised; ``raw`` keeps the provider's own fields."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A fragment of answer text for choice ``choice``."""

    text: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """A fragment of a refusal message (OpenAI structured outputs)."""

    text: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A fragment of reasoning/thinking text, kept apart from the answer text."""

    text: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of tool call ``index``: ``id``/``name`` arrive once, ``arguments`` in pieces."""

    index: int
    arguments: str = ""
    id: str | None = None
    name: str | None = None
    choice: int = 0


@dataclass(frozen=True, slots=True)
class FinishDelta:
    """Choice ``choice`` finished; ``reason`` is in OpenAI's vocabulary, ``raw_reason`` as sent."""

    reason: str
    raw_reason: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """Token usage for the whole response (usually the last event)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Restart:
    """Marker: the stream restarts from scratch; discard the partial output seen so far."""

    reason: str = ""


Delta: TypeAlias = (
    TextDelta | RefusalDelta | ReasoningDelta | ToolCallDelta | FinishDelta | UsageDelta
)
"""Every event a provider operator emits."""


@dataclass(frozen=True, slots=True)
class ToolCallProgress:
    """A tool call while its arguments stream (``ops.partial_tool_calls()``).

    ``arguments`` is the partial JSON value so far — ``None`` before the first ``{``, a
    dict from then on, updated in place by later fragments (read-only; valid until the
    next progress of this call: ``copy.deepcopy`` it to keep it). ``done`` is true once,
    on the last progress of the call, when the arguments are the complete parsed JSON of
    ``ToolCall.arguments``.
    """

    index: int
    id: str | None
    name: str | None
    arguments: Any
    done: bool = False
    choice: int = 0


MarkdownKind: TypeAlias = Literal[
    "paragraph", "heading", "list", "code", "table", "quote", "rule", "html"
]
"""What a :class:`MarkdownBlock` is (a list block is one top-level list item)."""


@dataclass(frozen=True, slots=True)
class MarkdownBlock:
    """One top-level markdown block from ``ops.markdown_blocks()``.

    ``final`` blocks are complete and concatenate back to the input exactly (blank lines
    before a block are part of it). A non-final block is the still-open tail so far: it
    replaces the previous tail and is itself replaced by a later tail or by its final
    block.
    """

    text: str
    kind: MarkdownKind
    final: bool = True

    @property
    def language(self) -> str | None:
        """A fenced code block's language tag (````` ```python ````` → ``"python"``)."""
        if self.kind != "code":
            return None
        first = self.text.lstrip("\r\n").lstrip(" ")
        info = first.lstrip(first[:1]).split("\n", 1)[0].strip() if first[:1] in "`~" else ""
        return info.split()[0] if info else None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call; ``arguments`` is the JSON string exactly as the provider sent it."""

    id: str | None
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Message:
    """The assembled output of one choice."""

    text: str = ""
    refusal: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    raw_finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Completion:
    """A snapshot of everything received so far, one :class:`Message` per choice index."""

    choices: list[Message] = field(default_factory=list)
    usage: Usage | None = None

    @property
    def text(self) -> str:
        """The text of choice 0 (``""`` before any arrived)."""
        return self.choices[0].text if self.choices else ""

    @property
    def finish_reason(self) -> str | None:
        """The normalised finish reason of choice 0."""
        return self.choices[0].finish_reason if self.choices else None

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool calls of choice 0."""
        return self.choices[0].tool_calls if self.choices else []


@dataclass(frozen=True, slots=True)
class StreamMetrics:
    """What ``ops.metrics()`` measured, in seconds where a time.

    ``time_to_first_item`` is ``None`` when nothing arrived; ``tokens_per_second`` is
    ``None`` when the stream reported no usage.
    """

    items: int
    duration: float
    time_to_first_item: float | None
    items_per_second: float
    chars_per_second: float
    tokens_per_second: float | None
    gap_p50: float | None
    gap_p99: float | None
    chars: int = 0
    completion_tokens: int | None = None
    error: str | None = None


# Internal fast constructors. Frozen dataclasses set each field through
# object.__setattr__ (about 150 ns a field) and decoders build one or two objects per
# streamed event, so the hot ones are built by filling the slots through their
# descriptors: same class, equal object, about half the cost.
_new = object.__new__
_sse_data, _sse_event, _sse_id, _sse_retry = (
    SSEEvent.__dict__[name].__set__ for name in ("data", "event", "id", "retry")
)
_text_text, _text_choice = (TextDelta.__dict__[name].__set__ for name in ("text", "choice"))


def new_sse_event(data: str, event: str, id: str | None, retry: int | None) -> SSEEvent:
    """``SSEEvent(data, event, id, retry)``, faster (for decoders)."""
    obj = _new(SSEEvent)
    _sse_data(obj, data)
    _sse_event(obj, event)
    _sse_id(obj, id)
    _sse_retry(obj, retry)
    return obj


def new_text_delta(text: str, choice: int) -> TextDelta:
    """``TextDelta(text, choice)``, faster (for decoders)."""
    obj = _new(TextDelta)
    _text_text(obj, text)
    _text_choice(obj, choice)
    return obj
