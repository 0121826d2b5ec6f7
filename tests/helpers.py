"""Shared helpers for the test-suite."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import AnyStr


def one_byte(data: bytes) -> list[bytes]:
    """``data`` as one chunk per byte."""
    return [data[i : i + 1] for i in range(len(data))]


def random_chunks(data: AnyStr, seed: int, max_size: int = 64) -> list[AnyStr]:
    """``data`` (bytes or text) split at random points (reproducible)."""
    rng = random.Random(seed)
    chunks, i = [], 0
    while i < len(data):
        size = rng.randint(1, max_size)
        chunks.append(data[i : i + size])
        i += size
    return chunks


def chunkings(data: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """The standard ways every parser test splits its input."""
    yield "whole", [data]
    yield "one-byte", one_byte(data)
    for seed in range(3):
        yield f"random-{seed}", random_chunks(data, seed, max_size=7)
