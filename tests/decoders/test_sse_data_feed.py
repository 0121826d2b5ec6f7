"""``SSEDataFeed`` (``parse_sse`` and ``openai_chat`` planned as one decoder) gives what
the two give as separate stages: outputs, completion, errors and their partial text —
for any mix of SSE lines and any chunking."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
import reactivex
from hypothesis import given, settings
from hypothesis import strategies as st
from reactivex import Observable
from reactivex import operators as rx_ops

from rxstream import operators as ops
from rxstream._decoders import PartialFeed
from rxstream._decoders.openai_chat import OpenAIChatDecoder
from rxstream._decoders.sse import SSEDataFeed, SSEDecoder
from rxstream.errors import ParseError
from rxstream.operators._adapter import _planned

from ..helpers import random_chunks


def chunk(content: str, finish: str | None = None) -> str:
    body = {"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]}
    return msgspec.json.encode(body).decode()


EVENTS = st.one_of(
    st.text("abc .", min_size=1, max_size=6).map(lambda t: f"data: {chunk(t)}\n\n"),
    st.just(f"data: {chunk('end.', 'stop')}\n\n"),
    st.just("data: [DONE]\n\n"),
    st.just(": ping\n\n"),
    st.just("id: 7\n"),
    st.just("event: error\ndata: overloaded\n\n"),
    st.just("data: {broken\n\n"),
    st.just('data: {"error": {"message": "busy", "type": "server_error"}}\n\n'),
    st.just(f"data:{chunk('tight')}\r\n\r\n"),  # no space after the colon, CRLF
    st.just(f"data: {chunk('two')}\ndata: \n\n"),  # two data lines: not a chunk
)


def outcome(stream: Observable[Any]) -> tuple[list[Any], str | None, str | None]:
    items: list[Any] = []
    errors: list[Exception] = []
    stream.subscribe(items.append, errors.append)
    error = errors[0] if errors else None
    return items, type(error).__name__ if error else None, getattr(error, "partial_text", None)


def pipeline(chunks: list[bytes], *, text: bool, apart: bool) -> Observable[Any]:
    stream: Observable[Any] = reactivex.from_iterable(chunks).pipe(ops.parse_sse())
    if apart:
        stream = stream.pipe(rx_ops.map(lambda event: event))  # an Rx hop: two stages
    stream = stream.pipe(ops.openai_chat())
    return stream.pipe(ops.text()) if text else stream


@settings(max_examples=300, deadline=None)
@given(events=st.lists(EVENTS, max_size=12), seed=st.integers(0, 1000), text=st.booleans())
def test_fed_as_data_equals_sse_events_then_chat(events: list[str], seed: int, text: bool) -> None:
    data = "".join(events).encode()
    for chunks in ([data], random_chunks(data, seed, max_size=40)):
        fused = pipeline(chunks, text=text, apart=False)
        assert _planned(fused._stages)[0].name.startswith("parse_sse+")
        assert outcome(fused) == outcome(pipeline(chunks, text=text, apart=True))


def test_outputs_before_a_failure_in_the_same_read_come_with_it() -> None:
    fused = SSEDataFeed(SSEDecoder(), OpenAIChatDecoder(text_choice=0))
    read = f"data: {chunk('kept ')}\n\ndata: {{broken\n\n".encode()
    with pytest.raises(PartialFeed) as raised:
        fused.feed(read)
    assert raised.value.outputs == ["kept "]
    assert isinstance(raised.value.error, ParseError)
