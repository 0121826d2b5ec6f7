"""``rs.chat``: a ready pipeline per provider, with the safe defaults of RELIABILITY.md."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import aiohttp
from reactivex import Observable

from .. import operators as ops
from .._redact import Secret
from .._retry import RetryPolicy
from ..models import Delta, Restart
from ..typing import Operator
from ._http import from_http

Provider = Literal["openai", "openai_responses", "anthropic", "ollama", "gemini"]
DEFAULT_FIRST: Final = 120.0
DEFAULT_IDLE: Final = 120.0
ANTHROPIC_VERSION: Final = "2023-06-01"
Messages = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Spec:
    base_url: str
    base_env: str
    key_envs: tuple[str, ...]
    request: Callable[[str, str, Messages, dict[str, Any]], tuple[str, dict[str, Any]]]
    auth: Callable[[Secret], dict[str, str | Secret]]
    parse: Callable[[], list[Operator[Any, Any]]]


def _openai_request(
    root: str, model: str, messages: Messages, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    body = {
        "model": model,
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    return f"{root}/chat/completions", body | params


def _responses_request(
    root: str, model: str, messages: Messages, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    return f"{root}/responses", {"model": model, "input": messages, "stream": True} | params


def _anthropic_request(
    root: str, model: str, messages: Messages, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    # Anthropic takes the system prompt apart from the turns, and requires max_tokens.
    system = "\n\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
    turns = [m for m in messages if m.get("role") != "system"]
    body: dict[str, Any] = {"model": model, "messages": turns, "max_tokens": 1024, "stream": True}
    if system:
        body["system"] = system
    return f"{root}/messages", body | params


def _ollama_request(
    root: str, model: str, messages: Messages, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    return f"{root}/api/chat", {"model": model, "messages": messages, "stream": True} | params


def _gemini_request(
    root: str, model: str, messages: Messages, params: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    # Gemini's turns are "contents" with "user"/"model" roles and text parts.
    system = [{"text": str(m.get("content", ""))} for m in messages if m.get("role") == "system"]
    contents = [
        {
            "role": "model" if m.get("role") == "assistant" else "user",
            "parts": [{"text": str(m.get("content", ""))}],
        }
        for m in messages
        if m.get("role") != "system"
    ]
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    return f"{root}/models/{model}:streamGenerateContent?alt=sse", body | params


def _bearer(key: Secret) -> dict[str, str | Secret]:
    return {"Authorization": Secret(f"Bearer {key.reveal()}")}


PROVIDERS: Final[dict[str, _Spec]] = {
    "openai": _Spec(
        "https://api.openai.com/v1",
        "OPENAI_BASE_URL",
        ("OPENAI_API_KEY",),
        _openai_request,
        _bearer,
        lambda: [ops.parse_sse(), ops.sse_json(), ops.openai_chat()],
    ),
    "openai_responses": _Spec(
        "https://api.openai.com/v1",
        "OPENAI_BASE_URL",
        ("OPENAI_API_KEY",),
        _responses_request,
        _bearer,
        lambda: [ops.parse_sse(), ops.openai_responses()],
    ),
    "anthropic": _Spec(
        "https://api.anthropic.com/v1",
        "ANTHROPIC_BASE_URL",
        ("ANTHROPIC_API_KEY",),
        _anthropic_request,
        lambda key: {"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION},
        lambda: [ops.parse_sse(), ops.anthropic_messages()],
    ),
    "ollama": _Spec(
        "http://127.0.0.1:11434",
        "OLLAMA_HOST",
        (),
        _ollama_request,
        lambda key: {"Authorization": Secret(f"Bearer {key.reveal()}")},
        lambda: [ops.parse_ndjson(), ops.ollama_chat()],
    ),
    "gemini": _Spec(
        "https://generativelanguage.googleapis.com/v1beta",
        "GEMINI_BASE_URL",
        ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        _gemini_request,
        lambda key: {"x-goog-api-key": key},
        lambda: [ops.parse_sse(), ops.gemini()],
    ),
}


def chat(
    messages: Iterable[Mapping[str, Any]],
    *,
    model: str,
    provider: Provider = "openai",
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
    """Stream a chat answer from any supported provider as the shared delta events.

    Builds the provider's request (endpoint, auth header, payload shape, streaming flags
    such as ``stream_options.include_usage``), picks its parser, and applies retries and
    timeouts: ``from_http → parse → provider operator → timeout(first, idle) →
    retry(retry) → timeout(total)``. Defaults never hang: connect 10 s, first event
    120 s, idle gap 120 s, no total limit, 2 retries with backoff.

    Args:
        messages: The conversation as OpenAI-style ``{"role", "content"}`` messages
            (translated for Anthropic's ``system`` and Gemini's ``contents``).
        model: The model name.
        provider: ``"openai"`` (Chat Completions), ``"openai_responses"``,
            ``"anthropic"``, ``"ollama"`` or ``"gemini"``.
        base_url: The API root; default from the provider's environment variable
            (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``, ``OLLAMA_HOST``,
            ``GEMINI_BASE_URL``) or its public endpoint.
        api_key: The key; default from ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY`` or
            ``GEMINI_API_KEY``/``GOOGLE_API_KEY`` (a local Ollama needs none). Held as a
            ``Secret``: never logged or shown in errors.
        retry: The retry policy; ``None`` disables retries.
        first: Seconds to the first event, per attempt (``None``: no limit).
        idle: Longest gap between events, per attempt (``None``: no limit).
        total: Seconds for the whole call including retries (``None``: no limit).
        session: An ``aiohttp.ClientSession`` to use instead of the loop's connection
            pool (``rs.connection_pool()``); left open.
        headers: Extra request headers.
        **params: Further request fields (``temperature``, ``tools``, ``max_tokens`` …),
            in the provider's own format.
    """
    spec = PROVIDERS.get(provider)
    if spec is None:
        raise ValueError(f"provider must be one of {sorted(PROVIDERS)}, got {provider!r}")
    root = (base_url or os.environ.get(spec.base_env) or spec.base_url).rstrip("/")
    key = api_key
    if key is None:
        key = next((os.environ[name] for name in spec.key_envs if os.environ.get(name)), None)
    request_headers: dict[str, str | Secret] = dict(headers or {})
    if key:
        request_headers |= spec.auth(key if isinstance(key, Secret) else Secret(key))
    url, body = spec.request(root, model, [dict(m) for m in messages], params)
    stream: Observable[Any] = from_http(url, json=body, headers=request_headers, session=session)
    stream = stream.pipe(*spec.parse())
    if first is not None or idle is not None:
        stream = stream.pipe(ops.timeout(first=first, idle=idle))
    if retry is not None:
        stream = stream.pipe(ops.retry(retry))
    if total is not None:
        stream = stream.pipe(ops.timeout(total=total))
    return stream
