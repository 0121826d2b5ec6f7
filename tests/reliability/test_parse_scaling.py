"""Parsing is amortised linear (promise 17): time per byte does not grow with event size.

Ratios of CPU time in the same process, so a noisy machine does not matter much.
"""

from __future__ import annotations

import time

from rxstream._decoders.sse import SSEDecoder


def parse_time(size: int, chunk: int) -> float:
    data = b"data: " + b"x" * size + b"\n\n"
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    best = float("inf")
    for _ in range(3):
        decoder = SSEDecoder()
        started = time.process_time()
        for piece in pieces:
            decoder.feed(piece)
        best = min(best, time.process_time() - started)
    return best


def test_one_byte_chunks_scale_linearly_with_event_size() -> None:
    small, large = parse_time(128 * 1024, 1), parse_time(512 * 1024, 1)
    assert large / small < 4 * 1.6  # linear would be 4x; quadratic 16x


def test_4_mib_event_in_4_kib_chunks_costs_at_most_5x_one_chunk() -> None:
    whole, chunked = (
        parse_time(4 * 1024 * 1024, 4 * 1024 * 1024 + 8),
        parse_time(4 * 1024 * 1024, 4096),
    )
    assert chunked <= 5 * whole + 0.005
