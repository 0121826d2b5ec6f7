"""Quick start: stream an answer from the embedded mock and print it live.

Shows the basic pipeline (from_http → parse_sse → sse_json → openai_chat → text) and
a sink. Run it with ``python examples/quickstart.py``; no API key or network needed.
"""

import asyncio
import logging

import structlog

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockServer


async def main() -> None:
    async with MockServer() as server:
        request = {
            "model": "mock-gpt",
            "messages": [{"role": "user", "content": "Say hello"}],
            "stream": True,
        }
        text = rs.from_http(server.chat_url, json=request).pipe(
            ops.parse_sse(),  # bytes -> SSEEvent
            ops.sse_json(),  # SSEEvent -> dict, completes at [DONE]
            ops.openai_chat(),  # dict -> TextDelta / ToolCallDelta / FinishDelta / UsageDelta
            ops.text(),  # TextDelta -> str
        )
        await rs.run(text, rs.sinks.console())


if __name__ == "__main__":
    # Applications (not libraries) configure logging: keep rxstream's debug events quiet.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main())
