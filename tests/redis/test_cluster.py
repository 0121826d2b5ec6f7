"""The fan-out API on a real local Redis Cluster (3 primaries, 3 replicas), failover too."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import reactivex
from reactivex import operators as rx_ops

import rxstream as rs
from rxstream._redis._layout import Layout, configured_shards, layout_for
from rxstream.mock import MockConfig, MockServer
from rxstream.testing import RedisClusterServer

from ..conftest import until
from .conftest import TEXT, answer
from .test_redis_streams import read_all, worker

pytestmark = pytest.mark.skipif(
    shutil.which("redis-cli") is None, reason="needs redis-cli (apt-get install redis-server)"
)
cluster_module = pytest.importorskip("redis.asyncio.cluster")


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServer]:
    with RedisClusterServer() as server:
        yield server


@pytest.fixture
async def client(cluster: RedisClusterServer) -> AsyncIterator[Any]:
    connection = cluster_module.RedisCluster.from_url(cluster.url)
    yield connection
    await connection.aclose()


def url_of(cluster: RedisClusterServer) -> str:
    return "cluster+" + cluster.url


async def test_the_layout_puts_a_streams_keys_in_one_slot_and_spreads_streams(
    client: Any, cluster: RedisClusterServer
) -> None:
    layout = layout_for(client)
    stream = layout.stream("chat:layout")
    assert stream.startswith("rxstream:v2:{rxs")
    slots = {int(cluster._cli(cluster.ports[0], "cluster", "keyslot", k)) for k in
             (stream, f"{stream}:lease", f"{stream}:control")}  # fmt: skip
    assert len(slots) == 1
    primaries = {cluster.primary_of(layout.stream(f"chat:{n}")) for n in range(64)}
    assert len(primaries) == 3  # streams of different keys spread over every primary


async def test_consumer_processes_each_get_the_exact_text(
    client: Any, cluster: RedisClusterServer, mock: MockServer
) -> None:
    producer = asyncio.create_task(rs.produce_once(client, "chat:c1", answer(mock)))
    consumers = [await worker("consume", url_of(cluster), "chat:c1") for _ in range(3)]
    results = await asyncio.gather(*(read_all(c) for c in consumers))
    assert await producer is True
    assert results == [(TEXT, "completed")] * 3
    assert len(mock.requests) == 1


async def test_a_reader_resumes_by_id_on_another_client(
    client: Any, cluster: RedisClusterServer, mock: MockServer
) -> None:
    assert await rs.produce_once(client, "chat:c2", answer(mock)) is True
    items = await rs.collect(rs.from_redis_stream(client, "chat:c2", with_ids=True))
    middle = len(items) // 2
    other = cluster_module.RedisCluster.from_url(cluster.url)
    try:
        rest = await rs.collect(
            rs.from_redis_stream(other, "chat:c2", after=items[middle][0], with_ids=True)
        )
    finally:
        await other.aclose()
    assert rest == items[middle + 1 :]
    assert "".join(text for _, text in items) == TEXT


async def test_racing_producers_in_two_processes_make_one_request(
    cluster: RedisClusterServer, mock: MockServer
) -> None:
    racers = [await worker("produce", url_of(cluster), "chat:c3", mock.base_url) for _ in range(2)]
    outputs = await asyncio.gather(*(r.communicate() for r in racers))
    produced = sorted(json.loads(out.decode().splitlines()[-1])[1] for out, _ in outputs)
    assert produced == [False, True]
    assert len(mock.requests) == 1


async def test_stop_from_another_process_ends_readers_with_stopped(
    client: Any, cluster: RedisClusterServer
) -> None:
    async with MockServer(MockConfig(text=TEXT, tokens_per_second=20)) as slow:
        producer = asyncio.create_task(rs.produce_once(client, "chat:c4", answer(slow)))
        following = await worker("consume", url_of(cluster), "chat:c4")
        await until(lambda: slow.records and slow.records[-1].events_sent >= 3)
        stopper = await worker("stop", url_of(cluster), "chat:c4")
        await stopper.wait()
        await asyncio.wait_for(slow.records[-1].finished.wait(), 2)
        assert slow.records[-1].outcome == "disconnected"
        assert await producer is True
    text, outcome = await read_all(following)
    assert outcome == "StreamStopped"
    assert TEXT.startswith(text)


async def test_hundreds_of_streams_read_by_one_process_on_bounded_connections(
    cluster: RedisClusterServer,
) -> None:
    writer = cluster_module.RedisCluster.from_url(cluster.url)
    reader = cluster_module.RedisCluster.from_url(cluster.url, client_name="rxs-reader")
    keys = [f"chat:many:{n}" for n in range(200)]
    try:
        sources = {key: reactivex.from_iterable([f"{key} a", " b", " c"]) for key in keys}
        await asyncio.gather(*(
            rs.run(source, rs.sinks.to_redis_stream(writer, key)) for key, source in sources.items()
        ))  # fmt: skip
        reads = [rs.collect(rs.from_redis_stream(reader, key)) for key in keys]
        results = await asyncio.gather(*reads)
        assert results == [[f"{key} a", " b", " c"] for key in keys]
        connections = sum(
            cluster._cli(port, "client", "list").count("name=rxs-reader ")
            for port in cluster.live_ports()
        )
        print(f"connections held by the reading process: {connections}")
        assert connections <= 40  # 16 shards' reads + the batcher's, not one per stream
    finally:
        await writer.aclose()
        await reader.aclose()


async def test_repeated_entries_are_dropped_and_lost_ones_named(client: Any) -> None:
    stream = layout_for(client).stream("chat:numbered")
    for number, text in ((1, "a"), (2, "b"), (2, "b"), (3, "c"), (5, "e")):
        await client.xadd(stream, {"type": "delta", "data": text, "n": str(number)})
    received: list[str] = []
    with pytest.raises(rs.StreamInterrupted, match="lost entry 4") as info:
        await rs.run(rs.from_redis_stream(client, "chat:numbered"), received.append)
    assert received == ["a", "b", "c"]  # the repeat (written twice by a retry) once
    assert "chat:numbered" in str(info.value)


PIECES = [f" piece {n}." for n in range(60)]


async def stream_through(
    cluster: RedisClusterServer, key: str, disturb: Callable[[str], Awaitable[None]]
) -> tuple[list[str], BaseException | None]:
    """Write PIECES into ``key`` (one each 30 ms) while another client reads it; after 10
    pieces read, ``disturb(stream key)``. The writer must finish without an error; returns
    what the reader received and how its stream ended (``None``: completed)."""
    client = cluster_module.RedisCluster.from_url(cluster.url)
    reader_client = cluster_module.RedisCluster.from_url(cluster.url)
    try:
        source = reactivex.interval(0.03).pipe(
            rx_ops.take(len(PIECES)), rx_ops.map(lambda n: PIECES[n])
        )
        writing = asyncio.create_task(rs.run(source, rs.sinks.to_redis_stream(client, key)))
        received: list[str] = []
        reading = asyncio.create_task(
            rs.run(rs.from_redis_stream(reader_client, key, wait=5), received.append)
        )
        await until(lambda: len(received) >= 10, within=10)
        await disturb(layout_for(client).stream(key))
        await asyncio.wait_for(writing, 40)  # the writer rides through, without an error
        (outcome,) = await asyncio.gather(asyncio.wait_for(reading, 40), return_exceptions=True)
        return received, outcome
    finally:
        await client.aclose()
        await reader_client.aclose()


async def test_resharding_mid_stream_loses_and_repeats_nothing(cluster: RedisClusterServer) -> None:
    moved_to: list[int] = []

    async def reshard(stream: str) -> None:
        owner = cluster.primary_of(stream)
        target = next(port for port in cluster.primary_ports() if port != owner)
        await asyncio.to_thread(cluster.move_slot, cluster.slot_of(stream), target)  # ASK, MOVED
        moved_to.append(target)

    received, outcome = await stream_through(cluster, "chat:reshard", reshard)
    assert outcome is None
    assert received == PIECES
    assert cluster.primary_of(layout_for_cluster("chat:reshard")) == moved_to[0]


async def test_a_graceful_failover_mid_stream_loses_and_repeats_nothing(
    cluster: RedisClusterServer,
) -> None:
    promoted: list[int] = []

    async def fail_over(stream: str) -> None:
        promoted.append(cluster.replica_of(cluster.primary_of(stream)))
        cluster._cli(promoted[0], "cluster", "failover")  # the replica takes over, in sync

    received, outcome = await stream_through(cluster, "chat:graceful", fail_over)
    assert outcome is None
    assert received == PIECES
    stream = layout_for_cluster("chat:graceful")
    await until(lambda: cluster.primary_of(stream) == promoted[0], within=10)


async def test_a_primary_killed_mid_stream_fails_over_without_a_silent_gap() -> None:
    with RedisClusterServer() as cluster:
        killed: list[int] = []

        async def kill(stream: str) -> None:
            killed.append(cluster.primary_of(stream))
            cluster.kill(killed[0])  # mid-stream; its replica takes over

        received, outcome = await stream_through(cluster, "chat:failover", kill)
        if outcome is None:
            assert received == PIECES  # every entry once, in order
        else:  # allowed only as a named loss (async replication), never a silent gap
            assert isinstance(outcome, rs.StreamInterrupted)
            assert "lost" in str(outcome)
            assert "".join(PIECES).startswith("".join(received))
        assert cluster.primary_of(layout_for_cluster("chat:failover")) != killed[0]


def layout_for_cluster(key: str) -> str:
    """The Redis key of stream ``key`` on a cluster (with the default shards)."""
    return Layout(shards=configured_shards()).stream(key)


async def test_a_cluster_gone_for_longer_than_the_window_is_a_connect_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rxstream._redis import _reader, _writer

    monkeypatch.setattr(_reader, "FAILOVER_WINDOW", 1.0)
    monkeypatch.setattr(_writer, "FAILOVER_WINDOW", 1.0)
    with RedisClusterServer() as cluster:
        client = cluster_module.RedisCluster.from_url(cluster.url)
        try:
            await rs.run(reactivex.of("a", "b"), rs.sinks.to_redis_stream(client, "chat:gone"))
            cluster.stop()  # every node
            with pytest.raises(rs.ConnectError, match="Redis is unreachable"):
                await asyncio.wait_for(rs.collect(rs.from_redis_stream(client, "chat:gone")), 15)
        finally:
            await client.aclose()
