"""Memory bounds (promises 18-21), measured in a separate client process."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from rxstream.mock import MockServer

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[2]


async def probe(server: MockServer, scenario: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.reliability.rss_probe",
        server.chat_url,
        scenario,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.fixture
async def server() -> Any:
    async with MockServer() as mock:
        yield mock


async def test_a_100_mb_event_is_refused_quickly_in_bounded_memory(server: MockServer) -> None:
    result = await probe(server, "big_event=100000000")
    assert result["error"] == "EventTooLarge"
    assert result["seconds"] < 5
    assert result["growth"] <= 64 * MiB


async def test_an_endless_line_is_refused_in_bounded_memory(server: MockServer) -> None:
    result = await probe(server, "endless_line")
    assert result["error"] == "EventTooLarge"
    assert result["growth"] <= 16 * MiB + 32 * MiB


async def test_a_gzip_bomb_is_refused_in_bounded_memory(server: MockServer) -> None:
    result = await probe(server, "gzip_bomb")
    assert result["error"] == "EventTooLarge"
    assert result["growth"] <= 64 * MiB


async def test_a_50_mb_error_body_is_not_read(server: MockServer) -> None:
    result = await probe(server, "huge_error_body")
    assert result["error"] == "HTTPStatusError"
    assert result["growth"] <= 8 * MiB
    record = server.records[-1]
    await asyncio.wait_for(record.finished.wait(), 5)
    assert record.outcome == "disconnected"
