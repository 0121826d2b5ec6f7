"""Recorded OpenAI chat streams and the ways the network splits them."""

from __future__ import annotations

import random
from functools import cache

import msgspec

from rxstream.mock._script import MockConfig, stream_events

WORDS = (
    "alpha beta gamma delta zeta eta theta iota kappa lambda mu nu xi omega".split()
)  # ≤ 6 letters: one token each


def text_of(tokens: int) -> str:
    """A text that the mock cuts into exactly ``tokens`` content chunks."""
    return " ".join(WORDS[i % len(WORDS)] for i in range(tokens))


@cache
def recorded_events(tokens: int) -> tuple[bytes, ...]:
    """The SSE events of a streamed answer of ``tokens`` content chunks (with the usage
    chunk and ``[DONE]``), exactly as the mock sends them."""
    request = {
        "messages": [{"role": "user", "content": "x"}],
        "stream_options": {"include_usage": True},
    }
    events = stream_events(request, MockConfig(text=text_of(tokens)))
    encoded = [b"data: " + msgspec.json.encode(event) + b"\n\n" for event in events]
    return (*encoded, b"data: [DONE]\n\n")


def network_reads(events: tuple[bytes, ...], seed: int = 1) -> list[bytes]:
    """Realistic reads: 1 to 3 whole events each."""
    rng = random.Random(seed)
    reads, i = [], 0
    while i < len(events):
        count = rng.randint(1, 3)
        reads.append(b"".join(events[i : i + count]))
        i += count
    return reads


def random_pieces(events: tuple[bytes, ...], seed: int = 2) -> list[bytes]:
    """Hostile reads: random 1-64 byte pieces, cutting events, lines and characters."""
    data = b"".join(events)
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(data):
        size = rng.randint(1, 64)
        pieces.append(data[i : i + size])
        i += size
    return pieces
