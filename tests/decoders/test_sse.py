"""The SSE decoder against the WHATWG event-stream rules, at every chunking."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxstream._decoders.sse import SSEDecoder
from rxstream.errors import EventTooLarge, ParseError
from rxstream.models import SSEEvent

from ..helpers import chunkings


def decode(chunks: list[bytes], **options: object) -> list[SSEEvent]:
    decoder = SSEDecoder(**options)  # type: ignore[arg-type]
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.flush()


def decode_all_ways(data: bytes, **options: object) -> list[SSEEvent]:
    """Decode ``data`` at every chunking and insist the results agree."""
    results = {name: decode(chunks, **options) for name, chunks in chunkings(data)}
    whole = results["whole"]
    for name, events in results.items():
        assert events == whole, f"chunking {name} differs"
    return whole


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings(newline: bytes) -> None:
    data = b"data: one" + newline + newline + b"data: two" + newline + newline
    assert decode_all_ways(data) == [SSEEvent("one"), SSEEvent("two")]


def test_mixed_line_endings_in_one_stream() -> None:
    data = b"data: a\r\ndata: b\rdata: c\n\r\n"
    assert decode_all_ways(data) == [SSEEvent("a\nb\nc")]


def test_cr_at_chunk_end_then_lf_is_one_line_end() -> None:
    # If CR and LF counted twice, the LF would dispatch an empty line: "a" then "b" apart.
    assert decode([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [SSEEvent("a\nb")]


def test_leading_bom_is_stripped_once() -> None:
    data = "\ufeffdata: x\n\n".encode()
    assert decode_all_ways(data) == [SSEEvent("x")]
    # A second BOM is not at the start of the stream: it is part of the field name.
    assert decode_all_ways("\ufeff\ufeffdata: x\n\n".encode()) == []


def test_comments_are_ignored() -> None:
    data = b": ping\n:another\ndata: x\n: mid-event comment\n\n"
    assert decode_all_ways(data) == [SSEEvent("x")]


def test_field_without_colon_uses_empty_value() -> None:
    # "data" alone appends an empty line; the event is dispatched with data "".
    assert decode_all_ways(b"data\n\n") == [SSEEvent("")]
    assert decode_all_ways(b"data\ndata\n\n") == [SSEEvent("\n")]


def test_exactly_one_space_after_colon_is_removed() -> None:
    data = b"data:no-space\n\ndata: one\n\ndata:  two\n\ndata:\tTab\n\n"
    assert [e.data for e in decode_all_ways(data)] == ["no-space", "one", " two", "\tTab"]


def test_multiline_data_is_joined_with_lf() -> None:
    data = b"data: first\ndata: second\ndata:\ndata: fourth\n\n"
    assert decode_all_ways(data) == [SSEEvent("first\nsecond\n\nfourth")]


def test_event_type_defaults_to_message_and_resets_after_dispatch() -> None:
    data = b"event: update\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n"
    assert [(e.event, e.data) for e in decode_all_ways(data)] == [
        ("update", "1"),
        ("message", "2"),
        ("message", "3"),
    ]


def test_event_type_set_without_data_does_not_leak_into_next_event() -> None:
    data = b"event: lonely\n\ndata: x\n\n"
    assert decode_all_ways(data) == [SSEEvent("x", event="message")]


def test_last_event_id_is_carried_to_later_events() -> None:
    data = b"id: 1\ndata: a\n\ndata: b\n\nid: 7\ndata: c\n\nid\ndata: d\n\n"
    assert [(e.data, e.id) for e in decode_all_ways(data)] == [
        ("a", "1"),
        ("b", "1"),
        ("c", "7"),
        ("d", ""),  # an empty id resets the last event id to "" (WHATWG), not None
    ]


def test_an_id_never_set_is_none_and_a_reset_id_is_empty() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [SSEEvent("a", id=None)]
    assert decoder.feed(b"id: 3\ndata: b\n\nid:\ndata: c\n\n") == [
        SSEEvent("b", id="3"),
        SSEEvent("c", id=""),
    ]
    assert decoder.last_event_id == ""


def test_id_with_null_is_ignored() -> None:
    data = b"id: good\ndata: a\n\nid: bad\x00id\ndata: b\n\n"
    assert [e.id for e in decode_all_ways(data)] == ["good", "good"]


def test_id_without_data_still_updates_last_event_id() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 42\n\n") == []
    assert decoder.last_event_id == "42"
    assert decoder.feed(b"data: x\n\n") == [SSEEvent("x", id="42")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"3000", 3000),
        (b"0", 0),
        (b"30s", None),
        (b"-1", None),
        (b" 1000", None),  # the space after the colon is removed, a second one is not
        (b"1.5", None),
        (b"", None),
        ("١٢٣".encode(), None),  # Arabic-Indic digits are digits, but not ASCII digits
    ],
)
def test_retry_accepts_only_ascii_digits(value: bytes, expected: int | None) -> None:
    events = decode_all_ways(b"retry: " + value + b"\ndata: x\n\n")
    assert events == [SSEEvent("x", retry=expected)]


def test_retry_stays_in_effect_and_invalid_values_do_not_reset_it() -> None:
    data = b"retry: 500\ndata: a\n\nretry: soon\ndata: b\n\n"
    assert [e.retry for e in decode_all_ways(data)] == [500, 500]


def test_unknown_fields_are_ignored() -> None:
    data = b"foo: bar\nDATA: shout\ndata: x\nEvent: y\n\n"
    assert decode_all_ways(data) == [SSEEvent("x")]


def test_event_with_no_data_is_not_dispatched() -> None:
    assert decode_all_ways(b"event: ping\n\n\n\nid: 3\n\n") == []


def test_incomplete_trailing_event_is_discarded() -> None:
    assert decode_all_ways(b"data: done\n\ndata: half") == [SSEEvent("done")]
    assert decode_all_ways(b"data: done\n\ndata: half\n") == [SSEEvent("done")]


def test_multibyte_utf8_split_across_chunks_decodes_exactly() -> None:
    data = "data: héllo 世界 🎉\n\n".encode()
    assert decode_all_ways(data) == [SSEEvent("héllo 世界 🎉")]


def test_invalid_utf8_becomes_replacement_character() -> None:
    data = b"data: a\xffb\xc3\n\n"
    assert decode_all_ways(data) == [SSEEvent("a\ufffdb\ufffd")]


def test_invalid_utf8_raises_parse_error_in_strict_mode() -> None:
    with pytest.raises(ParseError, match="Invalid UTF-8"):
        decode([b"data: a\xffb\n\n"], errors="strict")


def test_event_over_limit_raises_event_too_large() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    decoder.feed(b"data: " + b"x" * 60 + b"\n")
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(b"data: " + b"y" * 60 + b"\n")
    assert info.value.limit == 100


def test_unterminated_line_over_limit_raises_at_any_chunking() -> None:
    for size in (1, 7, 1000):
        decoder = SSEDecoder(max_event_bytes=1000)
        endless = b"data: " + b"z" * 5000
        with pytest.raises(EventTooLarge):
            for i in range(0, len(endless), size):
                decoder.feed(endless[i : i + size])


def test_limit_counts_utf8_bytes_not_characters() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    with pytest.raises(EventTooLarge):
        decoder.feed(("data: " + "世" * 40).encode())  # 40 chars, 120 bytes


def test_event_at_exactly_the_limit_is_accepted() -> None:
    payload = "x" * 99  # + 1 for the joining LF = 100
    assert decode([f"data: {payload}\n\n".encode()], max_event_bytes=100) == [SSEEvent(payload)]


def test_text_input_is_accepted() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("data: from str\n\n") == [SSEEvent("from str")]


def test_a_large_event_in_tiny_chunks_is_linear() -> None:
    # Quadratic buffering would make this take minutes; linear takes well under a second.
    data = b"data: " + b"a" * 200_000 + b"\n\n"
    events = decode([data[i : i + 3] for i in range(0, len(data), 3)])
    assert len(events[0].data) == 200_000


# -- properties ---------------------------------------------------------------------------

_field_lines = st.sampled_from(
    [
        b"data: x",
        b"data:",
        b"data",
        b"event: e",
        b"id: 1",
        b"id",
        b": c",
        b"retry: 10",
        b"data: \xc3\xa9",
        b"data: \xf0\x9f\x8e\x89",
        b"",
        b"bogus: 1",
        b"data: \xff",
    ]
)
_newlines = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def _streams(draw: st.DrawFn) -> bytes:
    parts = draw(st.lists(st.tuples(_field_lines, _newlines), max_size=40))
    return b"".join(line + nl for line, nl in parts)


@given(data=_streams(), cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30))
def test_any_rechunking_gives_identical_events(data: bytes, cuts: list[int]) -> None:
    points = sorted({c for c in cuts if c < len(data)} | {0, len(data)})
    chunks = [data[a:b] for a, b in itertools.pairwise(points)]
    assert decode(chunks) == decode([data])


@given(data=_streams())
def test_one_byte_chunks_give_identical_events(data: bytes) -> None:
    assert decode([data[i : i + 1] for i in range(len(data))]) == decode([data])
