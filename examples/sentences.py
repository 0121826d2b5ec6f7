"""Sentences for text-to-speech: split a live stream into sentences as early as possible.

Streams the embedded mock's answer (40 tokens/s) through ``ops.sentences()`` and prints
one sentence per line with the time it was emitted, measured from the request. Each
sentence appears as soon as the first character of the next one arrives.
``python examples/sentences.py``
"""

import asyncio
import logging
import time

import structlog

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer

TEXT = (
    "Dr. Smith measured 3.14 units at 5 p.m. on Friday. Was that right?! "
    "The results are at https://example.com/results.csv. J. R. R. Tolkien would approve… "
    "Next steps:\n1. Check the data.\n2. Publish it."
)


async def main() -> None:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=40)) as server:
        request = {
            "model": "mock-gpt",
            "messages": [{"role": "user", "content": "Report"}],
            "stream": True,
        }
        sentences = rs.from_http(server.chat_url, json=request).pipe(
            ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text(), ops.sentences()
        )
        started = time.perf_counter()
        async for sentence in rs.iterate(sentences):
            elapsed_ms = (time.perf_counter() - started) * 1000
            print(f"+{elapsed_ms:6.0f} ms  {sentence}")


if __name__ == "__main__":
    # Applications (not libraries) configure logging: keep rxstream's debug events quiet.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main())
