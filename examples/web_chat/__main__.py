"""``python -m examples.web_chat [--port 8080] [--base-url URL --provider NAME --model M]``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

import structlog
from aiohttp import web

from rxstream.mock import MockConfig, MockServer

from .app import create_app


async def main(args: argparse.Namespace) -> None:
    async with MockServer(MockConfig(tokens_per_second=25)) as mock:
        base_url = args.base_url or mock.base_url_for(args.provider)
        app = create_app(base_url=base_url, provider=args.provider, model=args.model)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        print(f"web chat on http://127.0.0.1:{args.port} (answers from {base_url})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m examples.web_chat")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--base-url", help="a real API root (default: the embedded mock)")
    parser.add_argument("--provider", default="openai")
    parser.add_argument("--model", default="mock-gpt")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args()))
