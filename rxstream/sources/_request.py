"""One request model for every provider: OpenAI Chat Completions form in, each
provider's own request body out.

Messages (system, user, assistant with ``tool_calls``, ``role="tool"`` results, text
and image parts), tools, ``tool_choice``, ``max_tokens``, ``temperature``, ``stop`` and
``response_format`` are translated; a field a provider cannot express is a
``ValueError`` at call time, never silently dropped. Pure functions: no I/O.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

Messages = list[dict[str, Any]]
DEFAULT_ANTHROPIC_MAX_TOKENS: Final = 4096
"""Anthropic requires ``max_tokens``; this is sent when the call gives none."""


@dataclass(frozen=True, slots=True)
class Options:
    """The request fields every provider gets, in OpenAI form (``None``: not set)."""

    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    max_tokens: int | None = None
    temperature: float | None = None
    stop: str | list[str] | None = None
    response_format: dict[str, Any] | None = None


def _text_of(content: Any) -> str:
    """The text of a message's content (a string, or text parts joined)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if part.get("type") == "text")


def _parts(content: Any) -> list[dict[str, Any]]:
    """Content as OpenAI parts (``text`` and ``image_url``)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    parts = []
    for part in content:
        kind = part.get("type")
        if kind not in ("text", "image_url"):
            raise ValueError(f"unsupported content part type {kind!r} (text and image_url are)")
        parts.append(part)
    return parts


def _image_url(part: dict[str, Any]) -> str:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, Mapping) else image
    if not isinstance(url, str) or not url:
        raise ValueError("an image_url part needs image_url.url")
    return url


def _data_url(url: str) -> tuple[str, str] | None:
    """``(media_type, base64 data)`` of a ``data:`` URL, ``None`` for other URLs."""
    if not url.startswith("data:"):
        return None
    header, _, data = url[5:].partition(",")
    media_type, _, encoding = header.partition(";")
    if encoding != "base64" or not data:
        raise ValueError("an image data: URL must be base64 (data:image/png;base64,...)")
    try:
        base64.b64decode(data, validate=True)
    except binascii.Error:
        raise ValueError("an image data: URL holds invalid base64") from None
    return media_type or "application/octet-stream", data


def _arguments(call: dict[str, Any]) -> tuple[str, str, Any]:
    """``(id, name, parsed arguments)`` of an OpenAI tool call."""
    function = call.get("function") or {}
    raw = function.get("arguments") or "{}"
    try:
        arguments = msgspec.json.decode(raw) if isinstance(raw, str) else raw
    except msgspec.DecodeError:
        raise ValueError(f"tool call arguments are not JSON: {raw[:80]!r}") from None
    return str(call.get("id") or ""), str(function.get("name") or ""), arguments


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type", "function") != "function" or "function" not in tool:
        raise ValueError("tools are OpenAI function tools: {'type': 'function', 'function': {...}}")
    function: dict[str, Any] = tool["function"]
    if not function.get("name"):
        raise ValueError("a tool function needs a name")
    return function


def _named_choice(tool_choice: Any) -> str | None:
    """The function name of a named ``tool_choice``, else ``None``."""
    if isinstance(tool_choice, Mapping):
        name = (tool_choice.get("function") or {}).get("name")
        if not name:
            raise ValueError("a named tool_choice is {'type': 'function', 'function': {'name'}}")
        return str(name)
    if tool_choice not in ("auto", "none", "required"):
        raise ValueError(
            f"tool_choice must be auto, none, required or a function, got {tool_choice!r}"
        )
    return None


def _stop_list(stop: str | list[str]) -> list[str]:
    return [stop] if isinstance(stop, str) else list(stop)


def _schema_format(response_format: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """``("json_object", None)``, ``("json_schema", {name, schema, strict})`` or text."""
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        if "schema" not in spec:
            raise ValueError("response_format json_schema needs json_schema.schema")
        return "json_schema", spec
    if kind in ("json_object", "text"):
        return str(kind), None
    raise ValueError(f"response_format type must be text, json_object or json_schema, got {kind!r}")


# -- OpenAI Chat Completions: the model itself -------------------------------------------


def openai_body(model: str, messages: Messages, options: Options) -> dict[str, Any]:
    """Chat Completions: the model's own form, passed as is."""
    body: dict[str, Any] = {"model": model, "messages": messages}
    if options.tools is not None:
        body["tools"] = options.tools
    if options.tool_choice is not None:
        _named_choice(options.tool_choice)  # checked, sent as given
        body["tool_choice"] = options.tool_choice
    for name in ("max_tokens", "temperature", "stop", "response_format"):
        value = getattr(options, name)
        if value is not None:
            body[name] = value
    return body


# -- OpenAI Responses ----------------------------------------------------------------------


def responses_body(model: str, messages: Messages, options: Options) -> dict[str, Any]:
    """Responses: ``input`` items (messages, ``function_call``, ``function_call_output``)."""
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id"),
                    "output": _text_of(message.get("content")),
                }
            )
            continue
        parts = _parts(message.get("content"))
        if role == "assistant":
            text = _text_of(message.get("content"))
            if text:
                items.append({"role": "assistant", "content": text})
            for call in message.get("tool_calls") or ():
                call_id, name, arguments = _arguments(call)
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call_id,
                        "name": name,
                        "arguments": msgspec.json.encode(arguments).decode(),
                    }
                )
            continue
        content = [
            {"type": "input_text", "text": part["text"]}
            if part["type"] == "text"
            else {"type": "input_image", "image_url": _image_url(part)}
            for part in parts
        ]
        items.append({"role": role, "content": content})
    body: dict[str, Any] = {"model": model, "input": items}
    if options.tools is not None:
        body["tools"] = [{"type": "function", **_function(tool)} for tool in options.tools]
    if options.tool_choice is not None:
        chosen = _named_choice(options.tool_choice)
        body["tool_choice"] = (
            {"type": "function", "name": chosen} if chosen else options.tool_choice
        )
    if options.max_tokens is not None:
        body["max_output_tokens"] = options.max_tokens
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.stop is not None:
        raise ValueError("the OpenAI Responses API has no stop sequences; drop stop=")
    if options.response_format is not None:
        kind, spec = _schema_format(options.response_format)
        if kind == "json_schema" and spec is not None:
            body["text"] = {"format": {"type": "json_schema", **spec}}
        elif kind == "json_object":
            body["text"] = {"format": {"type": "json_object"}}
    return body


# -- Anthropic Messages --------------------------------------------------------------------


def anthropic_body(model: str, messages: Messages, options: Options) -> dict[str, Any]:
    """Messages: ``system`` apart, ``tool_use``/``tool_result`` blocks, one user turn for
    parallel tool results (Anthropic rejects anything else)."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += blocks  # consecutive turns of one role become one
        else:
            turns.append({"role": role, "content": blocks})

    for message in messages:
        role = message.get("role")
        if role == "system" or role == "developer":
            system.append(_text_of(message.get("content")))
        elif role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id"),
                "content": _text_of(message.get("content")),
            }
            add("user", [block])
        elif role == "assistant":
            blocks = _anthropic_blocks(message.get("content"))
            for call in message.get("tool_calls") or ():
                call_id, name, arguments = _arguments(call)
                blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
            add("assistant", blocks)
        else:
            add("user", _anthropic_blocks(message.get("content")))
    body: dict[str, Any] = {
        "model": model,
        "messages": turns,
        "max_tokens": options.max_tokens or DEFAULT_ANTHROPIC_MAX_TOKENS,
    }
    if system:
        body["system"] = "\n\n".join(system)
    if options.tools is not None:
        body["tools"] = [
            {
                "name": function["name"],
                **({"description": function["description"]} if "description" in function else {}),
                "input_schema": function.get("parameters") or {"type": "object"},
            }
            for function in map(_function, options.tools)
        ]
    if options.tool_choice is not None:
        chosen = _named_choice(options.tool_choice)
        body["tool_choice"] = (
            {"type": "tool", "name": chosen}
            if chosen
            else {"type": {"auto": "auto", "none": "none", "required": "any"}[options.tool_choice]}
        )
    if options.temperature is not None:
        body["temperature"] = options.temperature
    if options.stop is not None:
        body["stop_sequences"] = _stop_list(options.stop)
    if options.response_format is not None and _schema_format(options.response_format)[0] != "text":
        raise ValueError(
            "Anthropic has no JSON mode: drop response_format=, or ask for JSON in the "
            "prompt (or with a tool whose input_schema is your schema)"
        )
    return body


def _anthropic_blocks(content: Any) -> list[dict[str, Any]]:
    blocks = []
    for part in _parts(content):
        if part["type"] == "text":
            blocks.append({"type": "text", "text": part["text"]})
            continue
        url = _image_url(part)
        data = _data_url(url)
        source = (
            {"type": "base64", "media_type": data[0], "data": data[1]}
            if data
            else {"type": "url", "url": url}
        )
        blocks.append({"type": "image", "source": source})
    return blocks


# -- Gemini --------------------------------------------------------------------------------


def gemini_body(model: str, messages: Messages, options: Options) -> dict[str, Any]:
    """generateContent: ``contents`` with user/model roles, ``functionCall`` and
    ``functionResponse`` parts, ``systemInstruction``, ``generationConfig``."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # tool call id → function name, for functionResponse

    def add(role: str, parts: list[dict[str, Any]]) -> None:
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"] += parts
        else:
            contents.append({"role": role, "parts": parts})

    for message in messages:
        role = message.get("role")
        if role == "system" or role == "developer":
            system.append({"text": _text_of(message.get("content"))})
        elif role == "tool":
            call_id = str(message.get("tool_call_id") or "")
            name = names.get(call_id) or str(message.get("name") or "")
            if not name:
                raise ValueError(
                    f"tool result {call_id!r} answers no earlier tool call: Gemini needs "
                    "the function name"
                )
            text = _text_of(message.get("content"))
            try:
                value = msgspec.json.decode(text)
            except msgspec.DecodeError:
                value = None
            response = value if isinstance(value, dict) else {"content": text}
            add("user", [{"functionResponse": {"name": name, "response": response}}])
        elif role == "assistant":
            parts = _gemini_parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                call_id, name, arguments = _arguments(call)
                names[call_id] = name
                parts.append({"functionCall": {"name": name, "args": arguments}})
            add("model", parts)
        else:
            add("user", _gemini_parts(message.get("content")))
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    if options.tools is not None:
        body["tools"] = [
            {
                "functionDeclarations": [
                    {
                        key: function[key]
                        for key in ("name", "description", "parameters")
                        if key in function
                    }
                    for function in map(_function, options.tools)
                ]
            }
        ]
    if options.tool_choice is not None:
        chosen = _named_choice(options.tool_choice)
        config: dict[str, Any] = {
            "mode": "ANY"
            if chosen
            else {"auto": "AUTO", "none": "NONE", "required": "ANY"}[options.tool_choice]
        }
        if chosen:
            config["allowedFunctionNames"] = [chosen]
        body["toolConfig"] = {"functionCallingConfig": config}
    generation: dict[str, Any] = {}
    if options.max_tokens is not None:
        generation["maxOutputTokens"] = options.max_tokens
    if options.temperature is not None:
        generation["temperature"] = options.temperature
    if options.stop is not None:
        generation["stopSequences"] = _stop_list(options.stop)
    if options.response_format is not None:
        kind, spec = _schema_format(options.response_format)
        if kind != "text":
            generation["responseMimeType"] = "application/json"
        if spec is not None:
            generation["responseSchema"] = spec["schema"]
    if generation:
        body["generationConfig"] = generation
    return body


def _gemini_parts(content: Any) -> list[dict[str, Any]]:
    parts = []
    for part in _parts(content):
        if part["type"] == "text":
            parts.append({"text": part["text"]})
            continue
        data = _data_url(_image_url(part))
        if data is None:
            raise ValueError("Gemini takes images inline here: pass a data: URL (base64)")
        parts.append({"inlineData": {"mimeType": data[0], "data": data[1]}})
    return parts


# -- Ollama --------------------------------------------------------------------------------


def ollama_body(model: str, messages: Messages, options: Options) -> dict[str, Any]:
    """/api/chat: string content plus ``images`` (base64), ``tool_calls`` with argument
    objects, ``options`` for sampling, ``format`` for JSON."""
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        item: dict[str, Any] = {"role": role, "content": _text_of(message.get("content"))}
        images = []
        for part in _parts(message.get("content")):
            if part["type"] == "image_url":
                data = _data_url(_image_url(part))
                if data is None:
                    raise ValueError("Ollama takes images inline: pass a data: URL (base64)")
                images.append(data[1])
        if images:
            item["images"] = images
        if role == "assistant" and message.get("tool_calls"):
            item["tool_calls"] = [
                {"function": {"name": name, "arguments": arguments}}
                for _, name, arguments in map(_arguments, message["tool_calls"])
            ]
        out.append(item)
    body: dict[str, Any] = {"model": model, "messages": out}
    if options.tools is not None:
        body["tools"] = [{"type": "function", "function": _function(t)} for t in options.tools]
    if options.tool_choice not in (None, "auto"):
        raise ValueError("Ollama has no tool_choice: only 'auto' (the default) can be sent")
    sampling: dict[str, Any] = {}
    if options.max_tokens is not None:
        sampling["num_predict"] = options.max_tokens
    if options.temperature is not None:
        sampling["temperature"] = options.temperature
    if options.stop is not None:
        sampling["stop"] = _stop_list(options.stop)
    if sampling:
        body["options"] = sampling
    if options.response_format is not None:
        kind, spec = _schema_format(options.response_format)
        if kind == "json_object":
            body["format"] = "json"
        elif spec is not None:
            body["format"] = spec["schema"]
    return body


__all__ = [
    "DEFAULT_ANTHROPIC_MAX_TOKENS",
    "Options",
    "anthropic_body",
    "gemini_body",
    "ollama_body",
    "openai_body",
    "responses_body",
]
