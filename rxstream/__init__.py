"""rxstream: composable ReactiveX pipelines for streaming HTTP responses.

::

    import rxstream as rs
    from rxstream import operators as ops

    stream = rs.from_http(url, json=request, headers=headers).pipe(
        ops.parse_sse(), ops.sse_json(), ops.openai_chat(), ops.text()
    )
    await rs.run(stream, rs.sinks.console())
"""

from . import errors, models, operators, sinks, sources
from ._pool import ConnectionPool, connection_pool
from ._redact import Secret, redact_secrets
from ._redis import from_redis_stream, produce_once, stop
from ._retry import RetryPolicy
from .errors import (
    BufferOverflow,
    CircuitOpen,
    ConnectError,
    EventTooLarge,
    HTTPStatusError,
    LeaseLost,
    ParseError,
    ProviderError,
    RateLimitError,
    SchemaError,
    StreamError,
    StreamExpired,
    StreamInterrupted,
    StreamStopped,
    StreamTimeout,
)
from .models import (
    Completion,
    Delta,
    FinishDelta,
    MarkdownBlock,
    Message,
    ReasoningDelta,
    RefusalDelta,
    Restart,
    SSEEvent,
    StreamMetrics,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallProgress,
    Usage,
    UsageDelta,
)
from .operators._resilience import CircuitBreaker, fallback, hedge
from .sinks import collect, iterate, run
from .sources import (
    chat,
    from_async_iterable,
    from_chunks,
    from_file,
    from_http,
    from_recording,
)

__version__ = "0.1.0"

__all__ = [
    "BufferOverflow",
    "CircuitBreaker",
    "CircuitOpen",
    "Completion",
    "ConnectError",
    "ConnectionPool",
    "Delta",
    "EventTooLarge",
    "FinishDelta",
    "HTTPStatusError",
    "LeaseLost",
    "MarkdownBlock",
    "Message",
    "ParseError",
    "ProviderError",
    "RateLimitError",
    "ReasoningDelta",
    "RefusalDelta",
    "Restart",
    "RetryPolicy",
    "SSEEvent",
    "SchemaError",
    "Secret",
    "StreamError",
    "StreamExpired",
    "StreamInterrupted",
    "StreamMetrics",
    "StreamStopped",
    "StreamTimeout",
    "TextDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallProgress",
    "Usage",
    "UsageDelta",
    "__version__",
    "chat",
    "collect",
    "connection_pool",
    "errors",
    "fallback",
    "from_async_iterable",
    "from_chunks",
    "from_file",
    "from_http",
    "from_recording",
    "from_redis_stream",
    "hedge",
    "iterate",
    "models",
    "operators",
    "produce_once",
    "redact_secrets",
    "run",
    "sinks",
    "sources",
    "stop",
]
