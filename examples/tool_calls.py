"""Tool calls and usage: fold deltas into a Completion and read the assembled calls.

The mock answers a request that offers tools with parallel tool calls whose JSON
arguments arrive in interleaved fragments; ``accumulate()`` puts them back together.
``python examples/tool_calls.py``
"""

import asyncio
import logging

import structlog
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    },
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
]


async def main() -> None:
    config = MockConfig(tool_arguments={"get_weather": {"city": "Lisbon"}})
    async with MockServer(config) as server:
        request = {
            "model": "mock-gpt",
            "messages": [{"role": "user", "content": "Weather and time in Lisbon?"}],
            "stream": True,
            "stream_options": {"include_usage": True},
            "tools": TOOLS,
        }
        final = rs.from_http(server.chat_url, json=request).pipe(
            ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.accumulate(), rx_ops.last()
        )
        (completion,) = await rs.collect(final)
        for call in completion.tool_calls:
            print(f"{call.name}({call.arguments})  id={call.id}")
        print("finish reason:", completion.finish_reason)
        print("usage:", completion.usage)


if __name__ == "__main__":
    # Applications (not libraries) configure logging: keep rxstream's debug events quiet.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main())
