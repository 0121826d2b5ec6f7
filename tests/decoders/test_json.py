from __future__ import annotations

import pytest

from rxstream._decoders.inband import error_event, provider_error
from rxstream._decoders.json import loads
from rxstream.errors import ParseError


def test_malformed_json_reports_position_and_excerpt() -> None:
    with pytest.raises(ParseError) as info:
        loads('{"a": 1,, "b": 2}', offset=100)
    assert info.value.position == 108
    assert ",," in info.value.excerpt
    assert "byte 108" in str(info.value)


def test_excerpt_is_at_most_200_characters() -> None:
    with pytest.raises(ParseError) as info:
        loads("[" + "1," * 5000 + "x]")
    assert 0 < len(info.value.excerpt) <= 200


def test_deep_nesting_is_a_parse_error_not_recursion_error() -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        loads("[" * 100_000 + "]" * 100_000)
    assert loads("[[1]]") == [[1]]  # the decoder still works afterwards


@pytest.mark.parametrize(
    ("payload", "message", "kind"),
    [
        (
            {"error": {"message": "Overloaded", "type": "server_error"}},
            "Overloaded",
            "server_error",
        ),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}},
            "busy",
            "overloaded_error",
        ),
        ({"error": "model not found"}, "model not found", None),
    ],
)
def test_provider_error_shapes(payload: object, message: str, kind: str | None) -> None:
    error = provider_error(payload)
    assert error is not None
    assert (error.message, error.type) == (message, kind)
    assert message in str(error)


def test_non_error_payloads_are_not_errors() -> None:
    assert provider_error({"choices": []}) is None
    assert provider_error([1, 2]) is None


def test_error_event_with_plain_text_data() -> None:
    assert error_event("upstream exploded").message == "upstream exploded"


def test_flat_responses_api_error() -> None:
    error = provider_error({"type": "error", "code": "server_error", "message": "boom"})
    assert error is not None
    assert (error.message, error.type) == ("boom", "server_error")
