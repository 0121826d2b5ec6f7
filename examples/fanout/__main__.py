"""``python -m examples.fanout [--redis URL]``: mock + producer + two web workers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import socket

import structlog
from aiohttp import web
from redis.asyncio import Redis

from rxstream.mock import MockConfig, MockServer

from .workers import producer, web_worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main(args: argparse.Namespace) -> None:
    server = None
    url = args.redis
    if url is None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit(
                "no --redis URL and no redis-server to start (apt-get install redis-server)"
            )
        port = _free_port()
        server = await asyncio.create_subprocess_exec(
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            stdout=asyncio.subprocess.DEVNULL,
        )
        url = f"redis://127.0.0.1:{port}/0"
    redis = Redis.from_url(url)
    for _ in range(100):
        with contextlib.suppress(Exception):
            if await redis.ping():
                break
        await asyncio.sleep(0.05)
    runners = []
    try:
        async with MockServer(MockConfig(tokens_per_second=25)) as mock:
            production = asyncio.create_task(producer(redis, base_url=mock.base_url))
            for port in args.ports:
                runner = web.AppRunner(web_worker(redis), access_log=None)
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", port).start()
                runners.append(runner)
                print(f"web worker on http://127.0.0.1:{port}", flush=True)
            print(f"producer worker running; Redis at {url}", flush=True)
            try:
                await asyncio.Event().wait()
            finally:
                production.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await production
    finally:
        for runner in runners:
            await runner.cleanup()
        await redis.aclose()
        if server is not None:
            server.terminate()
            await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m examples.fanout")
    parser.add_argument("--redis", help="redis://host:port/db (default: start a redis-server)")
    parser.add_argument("--ports", type=int, nargs="+", default=[8081, 8082])
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args()))
