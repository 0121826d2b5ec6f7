"""An embedded OpenAI-compatible streaming server, so nothing needs a key or the internet.

::

    async with MockServer(MockConfig(text="Hello!")) as server:
        stream = rs.from_http(server.chat_url, json={...})
"""

from ._script import DEFAULT_TEXT, MockConfig, stream_events, tokenize
from ._server import MockServer, StreamRecord, create_app, serve_forever

__all__ = [
    "DEFAULT_TEXT",
    "MockConfig",
    "MockServer",
    "StreamRecord",
    "create_app",
    "serve_forever",
    "stream_events",
    "tokenize",
]
