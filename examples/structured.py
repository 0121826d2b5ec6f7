"""Structured output that streams: records as they close, and an object filling in live.

The embedded mock answers in JSON mode. ``ops.json_items("records", type=Record)``
prints each record the moment its closing brace arrives (with the time since the
request), long before the answer ends; ``ops.partial_json(interval=0.1)`` shows a
profile object filling in, as a form would, at most ten times a second.
``python examples/structured.py``
"""

import asyncio
import logging
import time

import msgspec
import structlog
from reactivex import Observable

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer


class Record(msgspec.Struct):
    id: int
    city: str
    population: int


RECORDS = [
    {"id": 1, "city": "Oslo", "population": 709037},
    {"id": 2, "city": "Bergen", "population": 291940},
    {"id": 3, "city": "Trondheim", "population": 214565},
    {"id": 4, "city": "Stavanger", "population": 149048},
]
PROFILE = {
    "name": "Ada Lovelace",
    "born": 1815,
    "known_for": ["the first published algorithm", "notes on the Analytical Engine"],
    "quote": "That brain of mine is something more than merely mortal; as time will show.",
}


def ask(server: MockServer, prompt: str) -> Observable[str]:
    """The answer's text, streamed (JSON mode)."""
    return rs.chat(
        [{"role": "user", "content": prompt}],
        model="mock-gpt",
        base_url=server.base_url,
        response_format={"type": "json_object"},
    ).pipe(ops.text())


async def main() -> None:
    records = msgspec.json.encode({"records": RECORDS}).decode()
    async with MockServer(MockConfig(text=records, tokens_per_second=60)) as server:
        started = time.perf_counter()
        print("records, each as soon as it closes:")
        items = ask(server, "cities").pipe(ops.json_items("records", type=Record))
        async for record in rs.iterate(items):
            print(f"  {time.perf_counter() - started:5.2f} s  {record}")
    profile = msgspec.json.encode(PROFILE).decode()
    async with MockServer(MockConfig(text=profile, tokens_per_second=60)) as server:
        print("a profile filling in (snapshots are live: encode one to keep it):")
        snapshots = ask(server, "profile").pipe(ops.partial_json(interval=0.1))
        async for snapshot in rs.iterate(snapshots):
            print("  " + msgspec.json.encode(snapshot).decode())


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    asyncio.run(main())
