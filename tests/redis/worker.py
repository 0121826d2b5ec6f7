"""A separate process for the Redis tests: ``python -m tests.redis.worker MODE URL KEY [AFTER]``
(URL ``cluster+redis://…`` for a Redis Cluster).

``consume``: print ``[entry_id, text]`` JSON lines as they arrive, then ``["end", outcome]``.
``stop``: ask the producer of KEY to stop.
``produce``: ``produce_once`` the mock's answer at base URL AFTER into KEY (optional 5th
argument: the lease in seconds); print ``["produced", true|false]``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import structlog
from redis.asyncio import Redis

import rxstream as rs


def connect(url: str) -> Any:
    """A client for ``url``; ``cluster+redis://…`` for a Redis Cluster client."""
    if url.startswith("cluster+"):
        from redis.asyncio.cluster import RedisCluster

        return RedisCluster.from_url(url.removeprefix("cluster+"))
    return Redis.from_url(url)


async def main(mode: str, url: str, key: str, after: str, lease: str = "5") -> None:
    client = connect(url)
    try:
        if mode == "stop":
            await rs.stop(client, key)
            return
        if mode == "produce":
            answer = rs.chat([{"role": "user", "content": "x"}], model="m", base_url=after)
            produced = await rs.produce_once(client, key, answer, lease=float(lease))
            print(json.dumps(["produced", produced]), flush=True)
            return
        try:
            async for entry_id, item in rs.iterate(
                rs.from_redis_stream(client, key, after=after, with_ids=True)
            ):
                print(json.dumps([entry_id, item if isinstance(item, str) else None]), flush=True)
            print(json.dumps(["end", "completed"]), flush=True)
        except rs.StreamError as error:
            print(json.dumps(["end", type(error).__name__]), flush=True)
    finally:
        await client.aclose()


if __name__ == "__main__":
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    arguments = sys.argv[1:] + ["0-0"] * (4 - len(sys.argv[1:]))
    asyncio.run(main(*arguments[:5]))
