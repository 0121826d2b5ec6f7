"""One request model: an OpenAI-form conversation as each provider must receive it.

The expected bodies follow each provider's API reference: Anthropic's ``tool_use`` /
``tool_result`` blocks (parallel results in one user turn), Gemini's ``functionCall`` /
``functionResponse`` parts, Ollama's argument objects, Responses' input items.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from aiohttp import web

import rxstream as rs
from rxstream.sources._request import (
    DEFAULT_ANTHROPIC_MAX_TOKENS,
    Options,
    anthropic_body,
    gemini_body,
    ollama_body,
    openai_body,
    responses_body,
)

from ..conftest import Serve

OSLO = {"city": "Oslo"}
PNG = "iVBORw0KGgo="  # base64 of the PNG signature: enough for a shape test
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS = [
    {
        "type": "function",
        "function": {"name": "weather", "description": "Weather now", "parameters": SCHEMA},
    },
    {"type": "function", "function": {"name": "time", "parameters": SCHEMA}},
]
CONVERSATION: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Weather and time in Oslo? Here is a map."},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        ],
    },
    {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "call_w",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
            },
            {
                "id": "call_t",
                "type": "function",
                "function": {"name": "time", "arguments": '{"city": "Oslo"}'},
            },
        ],
    },
    {"role": "tool", "tool_call_id": "call_w", "content": '{"celsius": 4}'},
    {"role": "tool", "tool_call_id": "call_t", "content": "14:05"},
    {"role": "user", "content": "Thanks! Anything else?"},
]
OPTIONS = Options(
    tools=TOOLS,
    tool_choice={"type": "function", "function": {"name": "weather"}},
    max_tokens=300,
    temperature=0.2,
    stop=["END"],
    response_format=None,
)


def test_openai_gets_the_model_itself() -> None:
    body = openai_body("gpt", CONVERSATION, OPTIONS)
    assert body == {
        "model": "gpt",
        "messages": CONVERSATION,
        "tools": TOOLS,
        "tool_choice": {"type": "function", "function": {"name": "weather"}},
        "max_tokens": 300,
        "temperature": 0.2,
        "stop": ["END"],
    }


def test_anthropic_gets_system_apart_tool_blocks_and_one_user_turn_of_results() -> None:
    body = anthropic_body("claude", CONVERSATION, OPTIONS)
    assert body == {
        "model": "claude",
        "system": "Be brief.",
        "max_tokens": 300,
        "temperature": 0.2,
        "stop_sequences": ["END"],
        "tool_choice": {"type": "tool", "name": "weather"},
        "tools": [
            {"name": "weather", "description": "Weather now", "input_schema": SCHEMA},
            {"name": "time", "input_schema": SCHEMA},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather and time in Oslo? Here is a map."},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {
                        "type": "tool_use",
                        "id": "call_w",
                        "name": "weather",
                        "input": {"city": "Oslo"},
                    },
                    {"type": "tool_use", "id": "call_t", "name": "time", "input": {"city": "Oslo"}},
                ],
            },
            {
                "role": "user",  # both results, right after the tool_use turn, then the text
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_w", "content": '{"celsius": 4}'},
                    {"type": "tool_result", "tool_use_id": "call_t", "content": "14:05"},
                    {"type": "text", "text": "Thanks! Anything else?"},
                ],
            },
        ],
    }


def test_anthropic_requires_max_tokens_and_has_no_json_mode() -> None:
    body = anthropic_body("claude", [{"role": "user", "content": "hi"}], Options())
    assert body["max_tokens"] == DEFAULT_ANTHROPIC_MAX_TOKENS
    assert anthropic_body("c", [], Options(tool_choice="required"))["tool_choice"] == {
        "type": "any"
    }
    with pytest.raises(ValueError, match="no JSON mode"):
        anthropic_body("c", [], Options(response_format={"type": "json_object"}))


def test_gemini_gets_function_calls_and_named_function_responses() -> None:
    body = gemini_body("gemini", CONVERSATION, OPTIONS)
    assert body == {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {
                "role": "user",
                "parts": [
                    {"text": "Weather and time in Oslo? Here is a map."},
                    {"inlineData": {"mimeType": "image/png", "data": PNG}},
                ],
            },
            {
                "role": "model",
                "parts": [
                    {"text": "Checking."},
                    {"functionCall": {"name": "weather", "args": {"city": "Oslo"}}},
                    {"functionCall": {"name": "time", "args": {"city": "Oslo"}}},
                ],
            },
            {
                "role": "user",
                "parts": [
                    {"functionResponse": {"name": "weather", "response": {"celsius": 4}}},
                    {"functionResponse": {"name": "time", "response": {"content": "14:05"}}},
                    {"text": "Thanks! Anything else?"},
                ],
            },
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "weather", "description": "Weather now", "parameters": SCHEMA},
                    {"name": "time", "parameters": SCHEMA},
                ]
            }
        ],
        "toolConfig": {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}
        },
        "generationConfig": {"maxOutputTokens": 300, "temperature": 0.2, "stopSequences": ["END"]},
    }
    json_mode = gemini_body(
        "g",
        [{"role": "user", "content": "x"}],
        Options(
            response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": SCHEMA}}
        ),
    )
    assert json_mode["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": SCHEMA,
    }


def test_ollama_gets_images_argument_objects_and_options() -> None:
    options = Options(tools=TOOLS, max_tokens=300, temperature=0.2, stop="END",
                      response_format={"type": "json_object"})  # fmt: skip
    body = ollama_body("llama", CONVERSATION, options)
    assert body["messages"][1] == {
        "role": "user",
        "content": "Weather and time in Oslo? Here is a map.",
        "images": [PNG],
    }
    assert body["messages"][2]["tool_calls"] == [
        {"function": {"name": "weather", "arguments": {"city": "Oslo"}}},
        {"function": {"name": "time", "arguments": {"city": "Oslo"}}},
    ]
    assert body["messages"][3] == {"role": "tool", "content": '{"celsius": 4}'}
    assert body["options"] == {"num_predict": 300, "temperature": 0.2, "stop": ["END"]}
    assert body["format"] == "json"
    assert body["tools"] == TOOLS
    with pytest.raises(ValueError, match="Ollama has no tool_choice"):
        ollama_body("llama", CONVERSATION, OPTIONS)


def test_responses_gets_input_items_for_calls_and_their_outputs() -> None:
    options = Options(tools=TOOLS, tool_choice="required", max_tokens=300,
                      response_format={"type": "json_object"})  # fmt: skip
    body = responses_body("gpt", CONVERSATION, options)
    assert body["input"] == [
        {"role": "system", "content": [{"type": "input_text", "text": "Be brief."}]},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "Weather and time in Oslo? Here is a map."},
                {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}"},
            ],
        },
        {"role": "assistant", "content": "Checking."},
        {"type": "function_call", "call_id": "call_w", "name": "weather",
         "arguments": '{"city":"Oslo"}'},
        {"type": "function_call", "call_id": "call_t", "name": "time",
         "arguments": '{"city":"Oslo"}'},
        {"type": "function_call_output", "call_id": "call_w", "output": '{"celsius": 4}'},
        {"type": "function_call_output", "call_id": "call_t", "output": "14:05"},
        {"role": "user", "content": [{"type": "input_text", "text": "Thanks! Anything else?"}]},
    ]  # fmt: skip
    assert body["tools"][0] == {
        "type": "function",
        "name": "weather",
        "description": "Weather now",
        "parameters": SCHEMA,
    }
    assert body["tool_choice"] == "required"
    assert body["max_output_tokens"] == 300
    assert body["text"] == {"format": {"type": "json_object"}}


@pytest.mark.parametrize(
    ("translate", "options", "messages", "match"),
    [
        (responses_body, Options(stop="END"), [], "no stop sequences"),
        (openai_body, Options(tool_choice="sometimes"), [], "tool_choice must be"),
        (anthropic_body, Options(tools=[{"name": "x"}]), [], "OpenAI function tools"),
        (gemini_body, Options(), [{"role": "tool", "tool_call_id": "nope", "content": "1"}],
         "answers no earlier tool call"),
        (gemini_body, Options(), [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.invalid/a.png"}}]}],
         "data: URL"),
        (ollama_body, Options(), [{"role": "user", "content": [{"type": "audio"}]}],
         "unsupported content part"),
        (anthropic_body, Options(), [{"role": "assistant", "tool_calls": [
            {"id": "c", "function": {"name": "f", "arguments": "{broken"}}]}], "not JSON"),
    ],
)  # fmt: skip
def test_what_a_provider_cannot_express_is_a_value_error(
    translate: Any, options: Options, messages: list[dict[str, Any]], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        translate("m", messages, options)


def test_rs_chat_fails_at_call_time_not_at_subscription() -> None:
    with pytest.raises(ValueError, match="no JSON mode"):
        rs.chat([{"role": "user", "content": "x"}], model="m", provider="anthropic",
                response_format={"type": "json_object"})  # fmt: skip
    with pytest.raises(ValueError, match="hedge_after needs a fallback"):
        rs.chat([{"role": "user", "content": "x"}], model="m", hedge_after=0.5)
    with pytest.raises(ValueError, match="unknown fallback keys"):
        rs.chat([{"role": "user", "content": "x"}], model="m", fallbacks=[{"modle": "x"}])


async def test_each_provider_receives_the_translated_request(serve: Serve) -> None:
    received: list[tuple[str, dict[str, Any], dict[str, str]]] = []

    async def record(request: web.Request) -> web.Response:
        received.append((request.path, await request.json(), dict(request.headers)))
        return web.json_response({"error": {"message": "recorded"}}, status=400)

    app = web.Application()
    app.router.add_post("/{tail:.*}", record)
    base = await serve(app)
    translations = {
        "openai": openai_body,
        "openai_responses": responses_body,
        "anthropic": anthropic_body,
        "gemini": gemini_body,
        "ollama": ollama_body,
    }
    options = Options(tools=TOOLS, tool_choice="auto", max_tokens=300, temperature=0.2)
    for provider, translate in translations.items():
        stream = rs.chat(CONVERSATION, model="m", provider=provider, base_url=base,  # type: ignore[arg-type]
                         api_key="sk-test-abcdefghijklmnop", tools=TOOLS, tool_choice="auto",
                         max_tokens=300, temperature=0.2, retry=None)  # fmt: skip
        with pytest.raises(rs.HTTPStatusError):
            await rs.collect(stream)
        _, body, _ = received[-1]
        expected = translate("m", CONVERSATION, options)
        assert {k: v for k, v in body.items() if k not in ("stream", "stream_options")} == (
            msgspec.json.decode(msgspec.json.encode(expected))
        ), provider


async def test_a_fallback_never_gets_the_primary_key_or_credential_headers(serve: Serve) -> None:
    seen: list[dict[str, str]] = []

    async def down(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"error": {"message": "down"}}, status=503)

    app = web.Application()
    app.router.add_post("/{tail:.*}", down)
    base = await serve(app)
    stream = rs.chat(
        [{"role": "user", "content": "x"}],
        model="m",
        base_url=base,
        api_key="sk-primary-key-0000000000",
        headers={"X-Trace": "t1", "x-api-key": "sk-extra-credential-000"},
        fallbacks=[{"provider": "anthropic", "base_url": base, "api_key": "sk-ant-fallback-1111"}],
        retry=None,
    )
    with pytest.raises(rs.HTTPStatusError):
        await rs.collect(stream)
    primary, fallback = seen
    assert primary["Authorization"] == "Bearer sk-primary-key-0000000000"
    assert fallback["x-api-key"] == "sk-ant-fallback-1111"  # its own key, not the extra one
    assert "Authorization" not in fallback
    assert fallback["X-Trace"] == "t1"  # other headers are inherited
