"""Library logging in an application that never configured structlog: through the
standard ``logging`` module, silent below WARNING — checked in fresh interpreters,
since structlog's configuration is process-wide."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import asyncio, logging, sys
import rxstream as rs
from rxstream import operators as ops
from rxstream.mock import MockConfig, MockServer
{setup}

async def main():
    async with MockServer(MockConfig(text="Hello there.")) as mock:
        chat = rs.chat([{{"role": "user", "content": "hi"}}], model="m", base_url=mock.base_url,
                       headers={headers})
        text = await rs.collect(chat.pipe(ops.text()))
    print("ANSWER:" + "".join(text))

asyncio.run(main())
"""


def run(setup: str = "", headers: str = "{}") -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(SCRIPT.format(setup=setup, headers=headers))
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_an_unconfigured_application_sees_no_library_chatter() -> None:
    done = run()
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ANSWER:Hello there.\n"  # no debug lines in the program's output
    assert done.stderr == ""


def test_warnings_reach_stderr_through_stdlib_logging() -> None:
    # the body ends without [DONE] but with a finish_reason: complete, with a warning
    done = run(headers='{"x-mock-fault": "no_done_finish"}')
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ANSWER:Hello there.\n"
    assert "event='stream_ended_without_done'" in done.stderr


def test_stdlib_logging_configuration_shows_debug_events_by_module() -> None:
    setup = (
        "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, "
        "format='%(name)s %(levelname)s %(message)s')"
    )
    done = run(setup=setup)
    assert done.returncode == 0, done.stderr
    assert "rxstream.sources._http DEBUG event='request_started'" in done.stderr


def test_a_configured_structlog_takes_over() -> None:
    setup = (
        "import structlog\n"
        "structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))"
    )
    done = run(setup=setup)
    assert done.returncode == 0, done.stderr
    assert "request_started" in done.stderr
    assert "event='request_started'" not in done.stderr  # structlog's renderer, not ours


ASSEMBLY = """
import io, sys
import structlog
from rxstream._log import get_logger

built = []

def factory(*args):
    built.append(args)
    return structlog.PrintLogger(sys.stdout)

structlog.configure(processors=[structlog.processors.KeyValueRenderer()],
                    logger_factory=factory)
log = get_logger("rxstream.check")
log.warning("one", n=1)
log.warning("two", n=2)
print("BUILT", len(built))
structlog.configure(processors=[lambda _, __, event: "SECOND " + event["event"]])
log.warning("three")
print("BUILT", len(built))
captured = io.StringIO()
real, sys.stdout = sys.stdout, captured
log.warning("four")  # the factory writes to the sys.stdout of the moment it is called
sys.stdout = real
print("CAPTURED", captured.getvalue().strip())
"""


def test_structlog_logger_is_assembled_once_per_configuration() -> None:
    # structlog's lazy proxy assembles a logger per event (about 4 µs, also for events
    # a level filter drops); rxstream keeps it while the configuration stays the same
    done = subprocess.run(
        [sys.executable, "-c", ASSEMBLY], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "n=1 event='one'",
        "n=2 event='two'",
        "BUILT 1",  # the same configuration: assembled once
        "SECOND three",  # configured again: the next event follows it at once
        "BUILT 2",
        "CAPTURED SECOND four",  # a replaced sys.stdout (pytest's capsys) is followed
    ]
