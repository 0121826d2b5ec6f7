from __future__ import annotations

import subprocess
import sys

import pytest

from rxstream import cli


def test_demo_streams_text_tool_call_and_stats(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--tokens-per-second", "2000"]) == 0
    out = capsys.readouterr().out
    assert "rxstream turns a streaming HTTP response into a ReactiveX pipeline." in out
    assert 'tool call  get_weather({"city":"Paris","unit":"celsius"})' in out
    assert "time to first token" in out
    assert "finish reason: tool_calls" in out


def test_chat_against_the_embedded_mock(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-secret-000000000000")
    assert cli.main(["chat", "Tell me about streams", "--log-level", "debug"]) == 0
    captured = capsys.readouterr()
    assert 'You asked: "Tell me about streams".' in captured.out
    assert "finish reason: stop" in captured.err
    assert "sk-cli-secret" not in captured.out + captured.err


def test_chat_reports_connection_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["chat", "hi", "--base-url", "http://127.0.0.1:9/v1"]) == 1
    assert "error: Could not connect" in capsys.readouterr().err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rxstream", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout
    assert "serve-mock" in result.stdout


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "ollama", "openai_responses"])
def test_chat_with_each_provider_against_the_mock(
    provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["chat", "Hello there", "--provider", provider]) == 0
    captured = capsys.readouterr()
    assert 'You asked: "Hello there".' in captured.out
    assert "finish reason: stop" in captured.err


def _run_in_terminal(*args: str) -> str:
    """Run the CLI with its stdout on a real pseudo-terminal; return what it showed."""
    import os
    import select

    primary, secondary = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "rxstream", *args], stdout=secondary, stderr=subprocess.DEVNULL
    )
    os.close(secondary)
    chunks = []
    while True:
        ready = select.select([primary], [], [], 20)[0]
        if not ready:
            break
        try:
            data = os.read(primary, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=20)
    os.close(primary)
    assert process.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_demo_renders_markdown_in_a_terminal_and_plain_text_with_plain() -> None:
    rendered = _run_in_terminal("demo", "--tokens-per-second", "2000")
    assert "\x1b[?25l" in rendered  # rich's live area for the open block
    assert "ReactiveX pipeline." in rendered
    plain = _run_in_terminal("demo", "--tokens-per-second", "2000", "--plain")
    assert "\x1b[" not in plain
    assert "rxstream turns a streaming HTTP response into a ReactiveX pipeline." in plain
