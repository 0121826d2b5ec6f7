"""One process, many streams: the shared writer (a pipeline per round trip) and the shared
reader (one blocking XREAD over every key), against a real redis-server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from reactivex.subject import Subject

import rxstream as rs
from rxstream._redis._reader import hub_for
from rxstream._redis._writer import batched, batcher_for
from rxstream.mock import MockConfig, MockServer
from rxstream.sinks import to_redis_stream
from rxstream.testing import RedisServer

from ..conftest import until
from .conftest import redis_asyncio

KEYS = [f"many:{n}" for n in range(20)]
READERS_PER_KEY = 4


def words(key: str, count: int = 10) -> list[str]:
    return [f"{key}-{n} " for n in range(count)]


async def write_stream(client: Any, key: str, items: list[str]) -> None:
    subject: Subject[str] = Subject()
    running = asyncio.create_task(rs.run(subject, to_redis_stream(client, key)))
    await asyncio.sleep(0)  # subscribed
    for item in items:
        subject.on_next(item)
    subject.on_completed()
    await running


async def _all_exist(client: Any) -> bool:
    return int(await client.exists(*KEYS)) == len(KEYS)


async def blocked_clients(client: Any) -> int:
    return int((await client.info("clients"))["blocked_clients"])


async def test_many_readers_share_one_blocked_connection_and_get_exact_text(
    redis_url: str, client: Any
) -> None:
    admin, client = client, redis_asyncio.Redis.from_url(redis_url, max_connections=4)
    subjects: dict[str, Subject[str]] = {key: Subject() for key in KEYS}
    producers = [
        asyncio.create_task(rs.run(subjects[key], to_redis_stream(client, key))) for key in KEYS
    ]
    await asyncio.sleep(0)  # every producer subscribed
    for subject in subjects.values():
        subject.on_next("start ")  # creates each stream, so readers find it
    await until(lambda: _all_exist(client))
    readers = [
        asyncio.create_task(rs.collect(rs.from_redis_stream(client, key)))
        for key in KEYS
        for _ in range(READERS_PER_KEY)
    ]
    hub = hub_for(client)
    await until(lambda: len(hub._readers) == len(KEYS))
    writes_before = batcher_for(client).round_trips
    for n in range(10):
        for key, subject in subjects.items():
            subject.on_next(f"{key}-{n} ")
    await until(lambda: blocked_clients(admin))
    seen = [await blocked_clients(admin) for _ in range(20)]
    assert max(seen) == 1  # 80 readers, never more than one blocked XREAD
    for subject in subjects.values():
        subject.on_completed()
    await asyncio.gather(*producers)
    texts = await asyncio.gather(*readers)
    expected = [["start ", *words(key)] for key in KEYS for _ in range(READERS_PER_KEY)]
    assert texts == expected
    # 200 XADDs, 20 terminal entries and 20 EXPIREs from 20 producers: a few pipelines
    assert batcher_for(client).round_trips - writes_before <= 10
    await client.aclose()


async def test_a_new_reader_does_not_wait_for_the_blocked_read(client: Any) -> None:
    await client.xadd("quiet", {"type": "delta", "data": "x"})
    waiting = asyncio.create_task(rs.collect(rs.from_redis_stream(client, "quiet", block=60_000)))
    await until(lambda: blocked_clients(client))
    await write_stream(client, "ready", words("ready"))
    # without the wake-up this would wait for the 60 s block to end
    text = await asyncio.wait_for(
        rs.collect(rs.from_redis_stream(client, "ready", block=60_000)), 5
    )
    assert text == words("ready")
    waiting.cancel()


async def test_readers_at_different_positions_of_one_key(client: Any) -> None:
    await write_stream(client, "chat", words("chat"))
    entries = await client.xrange("chat")
    middle = entries[4][0].decode()
    whole, tail = await asyncio.gather(
        rs.collect(rs.from_redis_stream(client, "chat")),
        rs.collect(rs.from_redis_stream(client, "chat", after=middle)),
    )
    assert whole == words("chat")
    assert tail == words("chat")[5:]


async def test_a_failing_subscriber_does_not_disturb_the_others(client: Any) -> None:
    await write_stream(client, "chat", words("chat"))

    def explode(item: str) -> None:
        if item.endswith("-3 "):
            raise RuntimeError("subscriber bug")

    with pytest.raises(RuntimeError, match="subscriber bug"):
        await asyncio.gather(
            rs.run(rs.from_redis_stream(client, "chat"), explode),
            rs.collect(rs.from_redis_stream(client, "chat")),
        )
    assert await rs.collect(rs.from_redis_stream(client, "chat")) == words("chat")


async def test_stop_before_the_producer_starts_makes_no_request(client: Any) -> None:
    async with MockServer(MockConfig(text="never sent")) as mock:
        await rs.stop(client, "early")
        upstream = rs.chat([{"role": "user", "content": "x"}], model="m", base_url=mock.base_url)
        assert await rs.produce_once(client, "early", upstream) is True
        assert mock.requests == []
    with pytest.raises(rs.StreamStopped) as info:
        await rs.collect(rs.from_redis_stream(client, "early"))
    assert info.value.partial_text == ""
    terminal = (await client.xrange("early"))[-1][1]
    assert terminal[b"type"] == b"stopped"


async def test_a_key_deleted_while_read_is_stream_expired(client: Any) -> None:
    await client.xadd("gone", {"type": "delta", "data": "x"})
    reading = asyncio.create_task(rs.collect(rs.from_redis_stream(client, "gone", block=50)))
    await until(lambda: blocked_clients(client))
    await client.delete("gone")
    with pytest.raises(rs.StreamExpired, match="expired while being read"):
        await asyncio.wait_for(reading, 5)


async def test_a_key_that_is_not_a_stream_is_refused_alone(client: Any) -> None:
    await write_stream(client, "chat", words("chat"))
    await client.set("plain", "a string")
    reading = asyncio.create_task(rs.collect(rs.from_redis_stream(client, "chat")))
    with pytest.raises(rs.StreamError, match="holds a string, not a stream"):
        await rs.collect(rs.from_redis_stream(client, "plain"))
    assert await reading == words("chat")


async def test_a_burst_larger_than_any_batch_keeps_order_both_ways(client: Any) -> None:
    burst = [f"{n} " for n in range(5_000)]  # > MAX_BATCH, > MAX_UNCONFIRMED, > READ_COUNT
    await write_stream(client, "burst", burst)
    assert await client.xlen("burst") == len(burst) + 1  # and the terminal entry
    assert await rs.collect(rs.from_redis_stream(client, "burst")) == burst


@pytest.mark.parametrize(
    "options",
    [{"decode_responses": True}, {"protocol": 3}, {"protocol": 3, "decode_responses": True}],
)
async def test_clients_with_other_reply_formats_work_the_same(
    redis_url: str, options: dict[str, Any]
) -> None:
    decoding = redis_asyncio.Redis.from_url(redis_url, **options)
    try:
        await decoding.delete("decoded")  # this test does not use the flushing fixture
        await write_stream(decoding, "decoded", words("decoded"))
        pairs = await rs.collect(rs.from_redis_stream(decoding, "decoded", with_ids=True))
        assert [item for _, item in pairs] == words("decoded")
        written = (await decoding.xrange("decoded"))[:-1]
        assert [entry_id for entry_id, _ in pairs] == [
            entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            for entry_id, _ in written
        ]
    finally:
        await decoding.aclose()


async def test_a_dropped_client_is_not_kept_alive_by_its_helpers(redis_url: str) -> None:
    import gc
    import weakref

    temporary = redis_asyncio.Redis.from_url(redis_url)
    await write_stream(temporary, "brief", words("brief"))
    assert await rs.collect(rs.from_redis_stream(temporary, "brief")) == words("brief")
    await temporary.aclose()
    alive = weakref.ref(temporary)
    del temporary
    gc.collect()
    assert alive() is None


async def test_a_command_that_cannot_be_sent_fails_without_stopping_the_batcher(
    client: Any,
) -> None:
    from redis.exceptions import DataError

    bad: Any = object()  # refused when the pipeline is packed
    with pytest.raises(DataError):
        await asyncio.wait_for(batched(client, lambda p: p.set("k", bad)), 5)
    with pytest.raises(DataError):  # refused while the pipeline is built
        await asyncio.wait_for(batched(client, lambda p: p.xadd("s", {})), 5)
    assert await batched(client, lambda p: p.set("k", "v")) is True


def test_a_position_that_is_not_an_entry_id_is_refused() -> None:
    client: Any = object()
    with pytest.raises(ValueError, match="not a Redis stream entry id"):
        rs.from_redis_stream(client, "chat", after="<script>")


async def test_redis_dying_mid_stream_is_a_connect_error_for_everyone() -> None:
    server = RedisServer().start()
    client = redis_asyncio.Redis.from_url(server.url, socket_connect_timeout=1)
    try:
        subject: Subject[str] = Subject()
        producing = asyncio.create_task(rs.run(subject, to_redis_stream(client, "doomed")))
        await asyncio.sleep(0)
        subject.on_next("first ")
        await until(lambda: client.exists("doomed"))
        readers = [
            asyncio.create_task(rs.collect(rs.from_redis_stream(client, "doomed")))
            for _ in range(3)
        ]
        await until(lambda: len(hub_for(client)._readers) == 1)
        server.stop()
        outcomes = await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 10)
        assert all(isinstance(o, rs.ConnectError) for o in outcomes), outcomes
        subject.on_next("second ")
        subject.on_completed()
        with pytest.raises(rs.ConnectError, match="Redis is unreachable"):
            await asyncio.wait_for(producing, 10)
    finally:
        server.stop()
        await client.aclose()
