"""Starting the benchmark server and clients as separate processes."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def server(*args: str, tls: bool = False) -> Iterator[str]:
    """Run ``benchmarks._server`` with ``args``; yields its base URL (``…/v1``;
    ``https://localhost:…`` with ``tls``, matching the certificate's name)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._server", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start: {line!r}")
        port = int(line.split()[1])
        yield f"https://localhost:{port}/v1" if tls else f"http://127.0.0.1:{port}/v1"
    finally:
        process.kill()
        process.wait()


def client(*args: str, timeout: float = 600, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``benchmarks._client`` with ``args`` (and ``env`` added to the environment)
    and return its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks._client", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark client {args} failed:\n{done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report
