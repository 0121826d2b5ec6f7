"""UI refresh with throttle_text: many token fragments, few screen updates.

Streams the mock's answer at 200 tokens/s and coalesces it with
``ops.throttle_text(0.1)``: the first token is shown at once, then at most ten updates
a second, each carrying everything that arrived in between.
``python examples/throttle.py``
"""

import asyncio
import logging

import structlog
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer


async def main() -> None:
    async with MockServer(MockConfig(tokens_per_second=200)) as server:
        request = {
            "model": "mock-gpt",
            "messages": [{"role": "user", "content": "Explain rxstream"}],
            "stream": True,
        }
        fragments = rs.from_http(server.chat_url, json=request).pipe(
            ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text(), rx_ops.share()
        )
        counts = {"fragments": 0, "updates": 0}

        def count_fragment(_: str) -> None:
            counts["fragments"] += 1

        def render(update: str) -> None:
            counts["updates"] += 1
            print(f"[update {counts['updates']:2d}] {update!r}")

        # Both consumers share one HTTP response (share() above).
        await asyncio.gather(
            rs.run(fragments, count_fragment),
            rs.run(fragments.pipe(ops.throttle_text(0.1)), render),
        )
        print(f"{counts['fragments']} fragments rendered in {counts['updates']} updates")


if __name__ == "__main__":
    # Applications (not libraries) configure logging: keep rxstream's debug events quiet.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main())
