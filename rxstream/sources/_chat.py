"""``rs.chat``: a ready pipeline per provider, with the safe defaults of RELIABILITY.md."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import aiohttp
import yarl
from reactivex import Observable

from .. import operators as ops
from .._redact import SENSITIVE_HEADERS, Secret
from .._retry import RetryPolicy
from ..models import Delta, Restart
from ..operators._resilience import fallback, hedge
from ..telemetry import chat_span
from ..typing import Operator
from ._http import from_http
from ._request import (
    Messages,
    Options,
    anthropic_body,
    gemini_body,
    ollama_body,
    openai_body,
    responses_body,
)

Provider = Literal["openai", "openai_responses", "anthropic", "ollama", "gemini"]
DEFAULT_FIRST: Final = 120.0
DEFAULT_IDLE: Final = 120.0
ANTHROPIC_VERSION: Final = "2023-06-01"


@dataclass(frozen=True, slots=True)
class _Spec:
    base_url: str
    base_env: str
    key_envs: tuple[str, ...]
    request: Callable[[str, str, Messages, Options], tuple[str, dict[str, Any]]]
    auth: Callable[[Secret], dict[str, str | Secret]]
    parse: Callable[[], list[Operator[Any, Any]]]


def _openai_request(
    root: str, model: str, messages: Messages, options: Options
) -> tuple[str, dict[str, Any]]:
    body = openai_body(model, messages, options)
    body |= {"stream": True, "stream_options": {"include_usage": True}}
    return f"{root}/chat/completions", body


def _responses_request(
    root: str, model: str, messages: Messages, options: Options
) -> tuple[str, dict[str, Any]]:
    return f"{root}/responses", responses_body(model, messages, options) | {"stream": True}


def _anthropic_request(
    root: str, model: str, messages: Messages, options: Options
) -> tuple[str, dict[str, Any]]:
    return f"{root}/messages", anthropic_body(model, messages, options) | {"stream": True}


def _ollama_request(
    root: str, model: str, messages: Messages, options: Options
) -> tuple[str, dict[str, Any]]:
    return f"{root}/api/chat", ollama_body(model, messages, options) | {"stream": True}


def _gemini_request(
    root: str, model: str, messages: Messages, options: Options
) -> tuple[str, dict[str, Any]]:
    body = gemini_body(model, messages, options)
    return f"{root}/models/{model}:streamGenerateContent?alt=sse", body


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
FALLBACK_KEYS: Final = frozenset({"provider", "model", "base_url", "api_key", "params"})


def chat(
    messages: Iterable[Mapping[str, Any]],
    *,
    model: str,
    provider: Provider = "openai",
    base_url: str | None = None,
    api_key: str | Secret | None = None,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: Any = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    stop: str | list[str] | None = None,
    response_format: dict[str, Any] | None = None,
    fallbacks: Iterable[Mapping[str, Any]] | None = None,
    hedge_after: float | None = None,
    retry: RetryPolicy | None = RetryPolicy(),  # noqa: B008 - frozen, so safe to share
    first: float | None = DEFAULT_FIRST,
    idle: float | None = DEFAULT_IDLE,
    total: float | None = None,
    session: aiohttp.ClientSession | None = None,
    headers: Mapping[str, str] | None = None,
    **params: Any,
) -> Observable[Delta | Restart]:
    """Stream a chat answer from any supported provider as the shared delta events.

    One request model for every provider: ``messages`` (system, user, assistant with
    ``tool_calls``, ``role="tool"`` results, text and image parts), ``tools``,
    ``tool_choice``, ``max_tokens``, ``temperature``, ``stop`` and ``response_format``
    are given in OpenAI Chat Completions form and translated for each provider; what a
    provider cannot express is a ``ValueError`` here, never silently dropped. The
    pipeline is ``from_http → parse → provider operator → timeout(first, idle) →
    retry(retry)``, then ``timeout(total)``. Defaults never hang: connect 10 s, first
    event 120 s, idle gap 120 s, no total limit, 2 retries with backoff.

    Args:
        messages: The conversation, OpenAI style.
        model: The model name.
        provider: ``"openai"`` (Chat Completions), ``"openai_responses"``,
            ``"anthropic"``, ``"ollama"`` or ``"gemini"``.
        base_url: The API root; default from the provider's environment variable
            (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``, ``OLLAMA_HOST``,
            ``GEMINI_BASE_URL``) or its public endpoint.
        api_key: The key; default from ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY`` or
            ``GEMINI_API_KEY``/``GOOGLE_API_KEY`` (a local Ollama needs none). Held as a
            ``Secret``: never logged or shown in errors.
        tools: OpenAI function tools (``{"type": "function", "function": {...}}``).
        tool_choice: ``"auto"``, ``"none"``, ``"required"`` or a named function.
        max_tokens: The answer's length limit (Anthropic requires one: 4096 is sent
            when this is ``None``).
        temperature: Sampling temperature.
        stop: Stop sequence(s).
        response_format: ``{"type": "json_object"}`` or a ``json_schema`` format.
        fallbacks: Other providers to use when this one fails before its first item:
            dicts of ``provider``, ``model``, ``base_url``, ``api_key`` (each from the
            call when absent, but a key only ever from the dict or that provider's
            environment variable) and ``params`` (that provider's own extra fields).
            Each inherits the messages, request options, retry policy, timeouts and
            session, never the call's key or credential headers (``rs.fallback``).
        hedge_after: Start the first fallback when no event arrived after this many
            seconds; the first to answer wins (``rs.hedge``).
        retry: The retry policy; ``None`` disables retries.
        first: Seconds to the first event, per attempt (``None``: no limit).
        idle: Longest gap between events, per attempt (``None``: no limit).
        total: Seconds for the whole call including retries and fallbacks.
        session: An ``aiohttp.ClientSession`` to use instead of the loop's connection
            pool (``rs.connection_pool()``); left open.
        headers: Extra request headers.
        **params: Further request fields in the provider's own form, passed unchanged
            (to the primary provider only).
    """
    conversation = [dict(m) for m in messages]
    options = Options(tools, tool_choice, max_tokens, temperature, stop, response_format)

    def build(
        provider: str,
        model: str,
        base_url: str | None,
        api_key: str | Secret | None,
        headers: Mapping[str, str] | None,
        params: dict[str, Any],
    ) -> Observable[Any]:
        request = _Request(provider, model, base_url, api_key, headers, params)
        return _provider_pipeline(conversation, options, request, retry, first, idle, session)

    stream = build(provider, model, base_url, api_key, headers, params)
    others = []
    for spec in fallbacks or ():
        unknown = set(spec) - FALLBACK_KEYS
        if unknown:
            known = sorted(FALLBACK_KEYS)
            raise ValueError(f"unknown fallback keys {sorted(unknown)}; use {known}")
        other = spec.get("provider", provider)
        others.append(
            build(
                other,
                spec.get("model", model),
                spec.get("base_url") if "base_url" in spec or other != provider else base_url,
                spec.get("api_key"),  # never the call's key: it belongs to the primary
                _without_credentials(headers),
                dict(spec.get("params") or {}),
            )
        )
    if hedge_after is not None:
        if not others:
            raise ValueError("hedge_after needs a fallback to hedge with")
        stream = hedge(stream, others.pop(0), after=hedge_after)
    if others:
        stream = fallback(stream, *others)
    if total is not None:
        stream = stream.pipe(ops.timeout(total=total))
    primary = PROVIDERS[provider]
    root = yarl.URL(base_url or os.environ.get(primary.base_env) or primary.base_url)
    server = (root.host, root.port) if root.host and root.port else None
    span: Operator[Any, Any] = chat_span(
        model=model,
        provider=_SEMCONV_PROVIDERS.get(provider, provider),
        server=server,
        max_tokens=max_tokens,
        temperature=temperature,
    )
    return stream.pipe(span)


_SEMCONV_PROVIDERS: Final = {
    "openai_responses": "openai",
    "gemini": "gcp.gemini",
    "ollama": "ollama",
}
"""``gen_ai.provider.name`` values of the GenAI semantic conventions."""


@dataclass(frozen=True, slots=True)
class _Request:
    """Where one provider pipeline sends the conversation, and with what."""

    provider: str
    model: str
    base_url: str | None
    api_key: str | Secret | None
    headers: Mapping[str, str] | None
    params: dict[str, Any]


def _provider_pipeline(
    messages: Messages,
    options: Options,
    request: _Request,
    retry: RetryPolicy | None,
    first: float | None,
    idle: float | None,
    session: aiohttp.ClientSession | None,
) -> Observable[Any]:
    spec = PROVIDERS.get(request.provider)
    if spec is None:
        known = sorted(PROVIDERS)
        raise ValueError(f"provider must be one of {known}, got {request.provider!r}")
    root = (request.base_url or os.environ.get(spec.base_env) or spec.base_url).rstrip("/")
    key = request.api_key
    if key is None:
        key = next((os.environ[name] for name in spec.key_envs if os.environ.get(name)), None)
    request_headers: dict[str, str | Secret] = dict(request.headers or {})
    if key:
        request_headers |= spec.auth(key if isinstance(key, Secret) else Secret(key))
    url, body = spec.request(root, request.model, messages, options)
    stream: Observable[Any] = from_http(
        url, json=body | request.params, headers=request_headers, session=session
    )
    stream = stream.pipe(*spec.parse())
    if first is not None or idle is not None:
        stream = stream.pipe(ops.timeout(first=first, idle=idle))
    if retry is not None:
        stream = stream.pipe(ops.retry(retry))
    return stream


def _without_credentials(headers: Mapping[str, str] | None) -> dict[str, str]:
    """The call's extra headers minus credentials: a key goes only to its provider."""
    return {k: v for k, v in (headers or {}).items() if k.lower() not in SENSITIVE_HEADERS}
