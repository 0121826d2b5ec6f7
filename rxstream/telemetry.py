"""OpenTelemetry for streams: GenAI spans and metrics, trace context, log correlation.

Optional (the ``otel`` extra: ``opentelemetry-api``) and free when unused: nothing is
created unless OpenTelemetry is importable *and* an SDK provider is configured — checked
at each subscription, so configuring OpenTelemetry after ``import rxstream`` still takes
effect. Spans follow the GenAI semantic conventions and end however the stream ends
(complete, error, dispose); the span is made current only around the synchronous
``subscribe`` of the stages below it (so the request task inherits it and ``from_http``
sends ``traceparent``), never across awaits.

Metrics (``gen_ai.client.*``, with the conventions' advisory bucket boundaries) are
recorded once per stream at its end: duration, time to first chunk, time per output
chunk (the stream's mean) and token usage. One histogram record costs 15–25 µs, more
than rxstream's whole work per chunk, so nothing is recorded per chunk.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping
from typing import Any, Final, TypeVar

from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ._ending import stream_stopped
from ._observable import DirectObservable, is_direct
from ._tap import current_tap
from .models import FinishDelta, Restart, UsageDelta
from .typing import Operator

T = TypeVar("T")

DURATION_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
)  # fmt: skip
TOKEN_BUCKETS: Final = (
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
)  # fmt: skip
FIRST_CHUNK_BUCKETS: Final = (
    0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
)  # fmt: skip
PER_CHUNK_BUCKETS: Final = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5,
)  # fmt: skip
_SCOPE: Final = "rxstream"


def _installed() -> Any:
    """The ``opentelemetry.trace`` API, or ``None`` when the extra is not installed."""
    global _api
    if _api is None:
        try:
            from opentelemetry import trace as api

            _api = api
        except ImportError:
            _api = False  # remembered: a failed import searches sys.path every time
    return _api or None


def _otel() -> Any:
    """The ``opentelemetry.trace`` API when it is installed and an SDK provider is set."""
    api = _installed()
    if api is None:
        return None
    provider = api.get_tracer_provider()
    if type(provider).__name__ in ("ProxyTracerProvider", "NoOpTracerProvider"):
        return None  # installed, not configured: create nothing (checked every time)
    return api


_api: Any = None


class _Instruments:
    """The GenAI client histograms, made once per meter provider."""

    def __init__(self) -> None:
        from opentelemetry import metrics

        meter = metrics.get_meter(_SCOPE)
        self.provider = metrics.get_meter_provider()
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )
        self.first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk",
            explicit_bucket_boundaries_advisory=FIRST_CHUNK_BUCKETS,
        )
        self.per_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_per_output_chunk",
            unit="s",
            description="Time per output chunk after the first (the stream's mean)",
            explicit_bucket_boundaries_advisory=PER_CHUNK_BUCKETS,
        )


_instruments: _Instruments | None = None


def _metrics() -> _Instruments:
    global _instruments
    from opentelemetry import metrics

    if _instruments is None or _instruments.provider is not metrics.get_meter_provider():
        _instruments = _Instruments()
    return _instruments


def chat_span(
    *,
    model: str,
    provider: str,
    server: tuple[str, int] | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
) -> Operator[T, T]:
    """The GenAI ``CLIENT`` span and metrics around one chat call (``rs.chat`` adds it)."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
    }
    if max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = max_tokens
    if temperature is not None:
        attributes["gen_ai.request.temperature"] = temperature
    if server is not None:
        attributes["server.address"], attributes["server.port"] = server
    return _spanned(f"chat {model}", attributes, genai=True)


def trace(name: str | None = None, **attributes: Any) -> Operator[T, T]:
    """A span around a stage of your own: it starts at subscription, counts the items
    (``rxstream.items``) and ends with the stream — completed, failed (``error.type``)
    or disposed (``rxstream.cancelled``). ``name`` defaults to ``rxstream.stage``.

    ::

        --a--b--|
        [ trace("render") ]
        --a--b--|        one span "render", rxstream.items = 2
    """
    return _spanned(name or "rxstream.stage", dict(attributes), genai=False)


def _spanned(name: str, attributes: dict[str, Any], *, genai: bool) -> Operator[T, T]:
    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            otel = _otel()
            if otel is None:
                # straight to the source: the observer given here is already the
                # subscriber's guarded one, so no second wrapper (a hop per item)
                return source._subscribe_core(observer, scheduler)
            from opentelemetry import context

            kind = otel.SpanKind.CLIENT if genai else otel.SpanKind.INTERNAL
            span = otel.get_tracer(_SCOPE).start_span(name, kind=kind, attributes=attributes)
            watch = _Watch(span, genai, attributes)
            # A chat call learns its items from the decoder chains below it, once per
            # batch (current_tap), so items pass straight through: no per-item hop.
            forward = _Forward(observer, watch, count_items=not genai)
            token = context.attach(otel.set_span_in_context(span))
            tapped = current_tap.set(watch.observe_batch) if genai else None
            try:  # current only while the stages below subscribe (synchronously)
                upstream = source._subscribe_core(forward, scheduler)
            finally:
                if tapped is not None:
                    current_tap.reset(tapped)
                context.detach(token)

            def dispose() -> None:
                upstream.dispose()
                watch.end(None, cancelled=True)  # never left open

            return Disposable(dispose)

        # forwarding to a source that keeps the observer contract keeps it too: then
        # subscribed directly, like the source alone (no wrapper per item)
        return DirectObservable(subscribe) if is_direct(source) else Observable(subscribe)

    return operator


class _Forward(abc.ObserverBase[Any]):
    """Passes items on (counting them for ``ops.trace``) and ends the span with the stream."""

    def __init__(
        self, observer: abc.ObserverBase[Any], watch: _Watch, *, count_items: bool
    ) -> None:
        self._observer = observer
        self._watch = watch
        if not count_items:
            self.on_next = observer.on_next  # type: ignore[method-assign]

    def on_next(self, value: Any) -> None:
        self._watch.observe(value)
        self._observer.on_next(value)

    def on_error(self, error: Exception) -> None:
        self._watch.end(error)
        self._observer.on_error(error)

    def on_completed(self) -> None:
        self._watch.end(None)
        self._observer.on_completed()


class _Watch:
    """What a span learns from the items, and how it ends (once)."""

    __slots__ = (
        "_attributes", "_first", "_genai", "_items", "_reasons", "_span", "_started", "_usage",
        "ended",
    )  # fmt: skip

    def __init__(self, span: Any, genai: bool, attributes: dict[str, Any]) -> None:
        self._span = span
        self._genai = genai
        self._attributes = attributes
        self._started = time.perf_counter()
        self._first: float | None = None
        self._items = 0
        self._reasons: list[str] = []
        self._usage: Any = None
        self.ended = False

    def observe_batch(self, items: list[Any]) -> None:
        """What a decoder chain below emits, a batch at a time (a type check per item)."""
        if self._first is None and items:
            self._first = time.perf_counter()
        self._items += len(items)
        for item in items:
            kind = type(item)
            if kind is FinishDelta:
                self._reasons.append(item.reason)
            elif kind is UsageDelta:
                self._usage = item.usage

    def observe(self, item: Any) -> None:
        self._items += 1
        if self._first is None:
            self._first = time.perf_counter()
        kind = type(item)
        if kind is FinishDelta:
            self._reasons.append(item.reason)
        elif kind is UsageDelta:
            self._usage = item.usage
        elif kind is Restart:
            self._span.add_event("rxstream.restart", {"reason": item.reason})
            self._reasons.clear()

    def end(self, error: BaseException | None, *, cancelled: bool = False) -> None:
        if self.ended:
            return
        self.ended = True
        span = self._span
        now = time.perf_counter()
        outcome: dict[str, Any] = {}
        if self._genai:
            span.set_attribute("gen_ai.response.model", self._attributes["gen_ai.request.model"])
            if self._reasons:
                span.set_attribute("gen_ai.response.finish_reasons", self._reasons)
            if self._usage is not None:
                if self._usage.prompt_tokens is not None:
                    span.set_attribute("gen_ai.usage.input_tokens", self._usage.prompt_tokens)
                if self._usage.completion_tokens is not None:
                    output = self._usage.completion_tokens
                    span.set_attribute("gen_ai.usage.output_tokens", output)
        else:
            span.set_attribute("rxstream.items", self._items)
        if error is not None:
            outcome["error.type"] = type(error).__name__
            span.set_attribute("error.type", type(error).__name__)
            from opentelemetry.trace import Status, StatusCode

            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        elif cancelled:
            span.set_attribute("rxstream.cancelled", True)
            if stream_stopped.get():
                span.add_event("rxstream.stop")  # a Stop, not a consumer that went away
        span.end()
        if self._genai:
            self._record(now, outcome)

    def _record(self, now: float, outcome: dict[str, Any]) -> None:
        instruments = _metrics()
        labels = {
            key: self._attributes[key]
            for key in ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model")
        }
        labels |= outcome
        instruments.duration.record(now - self._started, labels)
        if self._first is not None:
            instruments.first_chunk.record(self._first - self._started, labels)
            if self._items > 1:
                instruments.per_chunk.record((now - self._first) / (self._items - 1), labels)
        usage = self._usage
        if usage is not None:
            counts = (("input", usage.prompt_tokens), ("output", usage.completion_tokens))
            for token_type, count in counts:
                if count is not None:
                    instruments.tokens.record(count, labels | {"gen_ai.token.type": token_type})


def span_event(name: str, **attributes: Any) -> None:
    """Add event ``name`` to the current span, if one is recording (retries, fallback
    switches, hedges, breaker changes: rare, so the check costs nothing per chunk).

    Callbacks of a stream run in the context its subscription was made in (the request
    task, and the timers scheduled from it, copy it), so the current span there is the
    ``chat`` span around it.
    """
    otel = _otel()
    if otel is None:
        return
    span = otel.get_current_span()
    if span.is_recording():
        span.add_event(name, {k: v for k, v in attributes.items() if v is not None})


def continue_trace(headers: Mapping[str, str]) -> Operator[T, T]:
    """Continue the trace of an incoming request (its W3C ``traceparent``): the stages
    below are subscribed in that trace's context, so their spans (``rs.chat``'s) become
    its children. For servers: the gateway applies it to each request.
    """

    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            if _otel() is None or not headers.get("traceparent"):
                return source.subscribe(observer, scheduler=scheduler)
            from opentelemetry import context, propagate

            token = context.attach(propagate.extract(headers))
            try:  # only around the synchronous subscribe, never across awaits
                return source.subscribe(observer, scheduler=scheduler)
            finally:
                context.detach(token)

        return Observable(subscribe)

    return operator


def linked_span(name: str, traceparent: str) -> Any:
    """A started ``CONSUMER`` span linked to the producer whose ``traceparent`` a stream
    carried (``None`` without a configured SDK). The caller ends it."""
    otel = _otel()
    if otel is None:
        return None
    from opentelemetry import propagate

    producer = otel.get_current_span(propagate.extract({"traceparent": traceparent}))
    context = producer.get_span_context()
    links = [otel.Link(context)] if context.is_valid else []
    return otel.get_tracer(_SCOPE).start_span(name, kind=otel.SpanKind.CONSUMER, links=links)


def add_trace_context(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: ``trace_id`` and ``span_id`` (hex) of the current span on
    every event, so logs link to traces. Add it to ``structlog.configure(processors=...)``."""
    api = _installed()
    if api is None:
        return event_dict
    context = api.get_current_span().get_span_context()
    if context.is_valid:
        event_dict["trace_id"] = format(context.trace_id, "032x")
        event_dict["span_id"] = format(context.span_id, "016x")
    return event_dict


def inject_trace_context(headers: MutableMapping[str, Any]) -> None:
    """Add W3C ``traceparent`` (and ``tracestate``) for the current span, if any."""
    if _otel() is None:
        return
    from opentelemetry import propagate

    propagate.inject(headers)


__all__ = [
    "add_trace_context",
    "chat_span",
    "continue_trace",
    "inject_trace_context",
    "linked_span",
    "span_event",
    "trace",
]
