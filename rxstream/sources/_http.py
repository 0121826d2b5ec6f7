"""``from_http``: an aiohttp response body as an observable of ``bytes``.

Transport only: this module moves bytes and turns transport failures into rxstream's
errors. Parsing happens downstream in operators.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Mapping
from ssl import SSLContext
from typing import Any, Final

import aiohttp
import msgspec
import yarl
from reactivex import Observable

from .._attempt import current_attempt
from .._ending import stream_complete
from .._http_status import MAX_ERROR_BODY_READ, status_error
from .._log import get_logger
from .._pool import connection_pool
from .._redact import SENSITIVE_HEADERS, Secret, redact_url, secrets_in
from ..errors import ConnectError, StreamError, StreamInterrupted
from ..telemetry import inject_trace_context
from ._task import Emitter, task_source

log = get_logger(__name__)

DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DRAIN_MAX_SECONDS: Final = 0.05
"""How long a finished stream waits for the rest of its body to keep the connection."""
DRAIN_MAX_BYTES: Final = 64 * 1024
"""How much of the rest of a finished stream's body is read to keep the connection."""
MAX_REDIRECTS: Final = 10
_ERROR_BODY_DEADLINE: Final = 5.0
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_DEFAULT_CLIENT_TIMEOUT: Final = aiohttp.ClientTimeout(  # frozen: one serves every request
    total=None, connect=DEFAULT_CONNECT_TIMEOUT, sock_connect=DEFAULT_CONNECT_TIMEOUT
)


def from_http(
    url: str,
    *,
    method: str = "POST",
    json: Any = None,
    headers: Mapping[str, str | Secret] | None = None,
    session: aiohttp.ClientSession | None = None,
    timeout: float | aiohttp.ClientTimeout | None = None,
    follow_redirects: bool = False,
    ssl: SSLContext | bool | None = None,
    propagate_trace: bool = True,
) -> Observable[bytes]:
    """Stream an HTTP response body as ``bytes`` chunks, as they arrive.

    Cold: every subscription makes one request (use ``reactivex.operators.share()`` to
    fan one response out to several subscribers). A non-2xx answer becomes
    ``HTTPStatusError`` (``RateLimitError`` for 429) before any item; connection
    failures become ``ConnectError``; a connection lost mid-body becomes
    ``StreamInterrupted``. Disposing closes the connection at once. Under
    ``ops.retry(on_partial="resume")`` a resumed attempt sends ``Last-Event-ID``.

    Args:
        url: ``http://`` or ``https://`` URL.
        method: HTTP method (``POST`` for LLM APIs).
        json: Request body, encoded as JSON.
        headers: Request headers. Credential values (``Authorization``, ``x-api-key``
            …, or any value wrapped in ``rxstream.Secret``) never appear in logs,
            reprs or errors.
        session: An ``aiohttp.ClientSession`` to use (left open). Without one, requests
            use the running loop's keep-alive pool (``rs.connection_pool()``), so
            requests after the first to a host reuse a warm connection.
        timeout: Seconds allowed to establish the connection (default 10), or an
            ``aiohttp.ClientTimeout``. Deadlines on the stream are ``ops.timeout()``'s.
        follow_redirects: Redirects are refused (``HTTPStatusError`` with the
            ``Location``) unless true; when followed, credential headers are dropped
            on a hop to another origin.
        ssl: ``None`` verifies TLS (default), an ``SSLContext`` customises it, ``False``
            disables verification (and logs a warning).
        propagate_trace: Send W3C ``traceparent`` when an OpenTelemetry span is current
            at subscription (with the ``otel`` extra and a configured SDK).
    """
    target = yarl.URL(url)
    if target.scheme not in ("http", "https") or not target.host:
        raise ValueError(f"from_http needs an absolute http(s) URL, got {redact_url(url)!r}")
    method = method.upper()
    request_headers: dict[str, str | Secret] = {
        name: Secret(value)
        if name.lower() in SENSITIVE_HEADERS and isinstance(value, str)
        else value
        for name, value in (headers or {}).items()
    }
    secrets = secrets_in(request_headers)
    body = None
    if json is not None:
        body = msgspec.json.encode(json)
        if not any(k.lower() == "content-type" for k in request_headers):
            request_headers["Content-Type"] = "application/json"
    if isinstance(timeout, aiohttp.ClientTimeout):
        client_timeout = timeout
    elif timeout is None:
        client_timeout = _DEFAULT_CLIENT_TIMEOUT
    else:
        seconds = float(timeout)
        client_timeout = aiohttp.ClientTimeout(total=None, connect=seconds, sock_connect=seconds)
    safe_url = redact_url(url)
    verify: SSLContext | bool = True if ssl is None else ssl

    async def body_task(out: Emitter[bytes]) -> None:
        if verify is False:
            log.warning("tls_verification_disabled", url=safe_url)
        attempt = current_attempt.get()
        send_headers = dict(request_headers)
        if attempt is not None and attempt.last_event_id:
            send_headers["Last-Event-ID"] = attempt.last_event_id
        if propagate_trace:
            inject_trace_context(send_headers)  # this task runs in the subscriber's context
        proxy_for: Callable[[yarl.URL], str | None] | None = None
        if session is not None:
            client = session
        else:
            pool = connection_pool()
            client, proxy_for = pool.session(), pool.proxy_for
        response: aiohttp.ClientResponse | None = None
        complete = False  # disposed because the stream is over, not because it was dropped
        started = time.perf_counter()
        log.debug(
            "request_started",
            method=method,
            url=safe_url,
            attempt=attempt.number if attempt is not None else 1,
            resume_after=attempt.last_event_id if attempt is not None else None,
        )
        try:
            response = await _open(
                client,
                method,
                target,
                body=body,
                headers=send_headers,
                follow_redirects=follow_redirects,
                ssl=verify,
                client_timeout=client_timeout,
                safe_url=safe_url,
                proxy_for=proxy_for,
            )
            opened = response

            def on_dispose() -> None:
                nonlocal complete
                if stream_complete.get() and out.end_after_emit():
                    complete = True  # keep the connection: read the rest of the body first
                else:
                    opened.close()  # dropped mid-body: the server must see it at once

            out.on_dispose(on_dispose)
            log.debug(
                "response_headers",
                status=response.status,
                content_type=response.content_type,
                elapsed=round(time.perf_counter() - started, 6),
            )
            if not 200 <= response.status < 300:
                raise await _read_status_error(response, safe_url, secrets)
            await _pump(response, out, started)
            if complete:
                await _drain_then_release(response)
            else:
                response.release()  # read to its end: back to the pool
        except asyncio.CancelledError:
            log.debug("stream_cancelled", url=safe_url)
            raise
        except StreamError as error:
            error.attempts = max(error.attempts, 1)  # this subscription made one request
            log.info("stream_failed", url=safe_url, error=type(error).__name__)
            raise
        finally:
            if response is not None:
                response.close()  # no-op once released; otherwise the connection goes

    return task_source(body_task, name="from_http")


async def _drain_then_release(response: aiohttp.ClientResponse) -> None:
    """The stream ended before its body did (``[DONE]`` read, terminator not yet): read
    what is left, within a small budget, so the connection can be reused."""
    left = DRAIN_MAX_BYTES
    if not response.content.at_eof():  # usually the end came with [DONE] already
        try:
            async with asyncio.timeout(DRAIN_MAX_SECONDS):
                while left > 0 and not response.content.at_eof():
                    piece = await response.content.readany()
                    if not piece:
                        break
                    left -= len(piece)
        except (TimeoutError, aiohttp.ClientError, ConnectionError):
            pass  # not worth waiting for: the connection is closed instead
    whole = response.content.at_eof()
    response.release()  # keeps the connection only when the body was read to its end
    log.debug("connection_released", kept=whole)


async def _open(
    client: aiohttp.ClientSession,
    method: str,
    url: yarl.URL,
    *,
    body: bytes | None,
    headers: dict[str, str | Secret],
    follow_redirects: bool,
    ssl: SSLContext | bool,
    client_timeout: aiohttp.ClientTimeout,
    safe_url: str,
    proxy_for: Callable[[yarl.URL], str | None] | None,
) -> aiohttp.ClientResponse:
    """Send the request, following redirects by hand so credentials never cross origins."""
    for _ in range(MAX_REDIRECTS + 1):
        failure: StreamError | None = None
        try:
            response = await client.request(
                method,
                url,
                data=body,
                headers={k: v.reveal() if isinstance(v, Secret) else v for k, v in headers.items()},
                allow_redirects=False,
                ssl=ssl,
                timeout=client_timeout,
                proxy=proxy_for(url) if proxy_for is not None else None,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Raised below, outside this block, so no aiohttp exception (which may hold
            # the request and its headers) rides along as __context__.
            failure = _connect_error(exc, url, client_timeout.connect)
        if failure is not None:
            raise failure
        location = response.headers.get("Location")
        if not follow_redirects or response.status not in _REDIRECTS or not location:
            return response
        response.close()
        next_url = url.join(yarl.URL(location))
        if next_url.origin() != url.origin():
            headers = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
            log.debug("redirect_credentials_dropped", to=redact_url(str(next_url.origin())))
        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
            method, body = "GET", None
        url = next_url
    raise ConnectError(f"More than {MAX_REDIRECTS} redirects starting at {safe_url}.")


async def _pump(response: aiohttp.ClientResponse, out: Emitter[bytes], started: float) -> None:
    chunks = received = 0
    first: float | None = None
    failure: StreamInterrupted | None = None
    try:
        async for chunk in response.content.iter_any():
            if first is None:
                first = time.perf_counter() - started
                log.debug("first_chunk", time_to_first_chunk=round(first, 6))
            chunks += 1
            received += len(chunk)
            out.emit(chunk)
            if out.disposed:
                return  # the stream is complete before its body ended (end_after_emit)
    except asyncio.CancelledError:
        raise
    except (aiohttp.ClientError, ConnectionError, asyncio.IncompleteReadError) as exc:
        if out.disposed:
            # Dispose closed the response under this read: that is a cancellation.
            raise asyncio.CancelledError from None
        failure = StreamInterrupted(
            f"The connection broke mid-stream after {received} bytes "
            f"({type(exc).__name__}: {_reason(exc)}). Retry the request; the partial "
            "output is on this error.",
        )
    if failure is not None:
        raise failure
    log.debug(
        "stream_completed",
        chunks=chunks,
        bytes=received,
        duration=round(time.perf_counter() - started, 6),
        time_to_first_chunk=None if first is None else round(first, 6),
    )


async def _read_status_error(
    response: aiohttp.ClientResponse, url: str, secrets: list[str]
) -> StreamError:
    body = bytearray()
    try:
        async with asyncio.timeout(_ERROR_BODY_DEADLINE):
            while len(body) < MAX_ERROR_BODY_READ:
                piece = await response.content.read(MAX_ERROR_BODY_READ - len(body))
                if not piece:
                    break
                body += piece
    except (TimeoutError, aiohttp.ClientError, ConnectionError):
        pass  # the status alone is the error; quote whatever body arrived
    response.close()  # never drain a possibly huge error body
    return status_error(
        status=response.status,
        reason=response.reason or "",
        url=url,
        headers=response.headers,
        body=bytes(body),
        secrets=secrets,
    )


def _connect_error(
    exc: BaseException, url: yarl.URL, connect_timeout: float | None
) -> ConnectError:
    """A ``ConnectError`` that says in plain words what happened, naming ``host:port``."""
    where = f"{url.host}:{url.port}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return ConnectError(
            f"TLS certificate verification failed for {where} ({_tls_reason(exc)}). Fix the "
            "server's certificate, or pass ssl= an SSLContext that trusts its CA "
            "(ssl=False turns verification off).",
            tls=True,
        )
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(
        getattr(exc, "os_error", None), socket.gaierror
    ):
        return ConnectError(
            f"Could not connect to {where}: could not resolve host name {url.host!r}. "
            "Check the URL's host name and your DNS."
        )
    if isinstance(exc, TimeoutError):
        after = f" after {connect_timeout:g} s" if connect_timeout else ""
        return ConnectError(
            f"Could not connect to {where}: timed out connecting{after}. Check the address "
            "and your network, or raise timeout=."
        )
    if isinstance(exc, ConnectionRefusedError) or isinstance(
        getattr(exc, "os_error", None), ConnectionRefusedError
    ):
        return ConnectError(
            f"Could not connect to {where}: connection refused. Check that the server is "
            "running and the URL (host and port) is right."
        )
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ConnectError(
            f"The server at {where} closed the connection before answering. Retrying may help."
        )
    if isinstance(exc, aiohttp.ClientError | OSError):
        return ConnectError(
            f"Could not connect to {where} ({type(exc).__name__}: {_reason(exc)}). "
            "Check that the server is running and the URL is right."
        )
    return ConnectError(f"The request to {where} failed before any answer ({type(exc).__name__}).")


def _tls_reason(exc: BaseException) -> str:
    cause = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None)
    detail = getattr(cause, "verify_message", None) or getattr(cause, "reason", None)
    return str(detail) if detail else _reason(cause or exc)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]
