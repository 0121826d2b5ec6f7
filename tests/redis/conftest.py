"""A real redis-server for the scale-out tests: started on a free loopback port, no
persistence, stopped at the end of the module."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

redis_asyncio = pytest.importorskip("redis.asyncio", reason="pip install -e '.[redis]'")
SERVER = shutil.which("redis-server")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if SERVER is None:
        skip = pytest.mark.skip(reason="needs redis-server (apt-get install redis-server)")
        for item in items:
            if "tests/redis/" in str(item.fspath):
                item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis_server() -> tuple[subprocess.Popen[bytes], str]:
    """A fresh redis-server on a free loopback port, without persistence, and its URL."""
    port = free_port()
    assert SERVER is not None
    process = subprocess.Popen(
        [SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    process, url = start_redis_server()
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    connection = redis_asyncio.Redis.from_url(redis_url)
    await connection.flushdb()
    yield connection
    await connection.aclose()
