from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxstream._decoders.ndjson import NDJSONDecoder
from rxstream.errors import EventTooLarge, ParseError

from ..helpers import chunkings


def decode(chunks: list[bytes], **options: Any) -> list[Any]:
    decoder = NDJSONDecoder(**options)
    values: list[Any] = []
    for chunk in chunks:
        values += decoder.feed(chunk)
    return values + decoder.flush()


def test_values_at_every_chunking() -> None:
    data = b'{"a": 1}\n{"b": "\xc3\xa9"}\r\n\n   \n[1, 2]\n"last"'
    for name, chunks in chunkings(data):
        assert decode(chunks) == [{"a": 1}, {"b": "é"}, [1, 2], "last"], name


def test_malformed_line_raises_parse_error_with_stream_position() -> None:
    data = b'{"ok": true}\n{"broken": }\n'
    with pytest.raises(ParseError) as info:
        decode([data])
    # The bad byte is "}" at offset 11 of the second line, which starts at byte 13.
    assert info.value.position == 13 + 11
    assert '{"broken": }' in info.value.excerpt


def test_values_before_a_malformed_line_are_delivered() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"a": 1}\n') == [{"a": 1}]
    with pytest.raises(ParseError):
        decoder.feed(b"nope\n")


def test_line_over_limit_raises_event_too_large() -> None:
    with pytest.raises(EventTooLarge):
        decode([b"[" + b"1," * 100], max_line_bytes=50)
    with pytest.raises(EventTooLarge):
        decode([b'"' + b"x" * 100 + b'"\n'], max_line_bytes=50)


@given(
    st.lists(st.dictionaries(st.text(max_size=5), st.integers()), max_size=10), st.integers(1, 9)
)
def test_rechunking_never_changes_values(values: list[dict[str, int]], size: int) -> None:
    import msgspec

    data = b"".join(msgspec.json.encode(v) + b"\n" for v in values)
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    assert decode(chunks) == values
