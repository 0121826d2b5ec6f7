"""Helpers for testing code built on rxstream: recorded streams, a mock-server fixture,
virtual time, leak checks, and a throwaway Redis server.

::

    # conftest.py
    from rxstream.testing import mock_server  # noqa: F401  (a pytest fixture)

    # test_app.py
    async def test_my_pipeline(mock_server):
        chat = rs.chat(msgs, model="m", base_url=mock_server.base_url)
        text = await rs.collect(chat.pipe(ops.text()))
        await assert_no_leaks()

For the Redis scale-out, ``RedisServer`` runs a real ``redis-server`` (the binary from
``apt-get install redis-server``) on a free loopback port, and the ``redis_server_url``
fixture yields its URL (the test is skipped where the binary is missing);
``RedisClusterServer`` runs a local Redis Cluster (primaries with replicas) that a test
can reshard or kill a primary of.

Fault modes are chosen per request with the ``x-mock-fault`` header (see
``rxstream.mock``), or per test with ``@pytest.mark.parametrize("mock_server",
[MockConfig(...)], indirect=True)``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import msgspec
from reactivex import Observable
from reactivex.testing import TestScheduler

from ._pool import connection_pool
from .mock import MockConfig, MockServer
from .mock import _providers as provider_scripts
from .mock._script import stream_events
from .sources import from_chunks, from_recording
from .sources._task import pending_tasks

__all__ = [
    "Emission",
    "MockConfig",
    "MockServer",
    "RedisClusterServer",
    "RedisServer",
    "assert_no_leaks",
    "load_recording",
    "mock_server",
    "recorded_stream",
    "redis_server_url",
    "run_virtual",
]


def load_recording(path: str | os.PathLike[str]) -> Observable[Any]:
    """A recording (``sinks.to_recording``) as a source for a test, replayed at once."""
    return from_recording(path, speed=None)


def recorded_stream(
    text: str,
    *,
    provider: Literal["openai", "openai_responses", "anthropic", "ollama", "gemini"] = "openai",
    chunk_size: int | None = None,
) -> Observable[bytes]:
    """A provider's streamed answer of ``text`` (as the mock would send it), as a source.

    ``chunk_size`` cuts the body into pieces of that many bytes (1 for the harshest
    network); without it, one chunk per event.
    """
    config = MockConfig(text=text)
    messages = [{"role": "user", "content": "test"}]
    if provider == "openai":
        request = {"messages": messages, "stream_options": {"include_usage": True}}
        events = [
            b"data: " + msgspec.json.encode(e) + b"\n\n" for e in stream_events(request, config)
        ]
        events.append(b"data: [DONE]\n\n")
    elif provider == "anthropic":
        events = provider_scripts.anthropic({"messages": messages, "max_tokens": 64}, config).events
    elif provider == "openai_responses":
        events = provider_scripts.responses({"input": "test"}, config).events
    elif provider == "ollama":
        events = provider_scripts.ollama({"messages": messages}, config).events
    else:
        request = {"contents": [{"role": "user", "parts": [{"text": "test"}]}]}
        events = provider_scripts.gemini(request, config, "mock").events
    if chunk_size is None:
        return from_chunks(events)
    body = b"".join(events)
    return from_chunks([body[i : i + chunk_size] for i in range(0, len(body), chunk_size)])


@dataclass(frozen=True, slots=True)
class Emission:
    """What an observable did at ``time`` seconds after subscription."""

    time: float
    kind: Literal["next", "error", "completed"]
    value: Any = None


def run_virtual(
    factory: Callable[[TestScheduler], Observable[Any]], *, until: float = 3600.0
) -> list[Emission]:
    """Subscribe to ``factory(scheduler)`` on a virtual clock and run it to the end.

    Pass the scheduler to the timed operators (``throttle_text(0.1, scheduler=s)``):
    hours of timers take no real time, and the result lists each emission with its
    exact time in seconds after subscription.
    """
    scheduler = TestScheduler()
    start = 1.0
    results = scheduler.start(
        lambda: factory(scheduler), created=0.5, subscribed=start, disposed=start + until
    )
    out = []
    for message in results.messages:
        notification: Any = message.value
        time = round(message.time - start, 9)
        if notification.kind == "N":
            out.append(Emission(time, "next", notification.value))
        elif notification.kind == "E":
            out.append(Emission(time, "error", notification.exception))
        else:
            out.append(Emission(time, "completed"))
    return out


async def assert_no_leaks(
    session: aiohttp.ClientSession | None = None, *, wait: float = 1.0
) -> None:
    """Fail unless every rxstream source task has ended (allowing ``wait`` seconds for
    cancelled ones) and no connection is still checked out — of ``session``, or without
    one, of the running loop's connection pool (idle keep-alive connections are fine)."""
    leftover = pending_tasks()
    if leftover:
        await asyncio.wait(leftover, timeout=wait)
    still = pending_tasks()
    assert not still, f"{len(still)} rxstream source task(s) still running: {still}"
    if session is not None and session.connector is not None:
        acquired = sum(len(c) for c in session.connector._acquired_per_host.values())
        assert acquired == 0, f"{acquired} connection(s) still checked out of the session"
    elif session is None:
        in_use = connection_pool().in_use
        assert in_use == 0, f"{in_use} connection(s) still checked out of the pool"


class RedisServer:
    """A throwaway ``redis-server`` on a free 127.0.0.1 port, without persistence.

    ``with RedisServer() as server: Redis.from_url(server.url)``; ``stop()`` ends it
    early (to test what happens when Redis dies). Needs the ``redis-server`` binary:
    ``FileNotFoundError`` if it is not on ``PATH`` (or at ``binary``).
    """

    def __init__(self, binary: str | None = None, *, startup_timeout: float = 10.0) -> None:
        found = binary or shutil.which("redis-server")
        if found is None or not os.path.exists(found):
            raise FileNotFoundError("redis-server not found (apt-get install redis-server)")
        self.binary = found
        self.startup_timeout = startup_timeout
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it accepts connections."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"redis-server exited at start: {error.strip()[:500]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not accept connections in {self.startup_timeout} s")

    def stop(self) -> None:
        """Stop the server (idempotent)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        if process is not None and process.stderr is not None:
            process.stderr.close()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class RedisClusterServer:
    """A throwaway Redis Cluster on loopback: ``primaries`` primaries with ``replicas``
    replicas each (``redis-server`` processes joined by ``redis-cli --cluster create``).

    ``with RedisClusterServer() as cluster: RedisCluster.from_url(cluster.url)``.
    ``kill(port)`` ends one node at once (``SIGKILL``), as a crash would; with
    ``node_timeout`` ms (default 1,000) its replica takes over within a few seconds.
    Needs ``redis-server`` and ``redis-cli`` on ``PATH``.
    """

    def __init__(self, *, primaries: int = 3, replicas: int = 1, node_timeout: int = 1000) -> None:
        server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if server is None or cli is None:
            raise FileNotFoundError("redis-server or redis-cli not found (apt install redis)")
        self.server, self.cli = server, cli
        self.primaries, self.replicas, self.node_timeout = primaries, replicas, node_timeout
        self.ports: list[int] = []
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._folder: Any = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port of the first node>``: any node finds the rest."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self) -> RedisClusterServer:
        """Start every node, create the cluster and wait until it serves every slot."""
        import tempfile

        self._folder = tempfile.TemporaryDirectory(prefix="rxstream-cluster-")
        count = self.primaries * (1 + self.replicas)
        self.ports = _cluster_ports(count)
        for port in self.ports:
            self._processes[port] = subprocess.Popen(
                [self.server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--cluster-enabled", "yes",
                 "--cluster-config-file", f"nodes-{port}.conf",
                 "--cluster-node-timeout", str(self.node_timeout), "--dir", self._folder.name,
                 "--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0",
                 "--logfile", f"redis-{port}.log"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        for port in self.ports:
            _wait_for_port(port, 10.0)
        subprocess.run(
            [self.cli, "--cluster", "create", *(f"127.0.0.1:{port}" for port in self.ports),
             "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
        self.wait_until_healthy()
        return self

    def wait_until_healthy(self, timeout: float = 30.0) -> None:
        """Wait until every live node reports ``cluster_state:ok`` and every replica has
        finished its initial sync (a replica without its primary's data cannot replace it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ports = self.live_ports()
            states = [self._cli(port, "cluster", "info") for port in ports]
            replication = [self._cli(port, "info", "replication") for port in ports]
            synced = all(
                "role:master" in info or "master_link_status:up" in info for info in replication
            )
            if states and synced and all("cluster_state:ok" in state for state in states):
                return
            time.sleep(0.1)
        raise RuntimeError(f"the Redis cluster did not become healthy in {timeout} s")

    def live_ports(self) -> list[int]:
        """The ports of the nodes still running."""
        return [p for p, process in self._processes.items() if process.poll() is None]

    def primary_of(self, key: str) -> int:
        """The port of the primary serving ``key``'s hash slot now."""
        return self.primary_of_slot(self.slot_of(key))

    def primary_of_slot(self, slot: int) -> int:
        """The port of the primary serving ``slot`` now."""
        for line in self._cli(self.live_ports()[0], "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            for span in fields[8:]:
                low, _, high = span.partition("-")
                if low.isdigit() and int(low) <= slot <= int(high or low):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise RuntimeError(f"no primary serves slot {slot}")

    def primary_ports(self) -> list[int]:
        """The ports of the live primaries."""
        ports = []
        for line in self._cli(self.live_ports()[0], "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2]:
                ports.append(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
        return ports

    def replica_of(self, primary: int) -> int:
        """The port of a live replica of the primary at ``primary``."""
        primary_id = self.node_id(primary)
        for line in self._cli(self.live_ports()[0], "cluster", "nodes").splitlines():
            fields = line.split()
            if "slave" in fields[2] and "fail" not in fields[2] and fields[3] == primary_id:
                return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise RuntimeError(f"the primary at {primary} has no live replica")

    def node_id(self, port: int) -> str:
        """The cluster node id of the node at ``port``."""
        return self._cli(port, "cluster", "myid").strip()

    def move_slot(self, slot: int, to_port: int) -> None:
        """Reshard one slot to the primary at ``to_port``, keys and all, as
        ``redis-cli --cluster reshard`` does: clients meet ``ASK`` while the keys move and
        ``MOVED`` afterwards."""
        owner = self.primary_of_slot(slot)
        source, target = self.node_id(owner), self.node_id(to_port)
        self._cli(to_port, "cluster", "setslot", str(slot), "importing", source)
        self._cli(owner, "cluster", "setslot", str(slot), "migrating", target)
        while keys := self._cli(owner, "cluster", "getkeysinslot", str(slot), "100").split():
            self._cli(owner, "migrate", "127.0.0.1", str(to_port), "", "0", "5000",
                      "keys", *keys)  # fmt: skip
        for port in self.live_ports():
            self._cli(port, "cluster", "setslot", str(slot), "node", target)

    def slot_of(self, key: str) -> int:
        """The hash slot of ``key``."""
        return int(self._cli(self.live_ports()[0], "cluster", "keyslot", key).strip())

    def kill(self, port: int) -> None:
        """End the node at ``port`` at once (``SIGKILL``)."""
        process = self._processes[port]
        process.kill()
        process.wait(timeout=10)

    def stop(self) -> None:
        """Stop every node and remove their files (idempotent)."""
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self._processes.values():
            process.wait(timeout=10)
        self._processes = {}
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def _cli(self, port: int, *command: str) -> str:
        done = subprocess.run(
            [self.cli, "-p", str(port), *command], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def __enter__(self) -> RedisClusterServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus port (port + 10000) is free and valid too."""
    import random

    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20_000, 50_000)
        if port in ports:
            continue
        try:
            for candidate in (port, port + 10_000):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        ports.append(port)
    return ports


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is optional for the library
    pass
else:

    @pytest.fixture
    async def mock_server(request: Any) -> AsyncIterator[MockServer]:
        """The embedded mock on a free 127.0.0.1 port (config via indirect parametrize)."""
        config = getattr(request, "param", None)
        async with MockServer(config if isinstance(config, MockConfig) else MockConfig()) as server:
            yield server

    @pytest.fixture(scope="session")
    def redis_server_url() -> Iterator[str]:
        """The URL of a throwaway ``redis-server`` for the test session (skips the test
        where the binary is missing)."""
        try:
            server = RedisServer()
        except FileNotFoundError as missing:
            pytest.skip(str(missing))
        with server:
            yield server.url
