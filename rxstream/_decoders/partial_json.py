"""Incremental JSON: text fragments in, the value parsed so far out (and array items).

One pass over the text, never a re-parse: a stack of the containers still open, the
token in progress, and a live root value that later fragments update in place. So the
work per fragment is the fragment plus the path that changed; only a string that is
still open is rebuilt per fragment to show its prefix (the one inherent cost).

Chunking-invariant by construction: every decision looks at characters only, and a
token split anywhere — an escape, a surrogate pair, a number, a fence — waits for the
characters that decide it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ..errors import EventTooLarge, ParseError, SchemaError
from ..models import TextDelta, ToolCallDelta, ToolCallProgress
from . import Decoder

DEFAULT_MAX_CHARS: Final = 16 * 1024 * 1024
"""The longest document (in characters) any structured-output operator accepts."""

# These three match at every position (``*``), so ``.match(...)`` is never None.
_WS: Final = re.compile(r"[ \t\n\r]*")
_PLAIN: Final = re.compile(r'[^"\\\x00-\x1f]*')  # string content up to a quote, escape or control
_TOKEN: Final = re.compile(r"[0-9A-Za-z+\-.]*")  # number and literal characters
_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_FENCE: Final = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n")
_FENCE_START: Final = re.compile(r"`{1,3}|```[A-Za-z0-9_-]*[ \t]*\r?")  # a fence so far
_MAX_FENCE: Final = 64
_LITERALS: Final = {"true": True, "false": False, "null": None}
_ESCAPES: Final = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_HEX: Final = frozenset("0123456789abcdefABCDEF")

# What an open container waits for next.
_KEY_OR_END, _COLON, _VALUE_IN_OBJECT, _COMMA_OR_END_OBJECT, _KEY = 0, 1, 2, 3, 4
_VALUE_OR_END, _VALUE_IN_ARRAY, _COMMA_OR_END_ARRAY = 5, 6, 7
# Where the document is, outside any container.
_BEFORE, _VALUE, _AFTER = 0, 1, 2
# The token in progress.
_NONE, _STRING, _KEY_STRING, _SCALAR = 0, 1, 2, 3

_MISSING: Final = object()


class _Frame:
    """An open container: the live object, what it waits for, the key of the value
    being read, and whether it is (or leads to) the array whose items are wanted."""

    __slots__ = ("container", "key", "on_path", "state", "target")

    def __init__(self, container: Any, state: int, on_path: bool, target: bool) -> None:
        self.container = container
        self.state = state
        self.key: str | None = None
        self.on_path = on_path
        self.target = target


class JSONStream:
    """The incremental parser shared by the structured-output decoders.

    ``feed(text)`` consumes a fragment; ``root`` is the value so far (``_MISSING``
    before any), ``complete`` whether it is whole. With ``items_path`` (keys from the
    root; ``()`` for a top-level array) the elements of that array are collected in
    ``items`` as they close and not kept in the document.
    """

    def __init__(
        self,
        *,
        partial_strings: bool = True,
        max_chars: int = DEFAULT_MAX_CHARS,
        items_path: tuple[str, ...] | None = None,
    ) -> None:
        self.partial_strings = partial_strings
        self.max_chars = max_chars
        self.items_path = items_path
        self.items: list[Any] = []
        self.found_target = False
        self.root: Any = _MISSING
        self.complete = False
        self.changed = False
        self._stack: list[_Frame] = []
        self._where = _BEFORE
        self._token = _NONE
        self._parts: list[str] = []  # decoded string pieces, or the scalar's characters
        self._escape = ""  # an escape split across fragments (raw, from the backslash)
        self._high = 0  # a high surrogate waiting for its low half
        self._shown = False  # the open string is shown in the value (as its prefix)
        self._fence = ""  # a leading ``` line, not yet ended
        self._fenced = False
        self._fence_at = 0
        self._closing_fence = ""
        self._seen = 0  # characters consumed before the current fragment
        self._token_start = 0
        self._text = ""  # the current fragment (for error excerpts)

    # -- input ---------------------------------------------------------------------

    def feed(self, text: str) -> None:
        """Consume one fragment."""
        if not text:
            return
        self._text = text
        if self._seen + len(text) > self.max_chars:
            raise EventTooLarge(
                f"The JSON document grew past max_chars={self.max_chars} characters; "
                "raise max_chars= if such answers are expected.",
                limit=self.max_chars,
            )
        i, n = 0, len(text)
        while i < n:
            token = self._token
            if token in (_STRING, _KEY_STRING):
                i = self._string(text, i, n)
            elif token == _SCALAR:
                end = _TOKEN.match(text, i).end()  # type: ignore[union-attr]
                self._parts.append(text[i:end])
                i = end
                if i < n:
                    self._end_scalar(i)
            elif self._where == _VALUE or self._stack:
                i = self._structure(text, i, n)
            elif self._where == _BEFORE:
                i = self._before(text, i, n)
            else:
                i = self._after(text, i, n)
        if self._token == _STRING and self._shown:
            self._show(self._string_so_far())
        self._seen += n

    def end(self) -> None:
        """The input ended: finish a top-level scalar, or fail if the value is unfinished."""
        position = self._seen
        if self._token == _SCALAR and not self._stack:
            self._end_scalar(0)
        if self._fence and self._where == _BEFORE:
            raise self._error("the input ended inside an opening ``` fence", position)
        if self.root is _MISSING:
            raise self._error("no JSON value in the input", position)
        if not self.complete:
            raise self._error(
                "the JSON document ended unfinished (the answer was cut short?)", position
            )
        if self._closing_fence and self._closing_fence != "```":
            raise self._error("unexpected characters after the JSON value", position)

    # -- states --------------------------------------------------------------------

    def _before(self, text: str, i: int, n: int) -> int:
        """Whitespace and an optional ```json fence line before the value."""
        if self._fence:
            line_end = text.find("\n", i)
            stop = n if line_end < 0 else line_end + 1
            self._fence += text[i:stop]
            whole = _FENCE if line_end >= 0 else _FENCE_START
            if len(self._fence) > _MAX_FENCE or not whole.fullmatch(self._fence):
                raise self._error("not JSON (a ``` line that is not a fence)", self._fence_at)
            if line_end >= 0:
                self._fence, self._fenced = "", True
            return stop
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if i < n:
            if text[i] == "`" and not self._fenced:
                self._fence, self._fence_at = "`", self._seen + i
                return i + 1
            self._where = _VALUE
        return i

    def _after(self, text: str, i: int, n: int) -> int:
        """Whitespace and the closing fence after the value; anything else is an error."""
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if i >= n:
            return n
        if self._fenced and text[i] == "`" and len(self._closing_fence) < 3:
            self._closing_fence += "`"
            return i + 1
        raise self._error("unexpected characters after the JSON value", self._seen + i)

    def _structure(self, text: str, i: int, n: int) -> int:
        i = _WS.match(text, i).end()  # type: ignore[union-attr]
        if i >= n:
            return n
        c = text[i]
        frame = self._stack[-1] if self._stack else None
        state = frame.state if frame is not None else _VALUE_IN_ARRAY  # top: a value
        if state in (_VALUE_IN_OBJECT, _VALUE_IN_ARRAY, _VALUE_OR_END):
            if c == "]" and state == _VALUE_OR_END:
                self._close(i)
                return i + 1
            return self._start_value(c, text, i)
        if frame is None:  # pragma: no cover - a top-level value is always a value state
            raise self._error("unexpected character", self._seen + i)
        if state in (_KEY_OR_END, _KEY):
            if c == '"':
                self._token, self._parts = _KEY_STRING, []
                return i + 1
            if c == "}" and state == _KEY_OR_END:
                self._close(i)
                return i + 1
            raise self._error("expected a key in double quotes", self._seen + i)
        if state == _COLON:
            if c != ":":
                raise self._error("expected ':' after the key", self._seen + i)
            frame.state = _VALUE_IN_OBJECT
            return i + 1
        # after a value in a container: a comma or the end
        if c == ",":
            frame.state = _KEY if state == _COMMA_OR_END_OBJECT else _VALUE_IN_ARRAY
            return i + 1
        if (c == "}" and state == _COMMA_OR_END_OBJECT) or (
            c == "]" and state == _COMMA_OR_END_ARRAY
        ):
            self._close(i)
            return i + 1
        expected = "'}'" if state == _COMMA_OR_END_OBJECT else "']'"
        raise self._error(f"expected ',' or {expected}", self._seen + i)

    def _start_value(self, c: str, text: str, i: int) -> int:
        if c == "{" or c == "[":
            container: Any = {} if c == "{" else []
            on_path, target = self._path_of_child(c == "[")
            self._attach(container)
            self._stack.append(
                _Frame(container, _KEY_OR_END if c == "{" else _VALUE_OR_END, on_path, target)
            )
            return i + 1
        if c == '"':
            self._token, self._parts = _STRING, []
            if self.partial_strings and not self._is_target_parent():
                self._attach("")
                self._shown = True
            return i + 1
        if c == "-" or c.isdigit() or c in "tfn":
            self._token, self._parts = _SCALAR, []
            self._token_start = self._seen + i
            return i
        raise self._error("not JSON (expected a value)", self._seen + i)

    # -- strings -------------------------------------------------------------------

    def _string(self, text: str, i: int, n: int) -> int:
        parts = self._parts
        while i < n:
            if self._escape or self._high:
                i = self._escaped(text, i)
                continue
            end = _PLAIN.match(text, i).end()  # type: ignore[union-attr]
            if end > i:
                parts.append(text[i:end])
                i = end
                if i >= n:
                    break
            c = text[i]
            if c == '"':
                self._end_string()
                return i + 1
            if c == "\\":
                self._escape = "\\"
                i += 1
                continue
            raise self._error("a control character inside a string", self._seen + i)
        return i

    def _escaped(self, text: str, i: int) -> int:
        """One character of an escape (or of the low half after a high surrogate)."""
        c = text[i]
        escape = self._escape
        if self._high and not escape:
            if c != "\\":  # a lone high surrogate, as json.loads keeps it
                self._parts.append(chr(self._high))
                self._high = 0
                return i
            self._escape = "\\"
            return i + 1
        if escape == "\\":
            if c == "u":
                self._escape = "\\u"
            elif c in _ESCAPES and not self._high:
                self._parts.append(_ESCAPES[c])
                self._escape = ""
            elif self._high:  # a high surrogate, then another escape
                self._parts.append(chr(self._high))
                self._high = 0
                return i  # re-read this character as the escape it starts
            else:
                raise self._error("an invalid escape in a string", self._seen + i)
            return i + 1
        if c not in _HEX:
            raise self._error("an invalid \\u escape in a string", self._seen + i)
        escape += c
        if len(escape) < 6:
            self._escape = escape
            return i + 1
        code = int(escape[2:], 16)
        self._escape = ""
        if self._high:
            if 0xDC00 <= code <= 0xDFFF:
                self._parts.append(chr(0x10000 + ((self._high - 0xD800) << 10) + code - 0xDC00))
                self._high = 0
                return i + 1
            self._parts.append(chr(self._high))  # lone, as json.loads keeps it
            self._high = 0
        if 0xD800 <= code <= 0xDBFF:
            self._high = code
        else:
            self._parts.append(chr(code))
        return i + 1

    def _string_so_far(self) -> str:
        parts = self._parts
        if len(parts) > 1:
            parts[:] = ["".join(parts)]
        return parts[0] if parts else ""

    def _end_string(self) -> None:
        value = self._string_so_far()
        if self._token == _KEY_STRING:
            frame = self._stack[-1]
            frame.key = value
            frame.state = _COLON
            self._token = _NONE
            return
        self._token = _NONE
        if self._shown:
            self._shown = False
            self._show(value)
            self._value_done(value, attached=True)
        else:
            self._value_done(value, attached=False)

    def _show(self, value: str) -> None:
        """Put the open string's prefix (or its final value) where it is shown."""
        frame = self._stack[-1] if self._stack else None
        if frame is None:
            self.root = value
        elif type(frame.container) is dict:
            frame.container[frame.key] = value
        else:
            frame.container[-1] = value
        self.changed = True

    # -- numbers and literals ------------------------------------------------------

    def _end_scalar(self, i: int) -> None:
        raw = "".join(self._parts)
        self._token = _NONE
        if raw in _LITERALS:
            value: Any = _LITERALS[raw]
        else:
            match = _NUMBER.fullmatch(raw)
            if match is None:
                what = f"not JSON ({raw[:20]!r} is no number or literal)"
                raise self._error(what, self._token_start)
            value = float(raw) if match.group(1) or match.group(2) else int(raw)
        self._value_done(value, attached=False)

    # -- containers ----------------------------------------------------------------

    def _attach(self, value: Any) -> None:
        """Add a value that starts now to its parent (or make it the root)."""
        frame = self._stack[-1] if self._stack else None
        if frame is None:
            self.root = value
            self._where = _VALUE
        elif type(frame.container) is dict:
            frame.container[frame.key] = value
            frame.state = _COMMA_OR_END_OBJECT
        else:
            frame.container.append(value)
            frame.state = _COMMA_OR_END_ARRAY
        self.changed = True

    def _value_done(self, value: Any, *, attached: bool) -> None:
        """A value ended: attach it if it was not shown yet, hand it out if it is an item."""
        frame = self._stack[-1] if self._stack else None
        if frame is not None and frame.target:
            self.items.append(value)
            if attached:
                frame.container.pop()
            frame.state = _COMMA_OR_END_ARRAY
            return
        if not attached:
            self._attach(value)
        if frame is None:
            self._done()

    def _close(self, i: int) -> None:
        frame = self._stack.pop()
        self.changed = True
        parent = self._stack[-1] if self._stack else None
        if frame.target:  # its items were handed out as they closed
            if parent is None:
                self._done()
            return
        if parent is not None and parent.target:
            self.items.append(frame.container)
            parent.container.pop()
        elif parent is None:
            self._done()

    def _done(self) -> None:
        self.complete = True
        self._where = _AFTER
        self.changed = True

    # -- json_items paths ----------------------------------------------------------

    def _path_of_child(self, is_array: bool) -> tuple[bool, bool]:
        """Whether a container starting now lies on ``items_path``, and is its array."""
        path = self.items_path
        if path is None:
            return False, False
        depth = len(self._stack)
        if depth == 0:
            on_path = True
        else:
            parent = self._stack[-1]
            on_path = (
                parent.on_path
                and not parent.target
                and type(parent.container) is dict
                and depth <= len(path)
                and parent.key == path[depth - 1]
            )
        if on_path and depth == len(path):
            if not is_array:
                raise SchemaError(
                    f"Expected an array at {format_path(path)}, got an object.",
                    path=format_path(path),
                )
            self.found_target = True
            return True, True
        return on_path, False

    def _is_target_parent(self) -> bool:
        return bool(self._stack) and self._stack[-1].target

    # -- errors --------------------------------------------------------------------

    def _error(self, what: str, position: int) -> ParseError:
        offset = max(0, position - self._seen)
        excerpt = self._text[max(0, offset - 40) : offset + 40]
        return ParseError(
            f"Invalid JSON at character {position}: {what}.", position=position, excerpt=excerpt
        )


def format_path(keys: tuple[str | int, ...]) -> str:
    """``("data", "items", 3)`` → ``$.data.items[3]``."""
    out = "$"
    for key in keys:
        out += f"[{key}]" if isinstance(key, int) else f".{key}"
    return out


def fragment_text(item: Any) -> str | None:
    """The text a structured-output decoder reads from an item: ``str`` or choice 0's
    ``TextDelta``; ``None`` for anything else (other deltas pass by)."""
    if type(item) is str:
        return item
    if type(item) is TextDelta and item.choice == 0:
        return item.text
    return None


class _TextJSONDecoder(Decoder[Any, Any]):
    """Feeds the text of each item (see ``fragment_text``) to a ``JSONStream``."""

    __slots__ = ("_stream",)

    _stream: JSONStream

    def _read(self, item: Any) -> bool:
        """Feed ``item``'s text; false when the item carries none."""
        text = fragment_text(item)
        if text is None:
            return False
        self._stream.feed(text)
        return True


class PartialJSONDecoder(_TextJSONDecoder):
    """Fragments → the value so far, after every fragment that changed it (live object)."""

    __slots__ = ()

    def __init__(self, *, partial_strings: bool = True, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self._stream = JSONStream(partial_strings=partial_strings, max_chars=max_chars)

    def feed(self, item: Any) -> list[Any]:
        stream = self._stream
        if self._read(item) and stream.changed and stream.root is not _MISSING:
            stream.changed = False
            return [stream.root]
        return []

    def flush(self) -> list[Any]:
        stream = self._stream
        stream.end()
        if stream.changed:  # a top-level number or literal completes only here
            stream.changed = False
            return [stream.root]
        return []


class JSONItemsDecoder(_TextJSONDecoder):
    """Fragments → each element of the array at ``path`` as soon as it closes."""

    __slots__ = ("_convert", "_count", "_path")

    def __init__(
        self,
        path: tuple[str, ...],
        convert: Any,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self._stream = JSONStream(partial_strings=False, max_chars=max_chars, items_path=path)
        self._path = path
        self._convert = convert
        self._count = 0

    def feed(self, item: Any) -> list[Any]:
        stream = self._stream
        if not self._read(item) or not stream.items:
            return []
        items, stream.items = stream.items, []
        return self._converted(items)

    def _converted(self, items: list[Any]) -> list[Any]:
        out = []
        for item in items:
            where = f"{format_path(self._path)}[{self._count}]"
            self._count += 1
            out.append(self._convert(item, where))
        return out

    def flush(self) -> list[Any]:
        stream = self._stream
        stream.end()
        if not stream.found_target:
            where = format_path(self._path)
            raise SchemaError(f"Expected an array at {where}; the document has none.", path=where)
        items, stream.items = stream.items, []
        return self._converted(items)


class JSONResultDecoder(_TextJSONDecoder):
    """Fragments → the one complete value, at the end of the input, converted."""

    __slots__ = ("_convert",)

    def __init__(self, convert: Any, *, max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self._stream = JSONStream(partial_strings=False, max_chars=max_chars)
        self._convert = convert

    def feed(self, item: Any) -> list[Any]:
        self._read(item)
        return []

    def flush(self) -> list[Any]:
        self._stream.end()
        return [self._convert(self._stream.root, "$")]


class _CallState:
    __slots__ = ("done", "id", "name", "stream")

    def __init__(self) -> None:
        self.stream = JSONStream()
        self.id: str | None = None
        self.name: str | None = None
        self.done = False


class PartialToolCallsDecoder(Decoder[Any, ToolCallProgress]):
    """Deltas → ``ToolCallProgress`` while each tool call's arguments stream."""

    __slots__ = ("_calls",)

    def __init__(self) -> None:
        self._calls: dict[tuple[int, int], _CallState] = {}

    def feed(self, item: Any) -> list[ToolCallProgress]:
        if type(item) is not ToolCallDelta:
            return []
        key = (item.choice, item.index)
        call = self._calls.get(key)
        news = call is None
        if call is None:
            call = self._calls[key] = _CallState()
        if call.done:
            return []  # nothing can follow complete arguments but whitespace
        if item.id is not None and item.id != call.id:
            call.id, news = item.id, True
        if item.name is not None and item.name != call.name:
            call.name, news = item.name, True
        stream = call.stream
        if item.arguments:
            stream.feed(item.arguments)
        if stream.complete:
            call.done = True
            return [self._progress(key, call)]
        if stream.changed or news:
            stream.changed = False
            return [self._progress(key, call)]
        return []

    def flush(self) -> list[ToolCallProgress]:
        out = []
        for key, call in self._calls.items():
            if call.done:
                continue
            if call.stream.root is not _MISSING:
                call.stream.end()  # raises ParseError: the arguments were cut short
            call.done = True
            out.append(self._progress(key, call))
        return out

    @staticmethod
    def _progress(key: tuple[int, int], call: _CallState) -> ToolCallProgress:
        root = call.stream.root
        return ToolCallProgress(
            index=key[1],
            id=call.id,
            name=call.name,
            arguments=None if root is _MISSING else root,
            done=call.done,
            choice=key[0],
        )
