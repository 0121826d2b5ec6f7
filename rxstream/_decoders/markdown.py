"""Incremental markdown block splitting: text fragments in, completed blocks out.

A block is emitted once the line that proves it closed is complete: a heading, a
thematic break or a closing code fence closes itself; a paragraph, quote, table or
HTML block closes at a blank line or at a line that starts another block; a list item
closes when the next item (or something that ends the list) begins, because an
indented line after it could still belong to it. Every decision looks only at complete
lines, so any chunking of the same text gives the same blocks, and the final blocks
concatenate back to the input exactly (blank lines before a block belong to it; the
blank line that closes a block ends it).

The rules follow CommonMark and GitHub tables closely enough that each block renders on
its own as it would inside the whole document: only top-level structure is tracked
(nested lists and code inside an item belong to the item).
"""

from __future__ import annotations

import re
from typing import Final, cast

from ..errors import EventTooLarge
from ..models import MarkdownBlock, MarkdownKind
from . import Decoder

DEFAULT_MAX_CHARS: Final = 1024 * 1024
"""No single block (a huge code block, say) may grow past this many characters."""
LIVE_TAIL_CHARS: Final = 8192
"""Up to this size the open block is re-emitted after every fragment that changed it;
beyond, only once it grew by an eighth, so a huge block costs linear work, not
quadratic (each tail update carries the whole open block)."""

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_RULE = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT = re.compile(r" {0,3}(?:=+|-+)[ \t]*$")
_QUOTE = re.compile(r" {0,3}>")
_ITEM = re.compile(r"( {0,3})([-*+]|(\d{1,9})[.)])([ \t]+|$)")
_INDENTED = re.compile(r"(?: {4}|\t)")
_DELIMITER_CELL = re.compile(r"[ \t]*:?-+:?[ \t]*$")
_HTML_RAW = re.compile(r" {0,3}<(script|pre|style|textarea)(?:[\s>]|$)", re.IGNORECASE)
_HTML_RAW_END = re.compile(r"</(?:script|pre|style|textarea)>", re.IGNORECASE)
_HTML_COMMENT = re.compile(r" {0,3}<!--")
_HTML_BLOCK_TAG = re.compile(
    r" {0,3}</?(?:address|article|aside|base|basefont|blockquote|body|caption|center|col|"
    r"colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|"
    r"frameset|h[1-6]|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    r"noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|"
    r"thead|title|tr|track|ul)(?:[\s/>]|$)",
    re.IGNORECASE,
)
_HTML_ANY_TAG = re.compile(
    r" {0,3}(?:<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|"
    r"\"[^\"]*\"))?)*\s*/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)[ \t]*$"
)


def _blank(line: str) -> bool:
    return not line.strip()


def _cells(row: str) -> list[str]:
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return re.split(r"(?<!\\)\|", row)


def _is_delimiter_row(line: str, header: str) -> bool:
    """Whether ``line`` is a GitHub table delimiter row matching ``header``'s cells."""
    if "-" not in line or ("|" not in line and "|" not in header):
        return False
    cells = _cells(line)
    return all(_DELIMITER_CELL.match(cell) for cell in cells) and len(cells) == len(_cells(header))


class MarkdownBlockSplitter(Decoder[str, MarkdownBlock]):
    """Feed markdown fragments, get each top-level block once it is certainly closed.

    Args:
        tail: Also emit the still-open block after every fragment that changed it, as a
            non-final ``MarkdownBlock`` (for UIs that show it provisionally).
        max_chars: Largest block held; a longer one raises ``EventTooLarge``.
    """

    __slots__ = (
        "_fence",
        "_held",
        "_html_end",
        "_indent",
        "_item_blank",
        "_kind",
        "_lines",
        "_max",
        "_partial",
        "_partial_size",
        "_tail",
        "_tail_sent",
    )

    def __init__(self, *, tail: bool = True, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        if max_chars < 1:
            raise ValueError("max_chars must be >= 1")
        self._tail = tail
        self._max = max_chars
        self._lines: list[str] = []  # the open block's complete lines (blank lines first)
        self._held = 0  # characters in _lines
        self._kind: str | None = None  # a MarkdownKind or "code_indented"; None: blank so far
        self._partial: list[str] = []  # pieces of the current line, not yet ended by "\n"
        self._partial_size = 0
        self._fence = ""  # the open code fence ("```", "~~~~")
        self._html_end: re.Pattern[str] | None = None  # what ends the open HTML block
        self._indent = 0  # the open list item's content column
        self._item_blank = False  # the open list item has had a blank line
        self._tail_sent = ""

    # -- Decoder --------------------------------------------------------------------

    def feed(self, item: str) -> list[MarkdownBlock]:
        if not item:
            return []
        out: list[MarkdownBlock] = []
        end = item.find("\n")
        if end == -1:
            self._partial.append(item)  # joined once its line ends: no quadratic copying
            self._partial_size += len(item)
        else:
            self._partial.append(item[: end + 1])
            self._line("".join(self._partial), out)
            start = end + 1
            while (end := item.find("\n", start)) != -1:
                self._line(item[start : end + 1], out)
                start = end + 1
            self._partial = [item[start:]] if start < len(item) else []
            self._partial_size = len(item) - start
        self._check_size()
        if self._tail:
            self._emit_tail(out)
        return out

    def flush(self) -> list[MarkdownBlock]:
        out: list[MarkdownBlock] = []
        if self._partial:
            line, self._partial, self._partial_size = "".join(self._partial), [], 0
            self._line(line, out)
        if self._lines:
            self._close(out)
        self._tail_sent = ""
        return out

    # -- lines ----------------------------------------------------------------------

    def _line(self, line: str, out: list[MarkdownBlock]) -> None:
        """Handle one complete line (with its ``\\n``, except at the very end)."""
        kind = self._kind
        body = line.rstrip("\r\n")
        if kind == "code":
            self._hold(line)
            if self._closes_fence(body):
                self._close(out)
            return
        if kind == "html":
            self._hold(line)
            end = self._html_end
            if end.search(body) is not None if end is not None else _blank(body):
                self._close(out)
            return
        if kind == "paragraph":
            if _blank(body):
                self._hold(line)
                self._close(out)
                return
            if _SETEXT.match(body):
                self._hold(line)  # "Title\n---" is a heading, not a rule
                self._kind = "heading"
                self._close(out)
                return
            if _is_delimiter_row(body, self._lines[-1]):
                self._table_from_last_line(line, out)
                return
            if not self._interrupts_paragraph(body):
                self._hold(line)
                return
            self._close(out)
        elif kind == "list":
            if _blank(body):
                self._hold(line)
                self._item_blank = True
                return
            if _indent_of(body) >= self._indent:
                self._hold(line)  # continuation, nested list or code in the item
                return
            if not (
                self._item_blank
                or _RULE.match(body)
                or _ITEM.match(body)
                or self._interrupts_paragraph(body)
            ):
                self._hold(line)  # lazy continuation of the item's paragraph
                return
            self._close(out)
        elif kind in ("quote", "table"):
            if _blank(body):
                self._hold(line)
                self._close(out)
                return
            if kind == "quote" and (_QUOTE.match(body) or not self._interrupts_paragraph(body)):
                self._hold(line)
                return
            if kind == "table" and _indent_of(body) < 4 and not self._interrupts_paragraph(body):
                self._hold(line)
                return
            self._close(out)
        elif kind == "code_indented":
            if _blank(body) or _INDENTED.match(body):
                self._hold(line)
                return
            self._close(out)
        self._start(line, body, out)

    def _start(self, line: str, body: str, out: list[MarkdownBlock]) -> None:
        """A line that begins a block (after any blank lines held before it)."""
        self._hold(line)
        if _blank(body):
            return
        fence = _opens_fence(body)
        if fence:
            self._kind, self._fence = "code", fence
        elif _HEADING.match(body):
            self._kind = "heading"
            self._close(out)
        elif _RULE.match(body):
            self._kind = "rule"
            self._close(out)
        elif _QUOTE.match(body):
            self._kind = "quote"
        elif item := _ITEM.match(body):
            self._kind = "list"
            self._indent = _item_content_column(item, body)
            self._item_blank = False
        elif self._starts_html(body):
            self._kind = "html"
            if self._html_end is not None and self._html_end.search(body, body.index("<") + 4):
                self._close(out)  # "<!-- one line -->", "<pre>x</pre>"
        elif _INDENTED.match(body):
            self._kind = "code_indented"
        else:
            self._kind = "paragraph"

    def _starts_html(self, body: str) -> bool:
        if _HTML_RAW.match(body):
            self._html_end = _HTML_RAW_END
        elif _HTML_COMMENT.match(body):
            self._html_end = re.compile("-->")
        elif _HTML_BLOCK_TAG.match(body) or _HTML_ANY_TAG.match(body):
            self._html_end = None  # ends at a blank line
        else:
            return False
        return True

    def _interrupts_paragraph(self, body: str) -> bool:
        """Whether ``body`` starts a block that may interrupt a paragraph (CommonMark)."""
        if _opens_fence(body) or _HEADING.match(body) or _RULE.match(body):
            return True
        if _QUOTE.match(body):
            return True
        item = _ITEM.match(body)
        if item and not _blank(body[item.end() :]):
            number = item.group(3)
            return number is None or number == "1"
        return bool(
            _HTML_RAW.match(body) or _HTML_COMMENT.match(body) or _HTML_BLOCK_TAG.match(body)
        )

    def _closes_fence(self, body: str) -> bool:
        stripped = body.strip()
        if len(body) - len(body.lstrip(" ")) > 3 or not stripped:
            return False
        mark = self._fence[0]
        run = len(stripped) - len(stripped.lstrip(mark))
        return run >= len(self._fence) and not stripped[run:].strip()

    def _table_from_last_line(self, line: str, out: list[MarkdownBlock]) -> None:
        """A delimiter row under a paragraph: its last line is the table's header."""
        header = self._lines.pop()
        self._held -= len(header)
        if any(not _blank(held) for held in self._lines):
            self._close(out)
        self._lines.append(header)
        self._hold(line)
        self._kind = "table"

    # -- output ---------------------------------------------------------------------

    def _close(self, out: list[MarkdownBlock]) -> None:
        text = "".join(self._lines)
        kind = "paragraph" if self._kind is None else self._public_kind()
        out.append(MarkdownBlock(text, kind, True))
        self._lines = []
        self._held = 0
        self._kind = None
        self._fence = ""
        self._html_end = None
        self._tail_sent = ""

    def _public_kind(self) -> MarkdownKind:
        kind = self._kind
        return "code" if kind == "code_indented" else cast("MarkdownKind", kind)

    def _hold(self, line: str) -> None:
        self._lines.append(line)
        self._held += len(line)

    def _emit_tail(self, out: list[MarkdownBlock]) -> None:
        size = self._held + self._partial_size
        sent = len(self._tail_sent)
        if size == sent or (size > LIVE_TAIL_CHARS and size - sent < sent // 8):
            return  # unchanged, or a huge block that has not grown by an eighth yet
        partial = "".join(self._partial)
        self._partial = [partial] if partial else []
        text = "".join(self._lines) + partial
        if not text.strip():
            return
        self._tail_sent = text
        kind = self._public_kind() if self._kind is not None else _guess(partial)
        out.append(MarkdownBlock(text, kind, False))

    def _check_size(self) -> None:
        held = self._held + self._partial_size
        if held > self._max:
            raise EventTooLarge(
                f"A markdown block grew past max_chars={self._max} characters; "
                "raise max_chars= if such answers are expected.",
                limit=self._max,
            )


def _opens_fence(body: str) -> str:
    """The fence ``body`` opens (backticks may not appear in a backtick fence's info)."""
    match = _FENCE.match(body)
    if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
        return ""
    return match.group(1)


def _indent_of(body: str) -> int:
    expanded = body.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _item_content_column(item: re.Match[str], body: str) -> int:
    """Where an item's content starts; continuation lines indent at least this far."""
    marker_end = item.end(2)
    spaces = len(item.group(4).expandtabs(4))
    if spaces == 0 or spaces > 4 or _blank(body[item.end() :]):
        spaces = 1  # empty item, or the content is indented code: one space counts
    return marker_end + spaces


def _guess(partial: str) -> MarkdownKind:
    """The kind an unfinished first line looks like, for a provisional tail."""
    body = partial.lstrip("\r\n")
    if _opens_fence(body):
        return "code"
    if _HEADING.match(body):
        return "heading"
    if _QUOTE.match(body):
        return "quote"
    if _ITEM.match(body):
        return "list"
    return "paragraph"
