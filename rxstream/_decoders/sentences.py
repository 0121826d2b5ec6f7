"""Incremental sentence splitting for streamed text.

Fragments of any size go in; each sentence comes out, stripped, as soon as its end is
certain. Every decision looks only at the text itself (never at where fragments were
cut): a decision that needs text not yet received waits for it, so any chunking of the
same text yields the same sentences.

Rules, in order:

- A line break always ends a sentence (markdown headings, bullets and list items are
  lines). Blank lines produce nothing.
- A fenced code block (a line starting with three backticks, up to its closing fence)
  is one unit and is never split.
- ``。！？`` end a sentence at once (after any closing quotes or brackets).
- ``.``, ``!``, ``?``, ``…`` and runs of them (``?!``, ``...``), followed by optional
  closing quotes/brackets, whitespace, and a character that is not lowercase, end a
  sentence, except for a ``.`` after:
    * a title or an inner abbreviation (``Mr.``, ``Dr.``, ``e.g.``, ``i.e.``, ``vs.``),
    * ``No.``/``Fig.``/``p.`` … before a number,
    * a list number at the start of the sentence (``1. First``),
    * an abbreviation that may also end a sentence (``etc.``, ``Inc.``, ``U.S.``,
      ``a.m.``) or a single initial (``J. R. R. Tolkien``): these end a sentence only
      when the next word is a common sentence opener (``The``, ``It``, ``We`` …).
- Dots without whitespace after them never split: decimals, versions, IP addresses,
  URLs, e-mail addresses and file names stay whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Literal

from . import Decoder

Language = Literal["en", "es", "de", "fr"]

HARD_LIMIT: Final = 65_536
"""No sentence (not even a code block) is held longer than this many characters."""

_CANDIDATE = re.compile(r"[.!?\u2026\u3002\uff01\uff1f\n]")
_TERMINALS: Final = frozenset(".!?\u2026\u3002\uff01\uff1f")
_CJK_TERMINALS: Final = frozenset("\u3002\uff01\uff1f")
_CLOSERS: Final = frozenset("\"'\u201d\u2019)]}\u00bb\u300d\u300f\uff09\u3011*_`")
_INLINE_SPACE: Final = frozenset(" \t\u00a0\u3000")
_OPENERS: Final = "\"'\u201c\u2018([{\u00ab\u00bf\u00a1*_`"
_ACRONYM = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")
_FENCE_CLOSE = re.compile(r"\n {0,3}```[ \t]*\n")
_CLAUSE_BREAK = re.compile(r"[,;:\u2014\u2013)](?=\s)")

_NEVER: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        "mr mrs ms mx dr prof st mt rev fr gen col lt capt sgt maj gov sen rep hon pres "
        "supt e.g i.e cf vs viz approx esp incl dept est ca".split()
    ),
    "es": frozenset("sr sra srta dr dra lic ing prof ud uds p.ej vd vds".split()),
    "de": frozenset("z.b d.h u.a bzw evtl ggf inkl hr fr dr prof str vgl s.o s.u".split()),
    "fr": frozenset("m mm mme mlle dr pr st ste cf p.ex".split()),
}
_MAYBE_END: Final[dict[str, frozenset[str]]] = {
    "en": frozenset("etc inc ltd co corp llc jr sr al bros".split()),
    "es": frozenset("etc".split()),
    "de": frozenset("usw etc".split()),
    "fr": frozenset("etc".split()),
}
_BEFORE_NUMBER: Final = frozenset(
    "no nos nr vol vols fig figs p pp art sec ch eq ex op ed ref tab".split()
)
_STARTERS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset(
        "I It He She We They You The A An This That These Those There Then But And So Or "
        "Yet However In On At If When While After Before Since As My Our Your His Her "
        "Their Its What Why How Who Where Which Let Please Also Finally First Next Now "
        "Here Today Thanks Thank Yes No Not Some Many All Each Every For To With By From "
        "Of Meanwhile Still Instead".split()
    ),
    "es": frozenset("El La Los Las Un Una Yo Él Ella Pero Y Entonces Hoy Esto Eso".split()),
    "de": frozenset("Der Die Das Ein Eine Ich Er Sie Es Wir Aber Und Dann Heute".split()),
    "fr": frozenset("Le La Les Un Une Je Il Elle Nous Mais Et Puis Alors".split()),
}

_WAIT: Final = -1


class SentenceSplitter(Decoder[str, str]):
    """Feed text fragments, get complete sentences (stripped of surrounding whitespace).

    Args:
        min_chars: Sentences shorter than this are merged into the next one.
        max_chars: Force a break in run-on text: at the last clause punctuation
            (``,;:`` or a dash) within the limit, else the last whitespace, else the
            limit itself. Code blocks are kept whole regardless (up to ``HARD_LIMIT``).
        language: Abbreviation and sentence-opener lists to use.
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
        "_starters",
    )

    def __init__(
        self,
        *,
        min_chars: int = 0,
        max_chars: int | None = None,
        language: Language = "en",
        abbreviations: Iterable[str] = (),
    ) -> None:
        if min_chars < 0:
            raise ValueError("min_chars must be >= 0")
        if max_chars is not None and max_chars < 1:
            raise ValueError("max_chars must be >= 1")
        if max_chars is not None and min_chars > max_chars:
            raise ValueError("min_chars must not exceed max_chars")
        if language not in _NEVER:
            raise ValueError(f"language must be one of {sorted(_NEVER)}, got {language!r}")
        extra = {a.lower().rstrip(".") for a in abbreviations}
        self._never = _NEVER[language] | _NEVER["en"] | extra
        self._maybe = _MAYBE_END[language] | _MAYBE_END["en"]
        self._starters = _STARTERS[language] | _STARTERS["en"]
        self._min = min_chars
        self._limit = min(max_chars, HARD_LIMIT) if max_chars is not None else HARD_LIMIT
        self._buf = ""  # text after the last emitted sentence
        self._pos = 0  # where scanning resumes in _buf
        self._fence = False  # _buf starts with an open code fence
        self._line_start = True  # _buf starts at the beginning of a line

    def feed(self, item: str) -> list[str]:
        if not item:
            return []
        self._buf += item
        return self._drain(final=False)

    def flush(self) -> list[str]:
        sentences = self._drain(final=True)
        rest = self._buf.strip()
        self._buf, self._pos, self._fence, self._line_start = "", 0, False, True
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
            opens = _opens_fence(buf, final)
            if opens is None:
                return _WAIT
            if opens:
                self._fence = True
                self._pos = buf.index("```") + 3
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
            end, resume = self._decide(at, final)
            if end == _WAIT:
                self._pos = at
                return _WAIT
            if end and len(buf[:end].strip()) >= self._min:
                return end
            self._pos = resume

    def _fence_cut(self, final: bool) -> int:
        buf = self._buf
        match = _FENCE_CLOSE.search(buf, self._pos)
        if match is not None:
            self._fence = False
            return match.end()
        if final:
            return _WAIT  # flush() emits the unclosed block whole
        if len(buf) > HARD_LIMIT:
            return HARD_LIMIT  # the rest stays in fence mode
        # The closing fence is at most a few characters long: resume near the end.
        self._pos = max(self._pos, len(buf) - 16)
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
        j = at
        while j < n and buf[j] in _TERMINALS:
            j += 1
        run_end = j
        while j < n and buf[j] in _CLOSERS:
            j += 1
        if j == n:
            return (0 if final else _WAIT), n
        end = j
        run = buf[at:run_end]
        if any(ch in _CJK_TERMINALS for ch in run):
            return end, end
        if not buf[j].isspace():
            return 0, run_end  # 3.14, v2.0.1, example.com, a.b@c.de
        k = j
        while k < n and buf[k] in _INLINE_SPACE:
            k += 1
        if k == n:
            return (0 if final else _WAIT), n
        first = buf[k]
        if first in "\r\n" or first.islower():
            return 0, run_end  # a line break decides on its own; lowercase continues
        if run != ".":
            return end, end  # ? ! … ?! ...
        token = _token_before(buf, at)
        lowered = token.lower()
        if lowered in self._never:
            return 0, run_end
        if lowered in _BEFORE_NUMBER and first.isdigit():
            return 0, run_end
        if token.isdigit() and not buf[: at - len(token)].strip(" \t*#>-"):
            return 0, run_end  # "1. First" list marker
        if (
            lowered in self._maybe
            or _ACRONYM.fullmatch(token)
            or (len(token) == 1 and token.isupper())
        ):
            e = k
            while e < n and buf[e].isalpha():
                e += 1
            if e == n and not final:
                return _WAIT, at
            return (end, end) if buf[k:e] in self._starters else (0, run_end)
        return end, end


def _token_before(buf: str, at: int) -> str:
    start = at
    while start > 0 and not buf[start - 1].isspace():
        start -= 1
    return buf[start:at].lstrip(_OPENERS)


def _opens_fence(buf: str, final: bool) -> bool | None:
    """Whether ``buf`` (at a line start) opens a code fence; ``None`` if it cannot tell yet."""
    i = 0
    while i < len(buf) and i < 3 and buf[i] == " ":
        i += 1
    head = buf[i : i + 3]
    if head == "```":
        return True
    if len(head) < 3 and "```".startswith(head) and (i == len(buf) or buf[i:] == head):
        return False if final else None
    return False
