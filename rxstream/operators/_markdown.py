"""Markdown: streamed text into completed blocks, for rendering each block once."""

from __future__ import annotations

from .._decoders.markdown import DEFAULT_MAX_CHARS, MarkdownBlockSplitter
from ..models import MarkdownBlock
from ..typing import Operator
from ._adapter import decoding


def markdown_blocks(
    *, tail: bool = True, max_chars: int = DEFAULT_MAX_CHARS
) -> Operator[str, MarkdownBlock]:
    """Split streamed markdown into top-level blocks, each emitted once it is closed.

    A block (paragraph, heading, list item, fenced code, table, block quote, thematic
    break, HTML block) is final as soon as the line that proves it closed is complete;
    final blocks concatenate back to the input exactly, and any chunking of the same
    text gives the same final blocks. With ``tail`` (the default), the still-open block
    is also emitted after every fragment that changed it, as a non-final block that
    replaces the previous tail — throttle it (``ops.throttle``-style) if you re-render
    it. ``[b.text for b in blocks if b.final]`` gives the finished blocks only.

    Args:
        tail: Emit non-final updates of the open block.
        max_chars: Largest single block; a longer one ends the stream with
            ``EventTooLarge`` rather than growing without bound.

    ::

        --"# Hi\\n\\nOne"-------" two\\n\\n"--|
        [         markdown_blocks(tail=False)          ]
        --H("# Hi\\n")---------P("\\nOne two\\n\\n")--|
    """
    MarkdownBlockSplitter(tail=tail, max_chars=max_chars)  # validate now, at pipe() time
    return decoding(
        lambda: MarkdownBlockSplitter(tail=tail, max_chars=max_chars), flush_on_error=True
    )
