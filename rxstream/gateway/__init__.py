"""An OpenAI-compatible endpoint in front of any provider.

``create_app(provider="anthropic")`` serves ``POST /v1/chat/completions`` (streamed and
not) and ``GET /v1/models`` to any OpenAI client; requests go through ``rs.chat``'s
request model, answers come back through ``rs.sinks.openai_sse``. No retries by
default (clients such as the openai SDK retry themselves, honouring the
``retry-after`` passed on; retries on both sides multiply upstream load).
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, Final

import msgspec
from aiohttp import web

from .. import operators as ops
from .._log import get_logger
from .._retry import RetryPolicy
from ..models import Completion
from ..sinks._core import collect
from ..sinks._openai import completion_id, error_response, openai_sse, usage_json
from ..sources._chat import DEFAULT_FIRST, DEFAULT_IDLE, PROVIDERS, chat
from ..telemetry import continue_trace

log = get_logger(__name__)

MAX_BODY_BYTES: Final = 4 * 1024 * 1024
"""The largest request body accepted (413 above it)."""
KEYS_ENV: Final = "RXSTREAM_GATEWAY_KEYS"
_SETTINGS: Final = web.AppKey("rxstream_gateway", dict)
_OPTION_FIELDS: Final = ("tools", "tool_choice", "temperature", "stop", "response_format")
_HANDLED_FIELDS: Final = frozenset(
    {"stream", "stream_options", "model", "messages", "user", "max_tokens",
     "max_completion_tokens", *_OPTION_FIELDS}
)  # fmt: skip
"""Request fields the gateway reads itself; the rest pass through to OpenAI upstreams."""


def create_app(
    *,
    provider: str = "openai",
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    client_keys: Iterable[str] | None = None,
    fallbacks: Iterable[Mapping[str, Any]] | None = None,
    retry: RetryPolicy | None = None,
    first: float | None = DEFAULT_FIRST,
    idle: float | None = DEFAULT_IDLE,
    total: float | None = None,
) -> web.Application:
    """The gateway as an aiohttp ``Application`` (run it with ``web.run_app``).

    Args:
        provider: The upstream provider (as ``rs.chat``'s ``provider``).
        model: The upstream model; ``None`` uses the model each client asks for.
        base_url: The upstream API root (default: the provider's environment/public one).
        api_key: The upstream key (default: the provider's environment variable). It
            never reaches a client.
        client_keys: Keys clients must send as ``Authorization: Bearer <key>`` (default
            from ``RXSTREAM_GATEWAY_KEYS``, comma-separated); none: open to whoever can
            reach it (bind it to 127.0.0.1).
        fallbacks: Other providers, as ``rs.chat(fallbacks=)``.
        retry, first, idle, total: As ``rs.chat``; no retries by default.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {sorted(PROVIDERS)}, got {provider!r}")
    keys = list(client_keys) if client_keys is not None else _env_keys()
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[_SETTINGS] = {
        "provider": provider,
        "model": model,
        "chat": {
            "provider": provider,
            "base_url": base_url,
            "api_key": api_key,
            "fallbacks": list(fallbacks or ()) or None,
            "retry": retry,
            "first": first,
            "idle": idle,
            "total": total,
        },
        "keys": [key.encode() for key in keys if key],
    }
    app.router.add_post("/v1/chat/completions", _completions)
    app.router.add_get("/v1/models", _models)
    return app


def _env_keys() -> list[str]:
    return [k.strip() for k in os.environ.get(KEYS_ENV, "").split(",") if k.strip()]


def _refused(request: web.Request) -> web.Response | None:
    """401 in OpenAI's shape unless the request carries one of the client keys."""
    keys: list[bytes] = request.app[_SETTINGS]["keys"]
    if not keys:
        return None
    sent = request.headers.get("Authorization", "")
    token = sent.removeprefix("Bearer ").strip().encode()
    if sent.startswith("Bearer ") and any(hmac.compare_digest(token, key) for key in keys):
        return None
    return _error(401, "Missing or invalid API key for this gateway.", "invalid_api_key")


def _error(
    status: int, message: str, code: str | None, kind: str = "invalid_request_error"
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "code": code}}
    return web.json_response(body, status=status)


async def _models(request: web.Request) -> web.Response:
    refused = _refused(request)
    if refused is not None:
        return refused
    settings = request.app[_SETTINGS]
    model = settings["model"] or "rxstream"
    return web.json_response(
        {
            "object": "list",
            "data": [
                {"id": model, "object": "model", "created": 0, "owned_by": settings["provider"]}
            ],
        }
    )


async def _completions(request: web.Request) -> web.StreamResponse:
    refused = _refused(request)
    if refused is not None:
        return refused
    settings = request.app[_SETTINGS]
    try:
        body = msgspec.json.decode(await request.read())
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.", None)
    except msgspec.DecodeError:
        return _error(400, "The request body is not JSON.", None)
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        return _error(400, "A chat completion request needs 'messages' (a list).", None)
    model = settings["model"] or body.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "A chat completion request needs 'model'.", None)
    options = {name: body[name] for name in _OPTION_FIELDS if body.get(name) is not None}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    extra = {k: v for k, v in body.items() if k not in _HANDLED_FIELDS}
    if extra and settings["provider"] != "openai":
        names = ", ".join(sorted(extra))
        return _error(400, f"Not supported for provider {settings['provider']}: {names}.", None)
    try:
        deltas = chat(body["messages"], model=model, **settings["chat"], **options, **extra)
        deltas = deltas.pipe(continue_trace(request.headers))
    except (ValueError, TypeError) as error:
        return _error(400, str(error), None)
    stream = bool(body.get("stream"))
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    log.info("gateway_request", model=model, stream=stream, provider=settings["provider"])
    if stream:
        return await openai_sse(request, deltas, model=model, include_usage=include_usage)
    try:
        final = (await collect(deltas.pipe(ops.accumulate())))[-1]
    except Exception as error:
        return error_response(error)
    return web.json_response(_completion_json(final, model))


def _completion_json(completion: Completion, model: str) -> dict[str, Any]:
    response_id = completion_id()
    choices = []
    for index, message in enumerate(completion.choices):
        tool_calls = [
            {
                "id": call.id or f"call_{response_id[9:21]}{n}",
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for n, call in enumerate(message.tool_calls, 1)
        ]
        reason = "tool_calls" if tool_calls else message.finish_reason
        choices.append(
            {
                "index": index,
                "message": {
                    "role": "assistant",
                    "content": message.text or (None if tool_calls else ""),
                    "refusal": message.refusal,
                    **({"tool_calls": tool_calls} if tool_calls else {}),
                },
                "finish_reason": reason,
                "logprobs": None,
            }
        )
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage_json(completion.usage),
    }


__all__ = ["MAX_BODY_BYTES", "create_app"]
