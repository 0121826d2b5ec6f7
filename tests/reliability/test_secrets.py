"""The API key never leaks: logs, str/repr/tracebacks, cause chains, attributes (24-25)."""

from __future__ import annotations

import io
import socket
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

import rxstream as rs
from rxstream import RetryPolicy
from rxstream.mock import MockConfig, MockServer

from .conftest import FAST

# Module globals, not locals: tracebacks rendered with their frames' locals must not
# find the key in the test's own frame either.
KEY = "sk-proj-SECRETKEY1234567890abcdWXYZ"
MASKED = "sk-…WXYZ"

SCENARIOS = [
    "status=500",
    "status=429,retry_after=3600",
    "reset_before_headers",
    "reset_after=3",
    "stall_after=2",
    "malformed_after=2",
    "deep_nesting",
    "provider_error=invalid_request_error",
    "no_done",
    "endless_line",
    "huge_error_body",
]


@pytest.fixture(params=["dict_tracebacks", "console"])
def captured_logs(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """structlog as applications set it up, every level, into a buffer: JSON with
    ``dict_tracebacks`` (frames with their locals), or ``ConsoleRenderer`` with its
    default rich tracebacks (``show_locals=True``). Restored afterwards."""
    buffer = io.StringIO()
    saved = structlog.get_config()
    renderers: list[Any] = (
        [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
        if request.param == "dict_tracebacks"
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[structlog.processors.add_log_level, *renderers],
        wrapper_class=structlog.make_filtering_bound_logger(0),
        logger_factory=structlog.PrintLoggerFactory(buffer),
        cache_logger_on_first_use=False,
    )
    yield buffer
    structlog.configure(**saved)


def chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def assert_no_key(error: BaseException, logs: str) -> None:
    assert KEY not in logs
    for link in chain(error):
        assert KEY not in str(link)
        assert KEY not in repr(link)
        assert KEY not in "".join(traceback.format_exception(link))
        for value in vars(link).values():
            assert KEY not in repr(value)
            assert KEY not in str(value)


async def fail_with_logging(stream: Any) -> BaseException:
    log = structlog.get_logger("app")
    try:
        await rs.collect(stream)
    except rs.StreamError as error:
        log.exception("chat_failed")  # dict_tracebacks renders the frames with locals
        log.error("chat_failed_again", error=error, exc_info=error)
        return error
    raise AssertionError("the scenario should have failed")


@pytest.mark.parametrize("fault", SCENARIOS)
async def test_key_never_leaks(fault: str, captured_logs: io.StringIO) -> None:
    async with MockServer(MockConfig(text="Some text. More text.")) as server:
        stream = rs.chat(
            [{"role": "user", "content": "hi"}],
            model="m",
            base_url=server.base_url,
            api_key=KEY,
            retry=FAST,
            idle=0.3,
            headers={"x-mock-fault": fault},
        )
        error = await fail_with_logging(stream)
    assert_no_key(error, captured_logs.getvalue())


async def test_echoed_key_is_masked_in_the_error(captured_logs: io.StringIO) -> None:
    async with MockServer(MockConfig(api_key="sk-the-right-one-0000000000")) as server:
        error = await fail_with_logging(
            rs.chat(
                [{"role": "user", "content": "hi"}],
                model="m",
                base_url=server.base_url,
                api_key=KEY,
            )
        )
    assert isinstance(error, rs.HTTPStatusError)
    assert error.status == 401
    assert MASKED in error.body  # the server echoed the key; we show it masked
    assert_no_key(error, captured_logs.getvalue())


async def test_connection_refused_and_tls_failures_do_not_leak(captured_logs: io.StringIO) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for base in (f"http://127.0.0.1:{port}/v1?key={KEY}", f"https://127.0.0.1:{port}/v1"):
        error = await fail_with_logging(
            rs.chat(
                [{"role": "user", "content": "x"}],
                model="m",
                base_url=base,
                api_key=KEY,
                retry=None,
            )
        )
        assert_no_key(error, captured_logs.getvalue())


def test_secret_wrapper_hides_its_value() -> None:
    secret = rs.Secret(KEY)
    assert KEY not in repr(secret)
    assert KEY not in str(secret)
    assert KEY not in f"{secret}"
    assert secret.reveal() == KEY
    with pytest.raises(TypeError):
        __import__("pickle").dumps(secret)


def test_redaction_processor_masks_keys_headers_and_urls() -> None:
    event = rs.redact_secrets(
        None,
        "info",
        {
            "event": f"calling with {KEY}",
            "url": "https://generativelanguage.googleapis.com/v1?key=AIzaSyA-1234567890abcdef",
            "headers": {"Authorization": f"Bearer {KEY}", "Accept": "text/event-stream"},
        },
    )
    assert KEY not in repr(event)
    assert "AIzaSyA-1234567890abcdef" not in repr(event)
    assert event["headers"]["Accept"] == "text/event-stream"


def test_passwords_in_url_user_info_are_masked() -> None:
    event = rs.redact_secrets(
        None,
        "info",
        {
            "event": "redis_down",
            "redis": "redis://:hunter2-secret@127.0.0.1:6379/0",
            "proxy": "http://me:s3cr3t-pass@proxy.local:8080/",
            "plain": "http://127.0.0.1:8080/v1",
        },
    )
    assert "hunter2-secret" not in repr(event)
    assert "s3cr3t-pass" not in repr(event)
    assert event["redis"] == "redis://:[redacted]@127.0.0.1:6379/0"
    assert event["plain"] == "http://127.0.0.1:8080/v1"  # host:port is no password


async def test_a_password_in_the_request_url_never_reaches_the_logs(
    mock_server: MockServer,
) -> None:
    from structlog.testing import capture_logs

    url = mock_server.base_url.replace("http://", "http://user:pa55-secret@") + "/models"
    with capture_logs() as logs, pytest.raises(rs.HTTPStatusError) as info:
        await rs.collect(rs.from_http(url, method="GET"))
    assert logs
    assert "pa55-secret" not in repr(logs)
    assert "pa55-secret" not in str(info.value)


async def test_chat_policy_none_and_custom_policy_are_accepted() -> None:
    async with MockServer(MockConfig(text="Hi.")) as server:
        for policy in (None, RetryPolicy(max_retries=0)):
            deltas = await rs.collect(
                rs.chat(
                    [{"role": "user", "content": "x"}],
                    model="m",
                    base_url=server.base_url,
                    retry=policy,
                )
            )
            assert "".join(d.text for d in deltas if isinstance(d, rs.TextDelta)) == "Hi."
