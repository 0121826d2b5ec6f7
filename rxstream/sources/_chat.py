"""``rs.chat``: a ready pipeline with the safe defaults of RELIABILITY.md."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Final

import aiohttp
from reactivex import Observable

from .. import operators as ops
from .._redact import Secret
from .._retry import RetryPolicy
from ..models import Delta, Restart
from ._http import from_http

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
DEFAULT_FIRST: Final = 120.0
DEFAULT_IDLE: Final = 120.0


def chat(
    messages: Iterable[Mapping[str, Any]],
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | Secret | None = None,
    retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen, so safe to share
    first: float | None = DEFAULT_FIRST,
    idle: float | None = DEFAULT_IDLE,
    total: float | None = None,
    session: aiohttp.ClientSession | None = None,
    headers: Mapping[str, str] | None = None,
    **params: Any,
) -> Observable[Delta | Restart]:
    """Stream a chat completion as delta events, with retries and timeouts built in.

    Composes ``from_http → parse_sse → sse_json → openai_chat → timeout(first, idle)
    → retry(retry) → timeout(total)`` against an OpenAI-compatible ``/chat/completions``
    endpoint, asking for the usage chunk. Defaults never hang: connect 10 s, first
    event 120 s, idle gap 120 s, no total limit, 2 retries with backoff.

    Args:
        messages: The conversation, as OpenAI chat messages.
        model: The model name.
        base_url: The API root (default ``$OPENAI_BASE_URL`` or OpenAI's).
        api_key: The key (default ``$OPENAI_API_KEY``); held as a ``Secret``, never
            logged or shown in errors.
        retry: The retry policy; ``None`` disables retries.
        first: Seconds to the first event, per attempt (``None``: no limit).
        idle: Longest gap between events, per attempt (``None``: no limit).
        total: Seconds for the whole call including retries (``None``: no limit).
        session: An ``aiohttp.ClientSession`` to reuse.
        headers: Extra request headers.
        **params: Further request fields (``temperature``, ``tools``, ``n`` …).
    """
    root = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
    request_headers: dict[str, str | Secret] = dict(headers or {})
    if key:
        secret = key if isinstance(key, Secret) else Secret(key)
        request_headers["Authorization"] = Secret(f"Bearer {secret.reveal()}")
    body = {
        "model": model,
        "messages": [dict(m) for m in messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        **params,
    }
    stream: Observable[Any] = from_http(
        f"{root}/chat/completions", json=body, headers=request_headers, session=session
    ).pipe(ops.parse_sse(), ops.sse_json(), ops.openai_chat())
    if first is not None or idle is not None:
        stream = stream.pipe(ops.timeout(first=first, idle=idle))
    if retry is not None:
        stream = stream.pipe(ops.retry(retry))
    if total is not None:
        stream = stream.pipe(ops.timeout(total=total))
    return stream
