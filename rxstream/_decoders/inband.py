"""Recognise error payloads that providers send inside an otherwise healthy stream."""

from __future__ import annotations

from typing import Any

import msgspec

from ..errors import ProviderError


def provider_error(payload: Any) -> ProviderError | None:
    """Return a ``ProviderError`` if ``payload`` is an in-band error object, else ``None``.

    Understands OpenAI's ``{"error": {"message", "type"}}``, Anthropic's
    ``{"type": "error", "error": {...}}``, the Responses API's flat
    ``{"type": "error", "code", "message"}`` and Ollama's ``{"error": "text"}``.
    """
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if error is None:
        if payload.get("type") == "error":
            kind = payload.get("code") or payload.get("status")
            return ProviderError(
                str(payload.get("message") or payload), type=str(kind) if kind else None
            )
        return None
    if isinstance(error, str):
        return ProviderError(error)
    if isinstance(error, dict):
        message = error.get("message")
        kind = error.get("type") or error.get("status") or error.get("code")
        return ProviderError(
            str(message) if message is not None else str(error),
            type=str(kind) if kind is not None else None,
        )
    return ProviderError(str(error))


def error_event(data: str) -> ProviderError:
    """The ``ProviderError`` for an SSE ``event: error`` whose data may or may not be JSON."""
    try:
        payload = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return ProviderError(data)
    return provider_error(payload) or ProviderError(data)
