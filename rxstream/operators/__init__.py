"""rxstream's operators, grouped by what they do.

Every operator is a function returning ``Callable[[Observable[A]], Observable[B]]``,
for use in ``source.pipe(...)``. Options are checked when the operator is created.

- parsing: :func:`parse_sse`, :func:`parse_ndjson`, :func:`sse_json`
- providers: :func:`openai_chat`, :func:`openai_responses`, :func:`anthropic_messages`,
  :func:`ollama_chat`, :func:`gemini`
- assembly: :func:`text`, :func:`accumulate`
- shaping: :func:`sentences`, :func:`words`, :func:`lines`, :func:`buffer_text`,
  :func:`throttle_text`, :func:`debounce_text`, :func:`smooth`
- control: :func:`retry`, :func:`timeout`, :func:`metrics`, :func:`trace`
- across providers: :func:`guard` (with ``rs.CircuitBreaker``; ``rs.fallback`` and
  ``rs.hedge`` combine sources)
- structured output: :func:`partial_json`, :func:`json_items`, :func:`json_result`,
  :func:`partial_tool_calls`
- markdown: :func:`markdown_blocks`

For standard Rx operators (``share``, ``replay``, ``last``, ``take`` …) use
``reactivex.operators``: rxstream's operators compose with them.
"""

from ..telemetry import trace
from ._assemble import accumulate, text
from ._control import metrics, retry, timeout
from ._markdown import markdown_blocks
from ._parse import parse_ndjson, parse_sse, sse_json
from ._providers import anthropic_messages, gemini, ollama_chat, openai_chat, openai_responses
from ._resilience import guard
from ._shape import buffer_text, debounce_text, lines, sentences, smooth, throttle_text, words
from ._structured import json_items, json_result, partial_json, partial_tool_calls

__all__ = [
    "accumulate",
    "anthropic_messages",
    "buffer_text",
    "debounce_text",
    "gemini",
    "guard",
    "json_items",
    "json_result",
    "lines",
    "markdown_blocks",
    "metrics",
    "ollama_chat",
    "openai_chat",
    "openai_responses",
    "parse_ndjson",
    "parse_sse",
    "partial_json",
    "partial_tool_calls",
    "retry",
    "sentences",
    "smooth",
    "sse_json",
    "text",
    "throttle_text",
    "timeout",
    "trace",
    "words",
]
