"""Deterministic fault modes for the mock server, chosen per request.

A request selects a fault with the ``x-mock-fault`` header or the ``fault`` query
parameter: a comma-separated list whose first item names the fault, e.g.
``status=503,retry_after=2,times=1`` or ``reset_after=3``. ``times=N`` applies the fault
to the first N requests carrying that same spec only (then the mock answers normally),
which is how retry-then-succeed paths are tested.

=====================  ==========================================================
fault                  behaviour
=====================  ==========================================================
status=CODE            answer CODE with an OpenAI error body; options ``retry_after``
                       (seconds or an HTTP-date), ``retry_after_ms``,
                       ``should_retry`` (``x-should-retry``), ``message``
reset_before_headers   close the connection without answering
never_respond          read the request, then never answer
reset_after=N          send N events, then reset the connection
stall_after=N          send N events, then go silent (connection stays open)
slow_start=SECONDS     send the headers, then wait SECONDS before the first event
keepalive              send ``: ping`` comments every ``interval`` s (0.25), no content
no_done                send the text, no finish_reason and no ``[DONE]``, then end
no_done_finish         send everything except ``[DONE]``, then end
malformed_after=N      send N events, then a payload that is not JSON
deep_nesting           send a payload nested 100,000 levels deep
invalid_utf8           send content with invalid UTF-8 bytes in it
provider_error=TYPE    after ``after`` events (0), an in-band ``{"error": …}`` of TYPE
endless_line           ``data: xxxx…`` without end, at full speed
big_event=BYTES        one event of BYTES bytes, then the rest of the stream
gzip_bomb              a gzip body of ~0.5 MiB that inflates to 512 MiB, no newlines
huge_error_body        HTTP 500 with a 50 MiB body
redirect=URL           307 to URL
ids                    give every event an SSE ``id``; resume after ``Last-Event-ID``;
                       option ``retry_ms`` sends an SSE ``retry:`` field. Also an
                       option of any fault (``reset_after=5,ids``), and it stays on
                       after ``times`` is used up
=====================  ==========================================================
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Final

FAULT_HEADER: Final = "x-mock-fault"
KNOWN: Final = frozenset(
    {
        "status",
        "reset_before_headers",
        "never_respond",
        "reset_after",
        "stall_after",
        "slow_start",
        "keepalive",
        "no_done",
        "no_done_finish",
        "malformed_after",
        "deep_nesting",
        "invalid_utf8",
        "provider_error",
        "endless_line",
        "big_event",
        "gzip_bomb",
        "huge_error_body",
        "redirect",
        "ids",
    }
)


@dataclass(frozen=True, slots=True)
class Fault:
    """A parsed fault spec: its name, its value, and its options."""

    spec: str
    name: str
    value: str = ""
    options: dict[str, str] = field(default_factory=dict)

    def int(self, key: str, default: int = 0) -> int:
        """An integer option (or the fault's own value for ``key == name``)."""
        raw = self.value if key == self.name else self.options.get(key)
        return int(raw) if raw not in (None, "") else default

    def float(self, key: str, default: float) -> float:
        """A float option."""
        raw = self.options.get(key)
        return float(raw) if raw not in (None, "") else default


def parse_fault(spec: str | None) -> Fault | None:
    """Parse ``spec``; ``None`` for no fault. Unknown names raise ``ValueError``."""
    if not spec:
        return None
    items = [item.strip() for item in spec.split(",") if item.strip()]
    name, _, value = items[0].partition("=")
    if name not in KNOWN:
        raise ValueError(f"unknown mock fault {name!r}; known: {', '.join(sorted(KNOWN))}")
    options = {}
    for item in items[1:]:
        key, _, option = item.partition("=")
        options[key.strip()] = option.strip()
    return Fault(spec=spec, name=name, value=value.strip(), options=options)


GZIP_BOMB_INFLATED: Final = 512 * 1024 * 1024


@cache
def gzip_bomb() -> bytes:
    """``data: aaaa…`` inflating to 512 MiB with no newline, gzip-encoded (~0.5 MiB)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"a" * (1024 * 1024)
    parts = [compressor.compress(b"data: ")]
    parts += [compressor.compress(block) for _ in range(GZIP_BOMB_INFLATED // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)
