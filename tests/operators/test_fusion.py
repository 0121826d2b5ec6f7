"""Fused decoder chains behave exactly like the same operators applied one by one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import reactivex
from reactivex import Observable
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream import operators as ops
from rxstream.operators._adapter import DecodedObservable

from ..helpers import chunkings


def chunk(content: str | None = None, finish: str | None = None, index: int = 0) -> bytes:
    delta = {"content": content} if content is not None else {}
    body = {"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}
    import msgspec

    return b"data: " + msgspec.json.encode(body) + b"\n\n"


STREAMS = {
    "complete": chunk("Hel")
    + chunk("lo.")
    + chunk(" Bye.")
    + chunk(finish="stop")
    + b"data: [DONE]\n\n",
    "after_done_ignored": chunk("a", finish="stop") + b"data: [DONE]\n\n" + chunk("never"),
    "truncated": chunk("cut ") + chunk("off"),
    "finish_no_done": chunk("ok.", finish="stop"),
    "malformed": chunk("good. ") + b"data: {nope\n\n" + chunk("later"),
    "provider_error": chunk("part. ")
    + b'data: {"error": {"message": "x", "type": "server_error"}}\n\n',
    "error_event": chunk("a. ") + b"event: error\ndata: overloaded\n\n",
    "too_large": chunk("a. ") + b"data: " + b"x" * 5000 + b"\n\n",
    "two_choices": chunk("A. ", index=0)
    + chunk("B. ", index=1)
    + chunk(finish="stop")
    + chunk(finish="stop", index=1)
    + b"data: [DONE]\n\n",
}

PIPELINES = {
    "sse_json_openai_text": [
        lambda: ops.parse_sse(max_event_bytes=4096),
        ops.sse_json,
        ops.openai_chat,
        ops.text,
    ],
    "openai_accumulate": [
        lambda: ops.parse_sse(max_event_bytes=4096),
        ops.openai_chat,
        ops.accumulate,
    ],
    "text_sentences": [
        lambda: ops.parse_sse(max_event_bytes=4096),
        ops.sse_json,
        ops.openai_chat,
        ops.text,
        ops.sentences,
    ],
    "all_choices_words": [
        lambda: ops.parse_sse(max_event_bytes=4096),
        ops.openai_chat,
        lambda: ops.text(None),
        ops.words,
    ],
}


def outcome(stream: Observable[Any]) -> tuple[list[Any], str | None]:
    items: list[Any] = []
    errors: list[Exception] = []
    stream.subscribe(items.append, errors.append)
    return items, (type(errors[0]).__name__ if errors else None)


def build(chunks: list[bytes], factories: list[Any], *, fused: bool) -> Observable[Any]:
    stream: Observable[Any] = reactivex.from_iterable(chunks)
    for make in factories:
        stream = stream.pipe(make())
        if not fused:
            stream = stream.pipe(rx_ops.map(lambda x: x))  # a plain Rx hop breaks fusion
    return stream


@pytest.mark.parametrize("pipeline", PIPELINES)
@pytest.mark.parametrize("name", STREAMS)
def test_fused_equals_unfused_at_every_chunking(pipeline: str, name: str) -> None:
    factories = PIPELINES[pipeline]
    for label, chunks in chunkings(STREAMS[name]):
        fused = build(chunks, factories, fused=True)
        assert isinstance(fused, DecodedObservable)
        assert outcome(fused) == outcome(build(chunks, factories, fused=False)), label


def test_done_stops_reading_upstream_in_a_fused_chain() -> None:
    pulled: list[bytes] = []
    chunks = [chunk("a", finish="stop"), b"data: [DONE]\n\n", chunk("b"), chunk("c")]
    source = reactivex.from_iterable(chunks).pipe(rx_ops.do_action(pulled.append))
    items, error = outcome(
        source.pipe(ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text())
    )
    assert (items, error) == (["a"], None)
    assert len(pulled) == 2  # nothing after [DONE] was read


def test_absorbed_chain_treats_done_without_finish_reason_as_unfused() -> None:
    # [DONE] without a finish_reason: StreamInterrupted, as it is when an operator sits
    # between sse_json() and openai_chat() (which then cannot see [DONE] at all).
    data = chunk("partial but done") + b"data: [DONE]\n\n"
    items, error = outcome(
        reactivex.of(data).pipe(ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text())
    )
    assert (items, error) == (["partial but done"], "StreamInterrupted")


# Over a task source (from_http, from_async_iterable …) a fused chain is subscribed with
# the subscriber's own callables, no reactivex wrapper in between: the chain itself must
# then keep the observer contract, even inside one batch of events from a single read.

ONE_READ = chunk("a") + chunk("b") + chunk("c", finish="stop") + b"data: [DONE]\n\n"


async def one_read() -> Any:
    yield ONE_READ


async def test_dispose_inside_a_batch_stops_it_and_nothing_follows() -> None:
    seen: list[Any] = []
    subscription: Any = None

    def on_next(text: str) -> None:
        seen.append(text)
        subscription.dispose()  # the subscriber leaves at the first of three items

    stream = rs.from_async_iterable(one_read()).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )
    subscription = stream.subscribe(
        on_next, lambda e: seen.append(("error", e)), lambda: seen.append("completed")
    )
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == ["a"]  # not "b", "c", nor the completion [DONE] would have brought


async def test_a_failing_subscriber_ends_the_stream_with_its_error_once() -> None:
    seen: list[Any] = []

    def on_next(text: str) -> None:
        seen.append(text)
        raise ValueError("subscriber bug")

    stream = rs.from_async_iterable(one_read()).pipe(ops.parse_sse(), ops.openai_chat(), ops.text())
    stream.subscribe(on_next, lambda e: seen.append(e), lambda: seen.append("completed"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen[0] == "a"
    assert len(seen) == 2, seen  # the error once, no completion
    assert isinstance(seen[1], ValueError)


async def test_directly_subscribed_chain_delivers_like_reactivex() -> None:
    direct = rs.from_async_iterable(one_read()).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )
    assert (
        await rs.collect(direct)
        == outcome(
            reactivex.of(ONE_READ).pipe(
                ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
            )
        )[0]
    )


@pytest.mark.parametrize(
    "body",
    [
        chunk("Hello there", finish="stop") + b"data: [DONE]\n\n",  # held until completion
        chunk("Hello there"),  # no finish_reason: held, then StreamInterrupted at the end
    ],
    ids=["then-completion", "then-error"],
)
async def test_dispose_on_an_item_flushed_at_the_end_gets_no_ending(body: bytes) -> None:
    async def answer() -> Any:
        yield body

    seen: list[Any] = []
    subscription: Any = None

    def on_next(text: str) -> None:
        seen.append(text)
        subscription.dispose()

    stream = rs.from_async_iterable(answer()).pipe(
        ops.parse_sse(), ops.openai_chat(), ops.text(), ops.sentences()
    )
    subscription = stream.subscribe(on_next, seen.append, lambda: seen.append("completed"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert seen == ["Hello there"]  # the held text, then nothing: the subscriber left
