"""Incremental sentence splitting for streamed text, in any of 13 languages at once.

Fragments of any size go in; each sentence comes out, stripped, as soon as its end is
certain. Every decision looks only at the text itself (never at where fragments were
cut): a decision that needs text not yet received waits for it, so any chunking of the
same text yields the same sentences. The language is never needed: the abbreviation
lists of every language apply together (``sentence_rules``), and every script's
terminators always do.

Rules, in order:

- A line break always ends a sentence (markdown headings, bullets and list items are
  lines; a heading such as ``## Part 2. Results`` is one unit). Blank lines produce
  nothing.
- A fenced code block (a line starting with three or more backticks or tildes, up to
  its closing fence) is one unit and is never split.
- ``。！？．`` and the stops of other scripts (``। ॥ ؟ ۔ ։ ። ፧ ។ ។ ။``) end a sentence
  at once, after any closing quotes or brackets, unless a Japanese particle (``」と``)
  or a comma follows the closing quote.
- ``.``, ``!``, ``?``, ``…`` and runs of them, followed by optional closing quotes or
  brackets (a French ``»`` after a space too), whitespace, and a character that is not
  lowercase, end a sentence. A lowercase brand (``macOS``, ``iPhone``) starts one; a
  dash followed by lowercase (``«Привет!» — сказал он``) is an attribution and
  continues it. Emoji right after the stop belong to the sentence. A ``.`` does not
  end a sentence after:
    * a title or inner abbreviation (``Mr.``, ``Sra.``, ``Dott.``, ``z. B.``, ``т. е.``),
    * ``No.``, ``Nr.``, ``Fig.``, ``S.`` … before a number; a month or weekday
      abbreviation before a number or a month (``Feb. 3``, ``Fri. Mar. 3``),
    * a list marker at the start of a line (``1. First``, ``d. Delta``, ``iv. Four``),
    * a German ordinal (``am 14. Juli``, ``im 19. Jahrhundert``),
    * an abbreviation that often ends a sentence (``etc.``, ``Inc.``, ``Jr.``,
      ``p.m.``, ``usw.``) unless the next word is capitalised,
    * an initial (``J. R. R. Tolkien``), an acronym (``U.S.``) or a unit after a number
      (``2 Mio. Euro``), unless the next word is a common sentence opener.
- Dots without whitespace after them never split: decimals, versions, IP addresses,
  URLs, e-mail addresses and file names stay whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from . import Decoder
from .sentence_rules import (
    BEFORE_NUMBER,
    LANGUAGES,
    MAY_END,
    MONTH_NAMES,
    MONTHS,
    NEVER_END,
    ORDINAL_LEAD,
    STARTERS,
    UNITS,
    WEEKDAYS,
    Language,
)

__all__ = ["HARD_LIMIT", "Language", "SentenceSplitter"]

HARD_LIMIT: Final = 65_536
"""No sentence (not even a code block) is held longer than this many characters."""

_WESTERN_STOPS: Final = ".!?\u2026"
# Stops that end a sentence whatever follows: CJK, full-width, Devanagari danda, Arabic
# question mark and Urdu full stop, Armenian, Ethiopic, Khmer and Burmese full stops.
_SCRIPT_STOPS: Final = (
    "\u3002\uff01\uff1f\uff0e\uff61\u0964\u0965\u061f\u06d4\u0589\u1362\u1367\u17d4\u17d5\u104b"
)
_CANDIDATE = re.compile("[" + re.escape(_WESTERN_STOPS + _SCRIPT_STOPS) + "\n]")
_TERMINALS: Final = frozenset(_WESTERN_STOPS + _SCRIPT_STOPS)
_IMMEDIATE: Final = frozenset(_SCRIPT_STOPS)
_CLOSERS: Final = frozenset(
    "\"'\u201d\u2019\u201c\u2018)]}\u00bb\u00ab\u203a\u2039"
    "\u300d\u300f\u3009\u300b\uff09\u3011\uff02*_`"
)
_SPACED_CLOSERS: Final = frozenset("\u00bb\u203a")  # French: « Bonjour. »
_AFTER_QUOTE_GOES_ON: Final = frozenset("\u3068\u3063\u3001\uff0c,")  # 」と, 」って, ”，
_DASHES: Final = frozenset("\u2014\u2013")
_INLINE_SPACE: Final = frozenset(" \t\u00a0\u202f\u3000")
_OPENERS: Final = "\"'\u201c\u2018\u201e([{\u00ab\u00bb\u2039\u00bf\u00a1*_`\u300c\u300e"
_ACRONYM = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_ROMAN = re.compile(r"(?i)x{0,3}(?:ix|iv|v?i{0,3})")
_HEADING = re.compile(r" {0,3}#{1,6}[ \t]")
_CLAUSE_BREAK = re.compile(r"[,;:\u2014\u2013)](?=\s)")

_WAIT: Final = -1


class SentenceSplitter(Decoder[str, str]):
    """Feed text fragments, get complete sentences (stripped of surrounding whitespace).

    Args:
        min_chars: Sentences shorter than this are merged into the next one.
        max_chars: Force a break in run-on text: at the last clause punctuation
            (``,;:`` or a dash) within the limit, else the last whitespace, else the
            limit itself. Code blocks are kept whole regardless (up to ``HARD_LIMIT``).
        language: Use only this language's abbreviation and sentence-opener lists
            (default: all of them). Terminators of every script always apply.
        abbreviations: Extra abbreviations (without the dot, case-insensitive) after
            which a ``.`` never ends a sentence.
    """

    __slots__ = (
        "_buf",
        "_fence",
        "_limit",
        "_line_start",
        "_maybe",
        "_min",
        "_never",
        "_pos",
        "_prefixes",
        "_starters",
    )

    def __init__(
        self,
        *,
        min_chars: int = 0,
        max_chars: int | None = None,
        language: Language | None = None,
        abbreviations: Iterable[str] = (),
    ) -> None:
        if min_chars < 0:
            raise ValueError("min_chars must be >= 0")
        if max_chars is not None and max_chars < 1:
            raise ValueError("max_chars must be >= 1")
        if max_chars is not None and min_chars > max_chars:
            raise ValueError("min_chars must not exceed max_chars")
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"language must be one of {list(LANGUAGES)} or None, got {language!r}")
        chosen = LANGUAGES if language is None else (language,)
        extra = {a.lower().rstrip(".") for a in abbreviations}
        self._never = frozenset().union(*(NEVER_END[lang] for lang in chosen), extra)
        self._maybe = frozenset().union(*(MAY_END[lang] for lang in chosen)) - self._never
        self._starters = frozenset().union(*(STARTERS[lang] for lang in chosen))
        self._prefixes = _prefixes(self._never | self._maybe)
        self._min = min_chars
        self._limit = min(max_chars, HARD_LIMIT) if max_chars is not None else HARD_LIMIT
        self._buf = ""  # text after the last emitted sentence
        self._pos = 0  # where scanning resumes in _buf
        self._fence = ""  # the open code fence _buf starts with ("```", "~~~~"), or ""
        self._line_start = True  # _buf starts at the beginning of a line

    def feed(self, item: str) -> list[str]:
        if not item:
            return []
        self._buf += item
        return self._drain(final=False)

    def flush(self) -> list[str]:
        sentences = self._drain(final=True)
        rest = self._buf.strip()
        self._buf, self._pos, self._fence, self._line_start = "", 0, "", True
        if rest:
            sentences.append(rest)
        return sentences

    # -- scanning ---------------------------------------------------------------------

    def _drain(self, *, final: bool) -> list[str]:
        out: list[str] = []
        while True:
            cut = self._next_cut(final)
            if cut == _WAIT:
                return out
            sentence = self._buf[:cut]
            self._buf = self._buf[cut:]
            self._pos = 0
            self._line_start = sentence.endswith("\n")
            sentence = sentence.strip()
            if sentence:
                out.append(sentence)

    def _next_cut(self, final: bool) -> int:
        """The end of the next sentence in ``_buf``, or ``_WAIT`` for more text."""
        buf = self._buf
        n = len(buf)
        if self._line_start and not self._fence and self._pos == 0:
            fence = _opens_fence(buf, final)
            if fence is None:
                return _WAIT
            if fence:
                self._fence = fence
                self._pos = buf.index(fence) + len(fence)
        if self._fence:
            return self._fence_cut(final)
        limit = self._limit
        while True:
            match = _CANDIDATE.search(buf, self._pos)
            at = match.start() if match is not None else n
            if at >= limit and n > limit:
                return self._forced_cut(limit)
            if match is None:
                self._pos = n
                return _WAIT
            if buf[at] == "\n":
                return at + 1
            if self._line_start and buf[0] in " #" and _HEADING.match(buf):
                self._pos = at + 1  # a heading is one unit up to its line break
                continue
            end, resume = self._decide(at, final)
            if end == _WAIT:
                if n > limit:
                    return self._forced_cut(limit)  # an endless word after "etc. " too
                self._pos = at
                return _WAIT
            if end and len(buf[:end].strip()) >= self._min:
                return end
            self._pos = resume

    def _fence_cut(self, final: bool) -> int:
        buf = self._buf
        match = _fence_close(self._fence).search(buf, self._pos)
        if match is not None:
            self._fence = ""
            return match.end()
        if final:
            return _WAIT  # flush() emits the unclosed block whole
        if len(buf) > HARD_LIMIT:
            return HARD_LIMIT  # the rest stays in fence mode
        # A closing fence still to come starts at a line break not yet checked to its end.
        last = buf.rfind("\n", self._pos)
        self._pos = last if last != -1 else len(buf)
        return _WAIT

    def _forced_cut(self, limit: int) -> int:
        window = self._buf[: limit + 1]
        best = 0
        for match in _CLAUSE_BREAK.finditer(window):
            best = match.end()
        if best == 0:
            best = max(window.rfind(" ", 1), window.rfind("\n", 1), window.rfind("\t", 1))
        return best if best > 0 else limit

    def _decide(self, at: int, final: bool) -> tuple[int, int]:
        """For terminal punctuation at ``at``: ``(end, resume)``.

        ``end`` is where the sentence ends (0 if it does not end here, ``_WAIT`` if the
        text so far cannot tell); ``resume`` is where scanning continues otherwise.
        """
        buf = self._buf
        n = len(buf)
        undecided = (0 if final else _WAIT), n
        j = at
        while j < n and buf[j] in _TERMINALS:
            j += 1
        run_end = j
        while j < n and buf[j] in _CLOSERS:
            j += 1
        if j < n and buf[j] in _INLINE_SPACE:
            k = _skip(buf, j, _INLINE_SPACE)
            if k < n and buf[k] in _SPACED_CLOSERS:
                j = _skip(buf, k + 1, _CLOSERS)
            elif k == n:
                return undecided
        if j == n:
            return undecided
        run = buf[at:run_end]
        if any(ch in _IMMEDIATE for ch in run):
            if j > run_end and buf[j] in _AFTER_QUOTE_GOES_ON:
                return 0, j  # 「はい。」と言った。
            if run == "\uff0e" and buf[j].isdigit():
                return 0, run_end  # full-width decimal
            end = _after_emoji(buf, j)
            return (end, end) if end < n else undecided
        if not buf[j].isspace():
            if j == run_end and _is_cjk(buf[j]) and at > 0 and _is_cjk(buf[at - 1]):
                return j, j  # "すごい!本当?" without spaces
            return 0, run_end  # 3.14, v2.0.1, example.com, a.b@c.de
        end = _after_emoji(buf, j)
        k = _skip(buf, end, _INLINE_SPACE)
        if k == n:
            return undecided
        first = buf[k]
        if first in "\r\n":
            return 0, run_end  # a line break decides on its own
        if first in _DASHES:
            m = _skip(buf, k + 1, _INLINE_SPACE)
            if m == n:
                return undecided
            if buf[m].islower():
                return 0, run_end  # «Привет!» — сказал он.
        if first.islower():
            word = _next_word(buf, k, final)
            if word is None:
                return _WAIT, at
            if not _is_brand(word):
                return 0, run_end  # lowercase continues the sentence
        if run != ".":
            return end, end  # ? ! … ?! ...
        return self._after_dot(at, run_end, end, k, final)

    def _after_dot(self, at: int, run_end: int, end: int, k: int, final: bool) -> tuple[int, int]:
        """Whether a single ``.`` at ``at``, before a non-lowercase word at ``k``, ends."""
        buf = self._buf
        n = len(buf)
        first = buf[k]
        token = _token_before(buf, at)
        lowered = token.lower()
        elided = max(lowered.rfind("'"), lowered.rfind("\u2019"))
        if 0 < elided <= 3:
            lowered = lowered[elided + 1 :]  # Italian/French elision: "l'Avv.", "dell'Ing."
        if len(token) == 1 and token.isalpha():
            joined = _spaced_abbreviation(buf, at - 1).lower()
            if joined in self._prefixes and first.isalpha():
                if k + 1 == n:
                    return (_WAIT, at) if not final else (end, end)
                if buf[k + 1] == ".":
                    return 0, run_end  # "z. B."
            if joined in self._never or joined in self._maybe:
                lowered = joined
        if lowered in self._never:
            return 0, run_end
        if first.isdigit() and lowered in BEFORE_NUMBER:
            return 0, run_end
        if lowered in MONTHS or token in WEEKDAYS:
            if first.isdigit():
                return 0, run_end  # "Feb. 3"
            word = _next_word(buf, k, final)
            if word is None:
                return _WAIT, at
            if word in MONTH_NAMES or word.lower() in MONTHS:
                return 0, run_end  # "Fri. Mar. 3"
        sentence_start = not buf[: at - len(token)].strip(" \t*#>-+")
        if token.isdigit():
            if sentence_start:
                return 0, run_end  # "1. First" list marker
            if int(token) <= 31 or len(token) <= 2:
                if _word_before(buf, at - len(token)).lower() in ORDINAL_LEAD:
                    return 0, run_end  # "im 19. Jahrhundert"
                word = _next_word(buf, k, final)
                if word is None:
                    return _WAIT, at
                if word in MONTH_NAMES and int(token) <= 31:
                    return 0, run_end  # "14. Juli"
        if (
            sentence_start
            and self._line_start
            and token
            and ((len(token) == 1 and token.isalpha()) or _ROMAN.fullmatch(token))
        ):
            return 0, run_end  # "d. Delta", "iv. Four" list marker
        if lowered in self._maybe:
            return end, end  # "etc. Then": the capital decides
        if (
            _ACRONYM.fullmatch(token)
            or (len(token) == 1 and token.isupper())
            or (lowered in UNITS and _word_before(buf, at - len(token)).isdigit())
        ):
            if first in "\u00bf\u00a1":
                return end, end  # Spanish opening marks start a sentence
            word = _next_word(buf, k, final)
            if word is None:
                return _WAIT, at
            return (end, end) if word in self._starters else (0, run_end)
        return end, end


def _skip(buf: str, i: int, chars: frozenset[str]) -> int:
    n = len(buf)
    while i < n and buf[i] in chars:
        i += 1
    return i


def _next_word(buf: str, k: int, final: bool) -> str | None:
    """The letters from ``k``, or ``None`` while the word may still grow."""
    e, n = k, len(buf)
    while e < n and buf[e].isalpha():
        e += 1
    if e == n and not final:
        return None
    return buf[k:e]


def _token_before(buf: str, at: int) -> str:
    start = at
    while start > 0 and not buf[start - 1].isspace():
        start -= 1
    return buf[start:at].lstrip(_OPENERS)


def _word_before(buf: str, at: int) -> str:
    """The whitespace-separated word before position ``at`` (which follows whitespace)."""
    end = at
    while end > 0 and buf[end - 1].isspace():
        end -= 1
    return _token_before(buf, end)


def _spaced_abbreviation(buf: str, at: int) -> str:
    """``"d. h"`` for the single letter at ``at`` after ``"d. "``, joined with dots."""
    parts = [buf[at]]
    while at >= 3 and buf[at - 1] == " " and buf[at - 2] == "." and buf[at - 3].isalpha():
        if at >= 4 and not buf[at - 4].isspace():
            break
        at -= 3
        parts.append(buf[at])
    return ".".join(reversed(parts))


def _prefixes(abbreviations: frozenset[str]) -> frozenset[str]:
    """``{"z", "i", "i.d"}`` for ``{"z.b", "i.d.r"}``: multi-part beginnings."""
    out: set[str] = set()
    for abbreviation in abbreviations:
        parts = abbreviation.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(out)


def _is_brand(word: str) -> bool:
    """``macOS``, ``iPhone``, ``eBay``: lowercase first, a capital later."""
    return any(ch.isupper() for ch in word[1:])


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # ideographs
        or 0xAC00 <= code <= 0xD7AF  # hangul
        or 0xF900 <= code <= 0xFAFF
    )


def _is_emoji(ch: str) -> bool:
    code = ord(ch)
    return (
        0x1F000 <= code <= 0x1FAFF
        or 0x2600 <= code <= 0x27BF
        or 0x2300 <= code <= 0x23FF
        or 0x2B00 <= code <= 0x2BFF
        or code in (0x200D, 0xFE0F)
    )


def _after_emoji(buf: str, j: int) -> int:
    """Past any emoji (and the spaces between them) at ``j``: they end the sentence."""
    n = len(buf)
    end = j
    k = _skip(buf, j, _INLINE_SPACE)
    while k < n and _is_emoji(buf[k]):
        while k < n and _is_emoji(buf[k]):
            k += 1
        end = k
        k = _skip(buf, k, _INLINE_SPACE)
    return end if k < n else n


@lru_cache(maxsize=16)
def _fence_close(fence: str) -> re.Pattern[str]:
    return re.compile(r"\n {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*\n")


def _opens_fence(buf: str, final: bool) -> str | None:
    """The fence ``buf`` (at a line start) opens, ``""`` if none, ``None`` if unknown yet."""
    n = len(buf)
    i = 0
    while i < n and i < 3 and buf[i] == " ":
        i += 1
    if i == n:
        return "" if final else None
    mark = buf[i]
    if mark not in "`~":
        return ""
    j = i
    while j < n and buf[j] == mark:
        j += 1
    if j == n and not final:
        return None  # the fence may grow longer, or turn out to be two backticks
    return buf[i:j] if j - i >= 3 else ""
