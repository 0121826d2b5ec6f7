"""Converting decoded JSON into the type a user asked for: msgspec, or pydantic models.

Pure (no Rx, no I/O). A mismatch is ``SchemaError`` with the path from the document's
root, whichever library found it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from .errors import SchemaError

Converter = Callable[[Any, str], Any]
"""``convert(value, where)``: ``where`` is the value's own path (``$.items[3]``)."""


def converter(target: Any) -> Converter:
    """A converter into ``target``: ``None`` keeps plain JSON values; a pydantic model
    (anything with ``model_validate``) validates through pydantic; everything else goes
    through ``msgspec.convert`` (Structs, dataclasses, TypedDicts, attrs, builtins)."""
    if target is None:
        return _unchanged
    validate = getattr(target, "model_validate", None)
    if isinstance(target, type) and callable(validate):
        return _pydantic(validate)

    def convert(value: Any, where: str) -> Any:
        try:
            return msgspec.convert(value, target)
        except msgspec.ValidationError as error:
            message, _, inner = str(error).partition(" - at `$")
            raise SchemaError(message, path=where + inner.rstrip("`")) from None

    return convert


def _unchanged(value: Any, where: str) -> Any:
    return value


def _pydantic(validate: Callable[[Any], Any]) -> Converter:
    def convert(value: Any, where: str) -> Any:
        try:
            return validate(value)
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            details = getattr(error, "errors", None)
            if not callable(details):
                raise
            first = details()[0] if details() else {}
            message = str(first.get("msg") or error)
            raise SchemaError(message, path=where + _location(first.get("loc", ()))) from None

    return convert


def _location(loc: Sequence[Any]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
