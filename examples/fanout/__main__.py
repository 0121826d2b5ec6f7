"""``python -m examples.fanout [--redis URL]``: mock + producer + two web workers + balancer.

Open http://127.0.0.1:8080: the balancer sends each request to the next web worker, so
one answer is started on one worker, streamed from another, and stopped from either.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import socket
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from redis.asyncio import Redis

from rxstream.mock import MockConfig, MockServer

from .balancer import Balancer
from .workers import producer, web_worker


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _serve(runners: list[web.AppRunner], app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    runners.append(runner)
    await web.TCPSite(runner, "127.0.0.1", port).start()


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
    runners: list[web.AppRunner] = []
    clients = [redis]
    try:
        async with MockServer(MockConfig(tokens_per_second=25)) as mock:
            production = asyncio.create_task(producer(redis, base_url=mock.base_url))
            for port in args.ports:
                clients.append(Redis.from_url(url))  # as if each worker were its own process
                await _serve(runners, web_worker(clients[-1]), port)
                print(f"web worker on http://127.0.0.1:{port}", flush=True)
            balancer = Balancer([f"http://127.0.0.1:{port}" for port in args.ports])
            await _serve(runners, balancer.app(), args.balancer_port)
            where = urlsplit(url)  # never the password a redis:// URL may carry
            print(f"producer worker running; Redis at {where.hostname}:{where.port}", flush=True)
            print(f"open http://127.0.0.1:{args.balancer_port} (balanced over the workers)")
            try:
                await asyncio.Event().wait()
            finally:
                production.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await production
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
        for client in clients:
            await client.aclose()
        if server is not None:
            server.terminate()
            await server.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m examples.fanout")
    parser.add_argument("--redis", help="redis://host:port/db (default: start a redis-server)")
    parser.add_argument("--ports", type=int, nargs="+", default=[8081, 8082])
    parser.add_argument("--balancer-port", type=int, default=8080)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(parser.parse_args()))
