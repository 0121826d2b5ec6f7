"""The examples and the README's code run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "__init__.py")


def run_python(code_or_path: str | Path) -> str:
    args = (
        [sys.executable, str(code_or_path)]
        if isinstance(code_or_path, Path)
        else [sys.executable, "-c", code_or_path]
    )
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path) -> None:
    assert run_python(path).strip()


def test_tool_calls_example_output() -> None:
    out = run_python(ROOT / "examples" / "tool_calls.py")
    assert 'get_weather({"city":"Lisbon"})' in out
    assert "finish reason: tool_calls" in out


def test_readme_python_blocks_run() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    runnable = [b for b in blocks if "asyncio.run(" in b]
    assert runnable, "the README should show at least one complete, runnable example"
    for block in runnable:
        assert run_python(block).strip()


def test_structured_example_prints_each_record_as_it_closes() -> None:
    out = run_python(ROOT / "examples" / "structured.py")
    records = [line.split() for line in out.splitlines() if "Record(" in line]
    assert [r[-1] for r in records][-1].startswith("population=149048")
    times = [float(r[0]) for r in records]
    assert len(times) == 4
    assert times == sorted(times)
    assert times[0] < times[-1]  # the first record came out before the last was written
