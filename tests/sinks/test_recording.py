"""Record a stream with its timing, replay it: fast, in virtual time, with its error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import reactivex
from reactivex.testing import ReactiveTest, TestScheduler

import rxstream as rs
from rxstream import cli
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
from rxstream.sinks import to_recording

on_next, on_completed, on_error = (
    ReactiveTest.on_next,
    ReactiveTest.on_completed,
    ReactiveTest.on_error,
)
REQUEST = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}


async def test_record_then_replay_gives_the_same_chunks_and_text(tmp_path: Path) -> None:
    path = tmp_path / "answer.jsonl"
    async with MockServer(
        MockConfig(text="Recorded answer. Replayed later.", tokens_per_second=200)
    ) as server:
        chunks = await rs.collect(rs.from_http(server.chat_url, json=REQUEST))
        await rs.run(rs.from_http(server.chat_url, json=REQUEST), to_recording(path))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"format": "rxstream-recording/1"}
    assert lines[-1]["end"] == "completed"
    times = [line["t"] for line in lines[1:]]
    assert times == sorted(times)
    assert times[-2] > 0.04  # 9 gaps of 5 ms were recorded (sleeps never end early)
    replayed = await rs.collect(rs.from_recording(path, speed=None))
    assert b"".join(replayed) == b"".join(chunks)
    text = await rs.collect(
        rs.from_recording(path, speed=None).pipe(ops.parse_sse(), ops.openai_chat(), ops.text())
    )
    assert "".join(text) == "Recorded answer. Replayed later."


def test_replay_timing_in_virtual_time(tmp_path: Path) -> None:
    path = tmp_path / "timed.jsonl"
    path.write_text(
        '{"format":"rxstream-recording/1"}\n{"t":0.5,"s":"a"}\n{"t":2.0,"s":"b"}\n{"t":2.0,"s":"c"}\n{"t":3.0,"end":"completed"}\n'
    )
    scheduler = TestScheduler()
    results = scheduler.start(lambda: rs.from_recording(path, scheduler=scheduler))
    assert results.messages == [
        on_next(200.5, "a"),
        on_next(202, "b"),
        on_next(202, "c"),
        on_completed(203),
    ]
    scheduler = TestScheduler()
    results = scheduler.start(lambda: rs.from_recording(path, speed=2.0, scheduler=scheduler))
    assert [m.time for m in results.messages] == [200.25, 201, 201, 201.5]


async def test_a_recorded_error_is_replayed_as_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    async with MockServer(MockConfig(text="Never finished.")) as server:
        source = rs.from_http(
            server.chat_url, json=REQUEST, headers={"x-mock-fault": "reset_after=2"}
        )
        with pytest.raises(rs.StreamInterrupted):
            await rs.run(source, to_recording(path))
    assert json.loads(path.read_text().splitlines()[-1])["error"] == "StreamInterrupted"
    with pytest.raises(rs.StreamInterrupted, match="broke mid-stream"):
        await rs.collect(rs.from_recording(path, speed=None))


def test_bad_recordings_and_options() -> None:
    with pytest.raises(ValueError, match="speed"):
        rs.from_recording("x", speed=0)
    errors: list[Exception] = []
    rs.from_recording("/nonexistent.jsonl", speed=None).subscribe(on_error=errors.append)
    assert isinstance(errors[0], FileNotFoundError)


async def test_recording_rejects_other_items(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="records bytes or str"):
        await rs.run(reactivex.of(42), to_recording(tmp_path / "x.jsonl"))


def test_cli_record_and_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import asyncio

    path = tmp_path / "cli.jsonl"

    async def record() -> int:
        async with MockServer(MockConfig(text="From the command line.")) as server:
            return await asyncio.to_thread(
                cli.main,
                ["record", server.chat_url, "--json", json.dumps(REQUEST), "-o", str(path)],
            )

    assert asyncio.run(record()) == 0
    capsys.readouterr()  # drop the recording run's output
    assert cli.main(["replay", str(path), "--speed", "0"]) == 0
    assert capsys.readouterr().out == "From the command line.\n"
