"""The ``rxstream`` command: ``demo``, ``chat``, ``record``, ``replay`` and ``serve-mock``.

The CLI is the one place that configures logging (structlog to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import structlog
from reactivex import Observable

from . import operators as ops
from ._log import get_logger
from .errors import StreamError
from .mock import MockConfig, MockServer, serve_forever
from .models import Completion, Delta, Restart, StreamMetrics
from .sinks import console, iterate, run, to_recording
from .sources import chat, from_http, from_recording
from .sources._chat import PROVIDERS, Provider

log = get_logger(__name__)

DEMO_PROMPT = "What is rxstream? Also, what's the weather in Paris?"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}


def configure_logging(level: str = "warning", *, json: bool = False) -> None:
    """Send structlog events at ``level`` and above to stderr, as text or JSON lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    processors: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso"),
    ]
    if json:
        processors.append(structlog.processors.dict_tracebacks)
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxstream", description="Stream LLM responses through ReactiveX pipelines."
    )
    # Logging options work before or after the subcommand; SUPPRESS keeps a subcommand
    # from resetting a value given before it.
    logging_options = argparse.ArgumentParser(add_help=False)
    for target, default in ((parser, None), (logging_options, argparse.SUPPRESS)):
        target.add_argument(
            "--log-level",
            default=default or "warning",
            choices=["debug", "info", "warning", "error"],
            help="log events at this level and above to stderr (default: warning)",
        )
        target.add_argument(
            "--log-json",
            action="store_true",
            default=default or False,
            help="log JSON lines instead of text",
        )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, parents=[logging_options])

    demo = command("demo", "stream an answer from the embedded mock server")
    demo.add_argument("--tokens-per-second", type=float, default=60.0)
    plain_help = "print the raw text (default: render markdown when stdout is a terminal)"
    demo.add_argument("--plain", action="store_true", help=plain_help)

    chat = command("chat", "stream an answer from an OpenAI-compatible server")
    chat.add_argument("prompt")
    chat.add_argument(
        "--provider",
        default="openai",
        choices=sorted(PROVIDERS),
        help="the API's format (default: openai chat completions)",
    )
    chat.add_argument(
        "--base-url", help="the API root, e.g. https://api.openai.com/v1 (default: the mock)"
    )
    chat.add_argument("--model", default="gpt-4o-mini")
    chat.add_argument("--system", help="a system prompt")
    chat.add_argument("--plain", action="store_true", help=plain_help)
    chat.add_argument(
        "--api-key-env",
        help="environment variable with the key (default: the provider's, e.g. OPENAI_API_KEY)",
    )

    record = command("record", "record a streamed response (chunks and timing) to a file")
    record.add_argument("url")
    record.add_argument("-o", "--output", required=True, help="the recording (JSON Lines)")
    record.add_argument("--method", default="POST")
    record.add_argument("--json", dest="body", help="the request body, as JSON text")
    record.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    record.add_argument("--api-key-env", help="send 'Authorization: Bearer $VAR' (not recorded)")

    replay = command("replay", "replay a recording with its original timing")
    replay.add_argument("file")
    replay.add_argument("--speed", type=float, default=1.0, help="2 = twice as fast; 0 = at once")
    replay.add_argument(
        "--format",
        default="openai",
        choices=["openai", "raw", *sorted(p for p in PROVIDERS if p != "openai")],
        help="how to read it: a provider's stream format (print the text) or raw bytes",
    )

    gateway = command("gateway", "serve an OpenAI-compatible endpoint in front of a provider")
    gateway.add_argument("--provider", default="openai", choices=sorted(PROVIDERS))
    gateway.add_argument("--model", help="the upstream model (default: the one clients ask for)")
    gateway.add_argument("--base-url", help="the upstream API root (default: the provider's)")
    gateway.add_argument("--host", default="127.0.0.1")
    gateway.add_argument("--port", type=int, default=8000)

    serve = command("serve-mock", "run the mock OpenAI server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--text", help="answer with this text instead of the canned one")
    serve.add_argument("--tokens-per-second", type=float, default=None)
    return parser


def _gateway(args: argparse.Namespace, out: TextIO) -> int:
    from aiohttp import web

    from .gateway import create_app

    app = create_app(provider=args.provider, model=args.model, base_url=args.base_url)
    where = f"http://{args.host}:{args.port}/v1"
    upstream = args.base_url or f"{args.provider}'s API"
    print(f"rxstream gateway: OpenAI chat completions at {where} -> {upstream}", file=out)
    if args.host not in ("127.0.0.1", "localhost", "::1") and not os.environ.get(
        "RXSTREAM_GATEWAY_KEYS"
    ):
        log.warning("gateway_open_without_client_keys", host=args.host)
    web.run_app(app, host=args.host, port=args.port, print=None, handler_cancellation=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rxstream`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    configure_logging(args.log_level, json=args.log_json)
    try:
        if args.command == "demo":
            return asyncio.run(_demo(args.tokens_per_second, sys.stdout, plain=args.plain))
        if args.command == "chat":
            return asyncio.run(_chat(args, sys.stdout))
        if args.command == "record":
            return asyncio.run(_record(args))
        if args.command == "replay":
            return asyncio.run(_replay(args, sys.stdout))
        if args.command == "gateway":
            return _gateway(args, sys.stdout)
        config = MockConfig(text=args.text, tokens_per_second=args.tokens_per_second)
        asyncio.run(serve_forever(config, host=args.host, port=args.port))
    except KeyboardInterrupt:
        return 130
    return 0


async def stream_chat(
    base_url: str,
    prompt: str,
    *,
    model: str,
    api_key: str | None,
    out: TextIO,
    system: str | None = None,
    provider: Provider = "openai",
    markdown: bool = False,
    **params: Any,
) -> tuple[Completion, StreamMetrics]:
    """Stream one chat completion, printing its text live; return the final snapshot.

    With ``markdown`` and a terminal, the text is rendered as markdown (``rich``).
    """
    reports: list[StreamMetrics] = []
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    deltas: Observable[Delta | Restart] = chat(
        messages, model=model, provider=provider, base_url=base_url, api_key=api_key, **params
    )
    stream = deltas.pipe(ops.metrics(on_report=reports.append), ops.accumulate())
    final = Completion()
    printed = 0
    sink = console(out, markdown=markdown)
    try:
        # Only the newest snapshot matters for rendering, so a slow terminal may skip some.
        async with iterate(stream, max_buffer=64, overflow="drop_oldest") as snapshots:
            async for final in snapshots:
                text = final.text
                if len(text) > printed:
                    await sink.send(text[printed:])
                    printed = len(text)
    finally:
        await sink.close(None)
    if not printed:
        out.write("\n")
    return final, reports[-1]


def _summary(final: Completion, report: StreamMetrics, out: TextIO) -> None:
    for call in final.tool_calls:
        out.write(f"tool call  {call.name}({call.arguments})  id={call.id}\n")
    ttft = report.time_to_first_item
    usage = final.usage
    out.write(
        f"time to first token {ttft * 1000:.0f} ms · " if ttft is not None else "no tokens · "
    )
    out.write(
        f"{report.items} chunks in {report.duration:.2f} s "
        f"({report.items_per_second:.0f} chunks/s) · finish reason: {final.finish_reason}\n"
    )
    if usage is not None:
        out.write(
            f"usage      {usage.prompt_tokens} prompt + {usage.completion_tokens} completion"
            f" = {usage.total_tokens} tokens\n"
        )


async def _demo(tokens_per_second: float, out: TextIO, *, plain: bool = False) -> int:
    config = MockConfig(
        tokens_per_second=tokens_per_second,
        tool_arguments={"get_weather": {"city": "Paris", "unit": "celsius"}},
    )
    async with MockServer(config) as server:
        out.write(f"rxstream demo — streaming from the embedded mock at {server.base_url}\n")
        out.write(
            "pipeline   rs.chat(): from_http → parse_sse → sse_json → openai_chat"
            " → timeout → retry, then accumulate\n\n"
        )
        try:
            final, report = await stream_chat(
                server.base_url,
                DEMO_PROMPT,
                model="mock-gpt",
                api_key=None,
                out=out,
                markdown=not plain,
                tools=[WEATHER_TOOL],
            )
        except StreamError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        out.write("\n")
        _summary(final, report, out)
    return 0


async def _chat(args: argparse.Namespace, out: TextIO) -> int:
    # None lets rs.chat read the provider's own variable (OPENAI_API_KEY, ...).
    key = os.environ.get(args.api_key_env) or None if args.api_key_env else None
    options = {
        "model": args.model,
        "api_key": key,
        "out": out,
        "system": args.system,
        "provider": args.provider,
        "markdown": not args.plain,
    }
    try:
        if args.base_url is None:
            async with MockServer() as server:
                base = server.base_url_for(args.provider)
                final, report = await stream_chat(base, args.prompt, **options)
        else:
            final, report = await stream_chat(args.base_url, args.prompt, **options)
    except StreamError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _summary(final, report, sys.stderr)
    return 0


async def _record(args: argparse.Namespace) -> int:
    headers: dict[str, str] = {}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    if args.api_key_env and os.environ.get(args.api_key_env):
        headers["Authorization"] = f"Bearer {os.environ[args.api_key_env]}"
    body = json.loads(args.body) if args.body else None
    sink = to_recording(args.output)
    try:
        await run(from_http(args.url, method=args.method, json=body, headers=headers), sink)
    except StreamError as error:
        print(f"error: {error} (recorded)", file=sys.stderr)
        return 1
    print(f"recorded to {args.output}", file=sys.stderr)
    return 0


async def _replay(args: argparse.Namespace, out: TextIO) -> int:
    speed = args.speed if args.speed > 0 else None
    source = from_recording(args.file, speed=speed)
    try:
        if args.format == "raw":
            buffer = getattr(out, "buffer", None)

            def write(chunk: Any) -> None:
                data = chunk if isinstance(chunk, bytes) else str(chunk).encode()
                if buffer is not None:
                    buffer.write(data)
                    buffer.flush()
                else:
                    out.write(data.decode("utf-8", "replace"))

            await run(source, write)
        else:
            text: Observable[Any] = source
            for operator in [*PROVIDERS[args.format].parse(), ops.text()]:
                text = text.pipe(operator)
            await run(text, console(out))
    except StreamError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
