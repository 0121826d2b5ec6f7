"""Fold delta events into :class:`Completion` snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import (
    Completion,
    FinishDelta,
    Message,
    ReasoningDelta,
    RefusalDelta,
    Restart,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UsageDelta,
)
from . import Decoder


@dataclass(slots=True)
class _ToolCallState:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _ChoiceState:
    text: list[str] = field(default_factory=list)
    refusal: list[str] | None = None
    reasoning: list[str] | None = None
    tool_calls: dict[int, _ToolCallState] = field(default_factory=dict)
    finish_reason: str | None = None
    raw_finish_reason: str | None = None
    snapshot: Message | None = None  # cached until the next change to this choice

    def message(self) -> Message:
        if self.snapshot is None:
            self.snapshot = Message(
                text="".join(self.text),
                refusal="".join(self.refusal) if self.refusal is not None else None,
                reasoning="".join(self.reasoning) if self.reasoning is not None else None,
                tool_calls=[
                    ToolCall(id=call.id, name=call.name, arguments="".join(call.arguments))
                    for _, call in sorted(self.tool_calls.items())
                ],
                finish_reason=self.finish_reason,
                raw_finish_reason=self.raw_finish_reason,
            )
        return self.snapshot


AccumulateInput = (
    TextDelta | RefusalDelta | ReasoningDelta | ToolCallDelta | FinishDelta | UsageDelta | Restart
)


class CompletionBuilder(Decoder[AccumulateInput, Completion]):
    """Emits a new :class:`Completion` after every delta that changes it.

    A :class:`Restart` marker discards everything assembled so far. Other item types
    are ignored, so ``accumulate()`` can sit anywhere after a provider operator.
    """

    __slots__ = ("_choices", "_usage")

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceState] = {}
        self._usage: Usage | None = None

    def feed(self, item: AccumulateInput) -> list[Completion]:
        if isinstance(item, UsageDelta):
            self._usage = item.usage
            return [self.snapshot()]
        if isinstance(item, Restart):
            self._choices.clear()
            self._usage = None
            return [self.snapshot()]
        if not isinstance(
            item, TextDelta | RefusalDelta | ReasoningDelta | ToolCallDelta | FinishDelta
        ):
            return []
        state = self._choices.get(item.choice)
        if state is None:
            state = self._choices[item.choice] = _ChoiceState()
        state.snapshot = None
        if isinstance(item, TextDelta):
            state.text.append(item.text)
        elif isinstance(item, ToolCallDelta):
            call = state.tool_calls.get(item.index)
            if call is None:
                call = state.tool_calls[item.index] = _ToolCallState()
            if item.id:
                call.id = item.id
            if item.name:
                call.name = item.name
            if item.arguments:
                call.arguments.append(item.arguments)
        elif isinstance(item, FinishDelta):
            state.finish_reason = item.reason
            state.raw_finish_reason = item.raw_reason
        elif isinstance(item, RefusalDelta):
            if state.refusal is None:
                state.refusal = []
            state.refusal.append(item.text)
        else:
            if state.reasoning is None:
                state.reasoning = []
            state.reasoning.append(item.text)
        return [self.snapshot()]

    def snapshot(self) -> Completion:
        """The completion as assembled so far."""
        if not self._choices:
            return Completion(choices=[], usage=self._usage)
        last = max(self._choices)
        # Choice indexes are dense in practice; a gap gets an empty message, not a shift.
        choices = [
            self._choices[i].message() if i in self._choices else Message() for i in range(last + 1)
        ]
        return Completion(choices=choices, usage=self._usage)
