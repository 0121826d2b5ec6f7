"""The web chat's markdown: finished blocks as sanitized HTML, the open block as text.

The server renders each finished block once (``rxstream.markdown.HtmlRenderer``:
markdown-it-py, then nh3) and sends it as an ``event: block``; the block still being
written goes as ``event: tail`` with its raw text, which the page shows with
``textContent`` — so nothing from the model reaches the DOM as markup without passing
the sanitizer.
"""

from __future__ import annotations

from collections.abc import Callable

import reactivex
from reactivex import Observable
from reactivex import operators as rx_ops

from rxstream import operators as ops
from rxstream.markdown import HtmlRenderer
from rxstream.models import MarkdownBlock, SSEEvent


def block_event(block: MarkdownBlock, render: HtmlRenderer) -> SSEEvent:
    """A finished block as its HTML, the open tail as its text."""
    if block.final:
        return SSEEvent(render(block.text), event="block")
    return SSEEvent(block.text, event="tail")


def markdown_events(
    render: HtmlRenderer,
) -> Callable[[Observable[str]], Observable[SSEEvent]]:
    """Text fragments to ``block``/``tail`` events (one process; ids come from LiveStream)."""

    def operator(source: Observable[str]) -> Observable[SSEEvent]:
        return source.pipe(
            ops.markdown_blocks(), rx_ops.map(lambda block: block_event(block, render))
        )

    return operator


def _position(event_id: str) -> tuple[int, int, int]:
    """``"1700000000000-3/2"`` (Redis entry id / event within it) as a sortable tuple."""
    entry, _, index = event_id.partition("/")
    millis, _, sequence = entry.partition("-")
    return int(millis), int(sequence or 0), int(index or 0)


def markdown_events_after(
    render: HtmlRenderer, after: str | None
) -> Callable[[Observable[tuple[str, str]]], Observable[tuple[str, SSEEvent]]]:
    """``(entry id, text)`` pairs read from the start of a Redis stream to events with ids
    ``"<entry id>/<n>"``, skipping those up to ``after`` (a reconnect's Last-Event-ID).

    Blocks depend on all the text before them, so a reconnecting reader renders the
    answer from its start and only sends what the browser has not had yet.
    """
    resume = _position(after) if after else (-1, -1, -1)

    def operator(source: Observable[tuple[str, str]]) -> Observable[tuple[str, SSEEvent]]:
        def per_subscription(_: object) -> Observable[tuple[str, SSEEvent]]:
            entry = ["0-0", 0]  # the entry being decoded, events emitted for it so far

            def enter(pair: tuple[str, str]) -> str:
                entry[:] = [pair[0], 0]
                return pair[1]

            def number(block: MarkdownBlock) -> tuple[str, SSEEvent]:
                event_id = f"{entry[0]}/{entry[1]}"
                entry[1] = int(entry[1]) + 1
                return event_id, block_event(block, render)

            # markdown_blocks emits while handling the entry's text, so `entry` names it
            return source.pipe(
                rx_ops.map(enter),
                ops.markdown_blocks(),
                rx_ops.map(number),
                rx_ops.filter(lambda event: _position(event[0]) > resume),
            )

        return reactivex.defer(per_subscription)

    return operator
