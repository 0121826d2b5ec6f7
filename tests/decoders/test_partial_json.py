"""The incremental JSON decoders: whole, at every split, and against json.loads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rxstream._convert import converter
from rxstream._decoders.partial_json import (
    JSONItemsDecoder,
    JSONResultDecoder,
    PartialJSONDecoder,
)
from rxstream.errors import EventTooLarge, ParseError, SchemaError

from ..helpers import random_chunks

CORPUS = [
    "{}",
    "[]",
    '""',
    "0",
    "-0",
    "12345678901234567890",
    "-1.5e-7",
    "6.02E+23",
    "1e400",
    "true",
    "null",
    ' \n\t{"a" : 1 , "b":[ ] }\r\n',
    '{"nested": {"deeper": {"deepest": [[[]], [{}], {"x": [1, [2, [3]]]}]}}}',
    '{"esc": "quote \\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t", "u": "\\u00e9\\u4e2d"}',
    '{"emoji": "\\ud83d\\ude00 and \\uD83C\\uDF89", "lone": "\\ud800x", "low": "\\udc00"}',
    '{"raw unicode": "ünïcødé 中文 😀", "keys can be long": "and \\"quoted\\""}',
    "[1, -2, 3.25, 0.5e1, -0.0, 1E2, 100, 2e-3, true, false, null]",
    '{"items": [{"name": "a", "price": 1.5}, {"name": "b", "price": 2}], "total": 3.5}',
    '{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": [1, 2, {"i": "j"}]}}}}}}}}',
    "[" * 200 + "]" * 200,
    '{"long": "' + "x" * 3000 + '", "after": [' + ",".join(str(n) for n in range(300)) + "]}",
    '"\\u0041\\u0062c\\ud834\\udd1e"',
]


def fragments(text: str, seed: int | None) -> list[str]:
    """``text`` whole (seed None), or cut at seeded random points (1–9 characters)."""
    return [text] if seed is None else random_chunks(text, seed, max_size=9)


CUTS: list[Any] = [None, 0, 1, 2, 3, 4]


def snapshots(pieces: list[str], **options: Any) -> list[Any]:
    decoder = PartialJSONDecoder(**options)
    seen = []
    for piece in pieces:
        seen += [copy.deepcopy(s) for s in decoder.feed(piece)]  # they are live values
    seen += [copy.deepcopy(s) for s in decoder.flush()]
    return seen


def consistent(snapshot: Any, final: Any, *, partial_strings: bool = True) -> bool:
    """Whether ``snapshot`` can be a moment on the way to ``final``."""
    if isinstance(final, dict):
        if not isinstance(snapshot, dict):
            return False
        keys, final_keys = list(snapshot), list(final)
        if keys != final_keys[: len(keys)]:
            return False  # keys in order, never one that is not in the final value
        return all(
            snapshot[k] == final[k]
            if n < len(keys) - 1
            else consistent(snapshot[k], final[k], partial_strings=partial_strings)
            for n, k in enumerate(keys)
        )
    if isinstance(final, list):
        if not isinstance(snapshot, list) or len(snapshot) > len(final):
            return False
        return all(
            snapshot[n] == final[n]
            if n < len(snapshot) - 1
            else consistent(snapshot[n], final[n], partial_strings=partial_strings)
            for n in range(len(snapshot))
        )
    if isinstance(final, str) and partial_strings:
        return isinstance(snapshot, str) and final.startswith(snapshot)
    return type(snapshot) is type(final) and snapshot == final


@pytest.mark.parametrize("doc", CORPUS, ids=range(len(CORPUS)))
@pytest.mark.parametrize("cut", [*CUTS, "chars"])
@pytest.mark.parametrize("partial_strings", [True, False])
def test_every_snapshot_is_consistent_and_the_last_is_json_loads(
    doc: str, cut: Any, partial_strings: bool
) -> None:
    pieces = list(doc) if cut == "chars" else fragments(doc, cut)
    seen = snapshots(pieces, partial_strings=partial_strings)
    final = json.loads(doc)
    assert seen[-1] == final
    assert type(seen[-1]) is type(final)
    for snapshot in seen:
        assert consistent(snapshot, final, partial_strings=partial_strings), snapshot
    if not partial_strings:  # no open string is ever shown
        assert all(consistent(s, final, partial_strings=False) for s in seen)


def test_numbers_and_literals_appear_only_when_complete() -> None:
    seen = snapshots(list('{"n": 123, "t": true, "f": -4.5e1}'))
    assert {"n": 12} not in seen
    assert {"n": 1} not in seen
    assert {"n": 123} in seen
    assert not any(s.get("t") not in (None, True) for s in seen)
    assert seen[-1] == {"n": 123, "t": True, "f": -45.0}


def test_an_open_string_shows_its_prefix_unless_asked_not_to() -> None:
    assert snapshots(['{"a": "hel', 'lo"}']) == [{"a": "hel"}, {"a": "hello"}]
    assert snapshots(['{"a": "hel', 'lo"}'], partial_strings=False) == [{}, {"a": "hello"}]


def test_one_snapshot_per_fragment_that_changed_the_value() -> None:
    # whitespace, a key in progress, a number in progress: nothing visible changed
    assert snapshots(["{", "   ", '"ke', 'y": 4', "2", "}"]) == [{}, {"key": 42}]


def test_a_snapshot_is_the_live_value() -> None:
    decoder = PartialJSONDecoder()
    first = decoder.feed('{"a": [1, ')[0]
    later = decoder.feed("2]}")[0]
    assert first is later == {"a": [1, 2]}


@pytest.mark.parametrize(
    "doc",
    ['"\\ud83d\\ude00"', '"a\\u00e9b"', '"x\\\\\\"y"', '"\\ud83d\\ud83d\\ude00"', '"\\ud83dz"'],
)
def test_escapes_and_surrogate_pairs_split_anywhere_decode_exactly(doc: str) -> None:
    for cut in range(1, len(doc)):
        seen = snapshots([doc[:cut], doc[cut:]])
        assert seen[-1] == json.loads(doc)
        assert all(json.loads(doc).startswith(s) for s in seen)


@pytest.mark.parametrize(
    "doc",
    [
        '```json\n{"a": [1]}\n```',
        '```\n{"a": [1]}\n```\n',
        '  \n```json  \r\n{"a": [1]}```',
        '{"a": [1]}\n\n',
    ],
)
def test_a_markdown_fence_and_whitespace_around_the_value_are_accepted(doc: str) -> None:
    for pieces in (list(doc), [doc]):
        assert snapshots(pieces)[-1] == {"a": [1]}


@pytest.mark.parametrize(
    ("doc", "position"),
    [
        ('{"a": 1} x', 9),
        ("{'a': 1}", 1),
        ('{"a" 1}', 5),
        ("[1, 2,]", 6),
        ('{"a": tru}', 6),
        ('{"a": 01}', 6),
        ("Sure! Here is the JSON: {}", 0),
        ('"tab\tinside"', 4),
        ('"bad \\x escape"', 6),
        ("```json {}", 0),
    ],
)
def test_non_json_is_a_parse_error_with_its_position(doc: str, position: int) -> None:
    for pieces in (list(doc), [doc]):
        with pytest.raises(ParseError) as info:
            snapshots(pieces)
        assert info.value.position is not None
        assert abs(info.value.position - position) <= 2, info.value


def test_a_document_cut_short_is_a_parse_error_after_the_snapshots() -> None:
    decoder = PartialJSONDecoder()
    assert decoder.feed('{"a": [1, 2') == [{"a": [1]}]
    with pytest.raises(ParseError, match="unfinished"):
        decoder.flush()
    with pytest.raises(ParseError, match="no JSON value"):
        PartialJSONDecoder().flush()


def test_max_chars_counts_the_whole_text() -> None:
    decoder = PartialJSONDecoder(max_chars=10)
    decoder.feed('["abcd",')
    with pytest.raises(EventTooLarge) as info:
        decoder.feed('"efgh"]')
    assert info.value.limit == 10


# -- json_items ------------------------------------------------------------------------


def items(doc: Any, path: tuple[str, ...], pieces: list[str], target: Any = None) -> list[Any]:
    decoder = JSONItemsDecoder(path, converter(target))
    out = []
    for piece in pieces:
        out += decoder.feed(piece)
    return out + decoder.flush()


ITEM_DOCS = [
    ('[{"n": 1}, "two", 3, [4, [5]], null, {"six": {"seven": [8]}}]', ()),
    (
        '{"meta": {"items": 1}, "data": {"items": [1, {"a": "}]"}, "x"], "after": [9]}}',
        ("data", "items"),
    ),
    ("[]", ()),
    ('{"items": []}', ("items",)),
]


@pytest.mark.parametrize(("doc", "path"), ITEM_DOCS)
@pytest.mark.parametrize("cut", [*CUTS, "chars"])
def test_items_come_out_exactly_once_whatever_the_chunking(
    doc: str, path: tuple[str, ...], cut: Any
) -> None:
    expected = json.loads(doc)
    for key in path:
        expected = expected[key]
    pieces = list(doc) if cut == "chars" else fragments(doc, cut)
    assert items(doc, path, pieces) == expected


def test_each_item_comes_out_with_the_character_that_closes_it() -> None:
    doc = '{"r": [{"a": [1, 2]}, "s", 30, true]}'
    decoder = JSONItemsDecoder(("r",), converter(None))
    when = {}
    for position, char in enumerate(doc):
        for item in decoder.feed(char):
            when[json.dumps(item)] = position
    assert decoder.flush() == []
    # an object/array/string: its closing character; a number or literal: its delimiter
    assert when == {
        '{"a": [1, 2]}': doc.index("}"),
        '"s"': doc.index('"s"') + 2,
        "30": doc.index("30") + 2,
        "true": doc.index("true") + 4,
    }


def test_no_array_at_the_path_is_a_schema_error() -> None:
    with pytest.raises(SchemaError) as info:
        items(None, ("data", "items"), ['{"data": {"other": []}}'])
    assert info.value.path == "$.data.items"
    with pytest.raises(SchemaError, match="got an object"):
        items(None, ("data",), ['{"data": {"items": []}}'])


def test_items_are_converted_and_a_mismatch_names_its_path() -> None:
    import msgspec

    class Item(msgspec.Struct):
        name: str
        price: float

    doc = '{"items": [{"name": "a", "price": 1}, {"name": "b", "price": "free"}]}'
    decoder = JSONItemsDecoder(("items",), converter(Item))
    delivered: list[Any] = []
    with pytest.raises(SchemaError) as info:
        for char in doc:
            delivered += decoder.feed(char)
    assert delivered == [Item("a", 1.0)]  # the items before it were delivered
    assert info.value.path == "$.items[1].price"
    assert "Expected `float`" in info.value.message


def test_a_result_is_converted_at_the_end_and_trailing_garbage_gives_no_value() -> None:
    from dataclasses import dataclass

    @dataclass
    class Answer:
        city: str
        days: int

    decoder = JSONResultDecoder(converter(Answer))
    assert decoder.feed('{"city": "Oslo",') == []
    assert decoder.feed(' "days": 3}') == []
    assert decoder.flush() == [Answer("Oslo", 3)]
    garbage = JSONResultDecoder(converter(None))
    with pytest.raises(ParseError):
        garbage.feed('{"a": 1} and more')
    with pytest.raises(SchemaError) as info:
        bad = JSONResultDecoder(converter(Answer))
        bad.feed('{"city": "Oslo"}')
        bad.flush()
    assert info.value.path == "$"


def test_pydantic_models_are_validated_with_their_path() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Row(pydantic.BaseModel):
        name: str
        tags: list[int]

    decoder = JSONItemsDecoder((), converter(Row))
    assert decoder.feed('[{"name": "a", "tags": [1]}, ') == [Row(name="a", tags=[1])]
    with pytest.raises(SchemaError) as info:
        decoder.feed('{"name": "b", "tags": [1, "x"]}]')
    assert info.value.path == "$[1].tags[1]"


# -- properties --------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    value=json_values,
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2]),
    cuts=st.lists(st.integers(min_value=1, max_value=12), max_size=60),
)
def test_any_json_at_any_chunking_gives_json_loads(
    value: Any, ensure_ascii: bool, indent: int | None, cuts: list[int]
) -> None:
    doc = json.dumps(value, ensure_ascii=ensure_ascii, indent=indent)
    pieces, i = [], 0
    for step in cuts:
        pieces.append(doc[i : i + step])
        i += step
    pieces.append(doc[i:])
    seen = snapshots(pieces)
    final = json.loads(doc)
    assert seen[-1] == final
    assert all(consistent(s, final) for s in seen)
    if isinstance(final, list):
        assert items(doc, (), pieces) == final
