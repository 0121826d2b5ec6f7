"""parse: in-process decoding of a recorded stream to its final text, µs per chunk.

Clients: the rxstream pipeline (from_chunks → parse_sse → sse_json → openai_chat → text,
into a sink), the openai SDK's own decode path (its SSEDecoder + ChatCompletionChunk
models, as its AsyncStream does), httpx-sse + json, and the floor: a hand-written loop
splitting on blank lines and decoding with the fastest JSON library available.
"""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import Callable

from .._core import Context, Result, Target, have, median_seconds, ratio_target
from .._data import network_reads, random_pieces, recorded_events, text_of

NAME = "parse"


def rxstream_client(loop: asyncio.AbstractEventLoop) -> Callable[[list[bytes]], str]:
    import rxstream as rs
    from rxstream import operators as ops

    def decode(chunks: list[bytes]) -> str:
        parts: list[str] = []
        stream = rs.from_chunks(chunks).pipe(
            ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
        )
        loop.run_until_complete(rs.run(stream, parts.append))
        return "".join(parts)

    return decode


def openai_client(chunks: list[bytes]) -> str:
    from openai._models import construct_type
    from openai._streaming import SSEDecoder
    from openai.types.chat import ChatCompletionChunk

    parts = []
    for sse in SSEDecoder().iter_bytes(iter(chunks)):
        if sse.data.startswith("[DONE]"):
            break
        chunk = construct_type(type_=ChatCompletionChunk, value=sse.json())
        if chunk.choices and chunk.choices[0].delta.content:  # type: ignore[attr-defined]
            parts.append(chunk.choices[0].delta.content)  # type: ignore[attr-defined]
    return "".join(parts)


def httpx_sse_client(chunks: list[bytes]) -> str:
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text_decoder = codecs.getincrementaldecoder("utf-8")()
    lines, events = SSELineDecoder(), SSEDecoder()
    parts = []
    for chunk in chunks:
        for line in lines.decode(text_decoder.decode(chunk)):
            event = events.decode(line)
            if event is None:
                continue
            if event.data == "[DONE]":
                return "".join(parts)
            choices = json.loads(event.data)["choices"]
            if choices and choices[0]["delta"].get("content"):
                parts.append(choices[0]["delta"]["content"])
    return "".join(parts)


def floor_client(chunks: list[bytes]) -> str:
    loads = _fastest_loads()
    buffer = b""
    parts = []
    for chunk in chunks:
        buffer += chunk
        *complete, buffer = buffer.split(b"\n\n")
        for event in complete:
            data = event[6:]
            if data == b"[DONE]":
                return "".join(parts)
            choices = loads(data)["choices"]
            if choices:
                content = choices[0]["delta"].get("content")
                if content:
                    parts.append(content)
    return "".join(parts)


def _fastest_loads() -> Callable[[bytes], dict]:  # type: ignore[type-arg]
    if have("orjson"):
        import orjson

        return orjson.loads  # type: ignore[no-any-return]
    import msgspec

    return msgspec.json.decode


def run(ctx: Context) -> list[Result]:
    tokens = 20_000 if ctx.quick else 200_000
    repeats = 1 if ctx.quick else 3
    events = recorded_events(tokens)
    expected = text_of(tokens)
    loop = asyncio.new_event_loop()
    clients: dict[str, Callable[[list[bytes]], str]] = {
        "rxstream": rxstream_client(loop),
        "floor": floor_client,
    }
    if have("openai"):
        clients["openai-sdk"] = openai_client
    else:
        ctx.notes.append("parse: openai not installed, its decode path was skipped")
    if have("httpx_sse"):
        clients["httpx-sse"] = httpx_sse_client
    else:
        ctx.notes.append("parse: httpx-sse not installed, skipped")
    results = []
    try:
        for case, chunks in (("reads", network_reads(events)), ("pieces", random_pieces(events))):
            for name, client in clients.items():
                if client(chunks) != expected:
                    raise AssertionError(f"parse: {name} decoded the wrong text")
                seconds = median_seconds(lambda c=client, ch=chunks: c(ch), repeats)
                results.append(
                    Result(NAME, case, name, "time per chunk", seconds / len(events) * 1e6, "µs")
                )
                ctx.advance(f"parse {case} {name}")
    finally:
        loop.close()
    return results


TARGETS: list[Target] = [
    ratio_target(
        NAME,
        "realistic reads: rxstream ≤ 2× the floor",
        {"case": "reads", "client": "rxstream"},
        {"case": "reads", "client": "floor"},
        at_most=2.0,
    ),
    ratio_target(
        NAME,
        "realistic reads: rxstream ≥ 15× faster than the openai SDK",
        {"case": "reads", "client": "openai-sdk"},
        {"case": "reads", "client": "rxstream"},
        at_least=15.0,
    ),
    ratio_target(
        NAME,
        "1-64 byte pieces: rxstream ≤ 2× the floor",
        {"case": "pieces", "client": "rxstream"},
        {"case": "pieces", "client": "floor"},
        at_most=2.0,
    ),
]
STEPS = 8
