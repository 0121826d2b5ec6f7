"""A real redis-server for the scale-out tests: started on a free loopback port, no
persistence, stopped at the end of the module."""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.testing import RedisServer

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


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A fresh server per module (rxstream.testing.redis_server_url is per session)."""
    with RedisServer() as server:
        yield server.url


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    connection = redis_asyncio.Redis.from_url(redis_url)
    await connection.flushdb()
    yield connection
    await connection.aclose()


TEXT = " ".join(f"Part {n} of the shared answer." for n in range(1, 31))


@pytest.fixture
async def mock() -> AsyncIterator[MockServer]:
    """The mock answering TEXT at 150 tokens/s."""
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=150)) as server:
        yield server


def answer(mock: MockServer) -> Any:
    """The mock's answer as text, through rs.chat."""
    return rs.chat([{"role": "user", "content": "x"}], model="m", base_url=mock.base_url).pipe(
        ops.text()
    )
