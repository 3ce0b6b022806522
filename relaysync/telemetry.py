"""OpenTelemetry instrumentation, active only when ``opentelemetry-api`` is installed.

With the ``otel`` extra, every client follows its calls through the frames it sends and
reads (a :class:`CallTracer` is one of its link's frame taps):

- a ``relay.call`` span per call, from the offer (``calling.call.receive``) or the
  ``calling.dial`` request to the call's ``ended`` state (or the dial's failure);
- a child span per RELAY method sent, named by the method, with ``relay.method``,
  ``relay.call_id``, ``relay.control_id`` and ``relay.outcome`` (the reply's code, or
  for a method that starts an action, the action's final state; a REFER adds its SIP
  codes ``relay.sip_refer_response_code`` and ``relay.sip_notify_response_code``);
- the metrics ``relay.rpc.duration`` (histogram, ms, by ``relay.method``),
  ``relay.calls.active`` (up-down counter) and ``relay.reconnects`` (counter).

The taps run on the thread that writes a frame and on the reader thread, which never
runs application code; but ending a span runs the application's span processors and
exporters, and recording a measurement its metric views. So once the tracer is live,
the taps only stamp the time and copy the few fields they need onto a bounded queue
(:data:`MAX_QUEUED` entries), and one ``relaysync-telemetry`` thread per client, started
at the first frame traced, starts and ends the spans (with the stamped times, so
durations stay exact) and records the metrics. When that thread falls behind (a slow
exporter) and the queue is full, new entries are dropped, counted in
:attr:`CallTracer.dropped` and reported by a rate-limited WARNING: the reader never
waits. The client's ``close()`` lets the thread drain the queue, end the spans still
open (outcome ``closed``) and joins it; :meth:`CallTracer.flush` waits for the queue
to drain without closing.

Spans and instruments come from the global tracer and meter providers, which are
no-ops until the application configures an SDK (until then the tracer skips its work
altogether: no thread, no queue, and an installed API costs a clock read per frame);
:func:`use_providers` points new clients at other providers instead (tests, or an
application that keeps its own).
Without ``opentelemetry-api``, :func:`call_tracer` returns ``None``, nothing of
OpenTelemetry is imported, and the client carries no tap at all.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Dict, FrozenSet, Mapping, Optional, Tuple

from . import constants as C
from ._log import LimitedLog
from ._threads import LIBRARY_STACK_SIZE, start_thread
from ._version import __version__
from .operations import OPERATIONS
from .waiting import Deadline

METHOD_DIAL = "calling.dial"
#: Seconds between two looks at the global providers while they are the API's no-ops.
PROVIDER_CHECK_INTERVAL = 1.0
#: Requests, calls and actions followed at once at most (the oldest is ended first).
MAX_TRACKED = 10_000
#: Entries waiting for a client's telemetry thread at most; beyond, new ones are dropped.
MAX_QUEUED = 10_000
#: The name of the thread that records a client's spans and metrics.
THREAD_NAME = "relaysync-telemetry"

# States after which an action's span ends (the outcome of the method that started it).
FINAL_STATES = frozenset(
    {
        "finished",
        "error",
        "no_input",
        "no_match",
        "digit",
        "speech",
        "success",
        "busy",
        "noAnswer",
        "cancel",
        "failed",
        "connected",
        "disconnected",
        "completed",
        "stopped",
    }
)
_REFER_CODES = ("sip_refer_to", "sip_refer_response_code", "sip_notify_response_code")
# What an event's params are copied down to before they go on the queue.
_EVENT_KEYS = (
    "control_id",
    "call_id",
    "call_state",
    "end_reason",
    "tag",
    "dial_state",
    "state",
    "connect_state",
    *_REFER_CODES,
)
_NESTED_KEYS = (
    ("call", ("call_id",)),
    ("result", ("type", "event")),
    ("detect", ("type", "event")),
)
# Kinds of queue entries.
_SENT, _REPLY, _EVENT, _RECONNECT, _FLUSH = range(5)
_limited = LimitedLog()
_UNSET: Any = object()
_state_lock = threading.Lock()
_api: Any = _UNSET  # the opentelemetry modules (trace, metrics), or None without them
_providers: Tuple[Any, Any] = (None, None)  # (tracer provider, meter provider) overrides
_instruments: Optional[Instruments] = None


def _load_api() -> Any:
    """Import opentelemetry's trace and metrics API once; ``None`` when absent."""
    global _api
    with _state_lock:
        if _api is _UNSET:
            try:
                from opentelemetry import metrics, trace
            except ImportError:
                _api = None
            else:
                _api = (trace, metrics)
        return _api


def use_providers(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Make clients created from now on use these providers instead of the global ones.

    Useful in tests (OpenTelemetry's global providers can be set only once per process)
    and in applications that keep their own providers. ``use_providers()`` with no
    argument returns to the global providers.

    Args:
        tracer_provider: an OpenTelemetry ``TracerProvider``, or ``None`` for the global.
        meter_provider: an OpenTelemetry ``MeterProvider``, or ``None`` for the global.
    """
    global _providers, _instruments
    with _state_lock:
        _providers = (tracer_provider, meter_provider)
        _instruments = None


class Instruments:
    """The tracer and the three metric instruments, from one pair of providers."""

    def __init__(self, trace: Any, metrics: Any, tracer_provider: Any, meter_provider: Any):
        self.trace = trace
        self._metrics = metrics
        # Given providers are used at once; the global ones once an SDK replaced the
        # API's proxies (until then every span and measurement would be a no-op).
        self._live = tracer_provider is not None or meter_provider is not None
        self._next_check = 0.0  # looking the providers up costs microseconds: once a second
        self.tracer = trace.get_tracer("relaysync", __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter("relaysync", __version__, meter_provider=meter_provider)
        self.rpc_duration = meter.create_histogram(
            "relay.rpc.duration", unit="ms", description="RELAY request round trip"
        )
        self.calls_active = meter.create_up_down_counter(
            "relay.calls.active", unit="{call}", description="Calls in progress"
        )
        self.reconnects = meter.create_counter(
            "relay.reconnects", unit="{reconnect}", description="Sessions re-established"
        )

    def live(self) -> bool:
        """Whether spans and measurements go anywhere: providers were given, or the
        application configured an SDK (the global providers are no longer the API's
        proxies; looked at once a second at most). Until then the tracer does no work."""
        if not self._live:
            now = time.monotonic()
            if now < self._next_check:
                return False
            self._next_check = now + PROVIDER_CHECK_INTERVAL
            tracer_provider = self.trace.get_tracer_provider()
            meter_provider = self._metrics.get_meter_provider()
            self._live = not isinstance(tracer_provider, self.trace.ProxyTracerProvider) or (
                "Proxy" not in type(meter_provider).__name__
            )
        return self._live


def _instruments_now() -> Optional[Instruments]:
    """The instruments for new clients (built once per provider setting), or ``None``."""
    global _instruments
    api = _load_api()
    if api is None:
        return None
    with _state_lock:
        if _instruments is None:
            _instruments = Instruments(api[0], api[1], *_providers)
        return _instruments


def call_tracer() -> Optional[CallTracer]:
    """A tap that traces one client's calls, or ``None`` without opentelemetry-api."""
    instruments = _instruments_now()
    return None if instruments is None else CallTracer(instruments)


class _Request:
    __slots__ = ("call_id", "control_id", "method", "span", "started")

    def __init__(
        self,
        span: Any,
        method: str,
        call_id: Optional[str],
        control_id: Optional[str],
        started: int,
    ) -> None:
        self.span = span
        self.method = method
        self.call_id = call_id
        self.control_id = control_id
        self.started = started  # time.monotonic_ns() when the request was written


def _str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _end_span(span: Any, outcome: str, wall: Optional[int] = None) -> None:
    """End ``span`` (at ``wall`` ns, else now) with its ``relay.outcome``."""
    span.set_attribute("relay.outcome", outcome)
    span.end(end_time=wall)


def _pop_oldest(items: Dict[str, Any]) -> Any:
    """Remove and return the oldest entry of a dict kept at :data:`MAX_TRACKED`."""
    return items.pop(next(iter(items)))


def _scalars(params: Mapping[str, Any], keys: Tuple[str, ...]) -> Dict[str, Any]:
    """The string and integer values of ``keys`` in ``params`` (others left out)."""
    return {key: value for key in keys if isinstance(value := params.get(key), (str, int))}


def _event_facts(params: Mapping[str, Any]) -> Dict[str, Any]:
    """The scalars of an event's params that the tracer reads, copied: the params go on
    to the application, which may change them before the telemetry thread looks."""
    facts = _scalars(params, _EVENT_KEYS)
    for key, inner in _NESTED_KEYS:
        nested = params.get(key)
        if isinstance(nested, dict):
            facts[key] = _scalars(nested, inner)
    return facts


Entry = Tuple[Any, ...]


class CallTracer:
    """Spans and metrics of one client, derived from the frames it sends and reads.

    The frame taps (:meth:`sent` on the thread that writes a request, :meth:`received`
    on the reader) only stamp the time and copy the few fields they need onto a bounded
    queue; one ``relaysync-telemetry`` thread, started at the first frame once the
    tracer is live, does the rest: spans, attributes, metrics, and so the application's
    span processors, exporters and metric views. A full queue drops the entry (counted
    in :attr:`dropped`, with a rate-limited WARNING) rather than block the reader.
    :meth:`close` drains the queue and joins the thread.

    Args:
        instruments: where the spans and metrics go.
    """

    def __init__(self, instruments: Instruments) -> None:
        self._i = instruments
        self._lock = threading.Lock()  # guards the fields below up to _dropped
        self._queue: Optional[queue.Queue[Optional[Entry]]] = None
        self._thread: Optional[threading.Thread] = None
        self._closed = False
        self._dropped = 0
        # Telemetry thread only:
        self._requests: Dict[str, _Request] = {}  # request id -> its span
        self._calls: Dict[str, Any] = {}  # call_id -> relay.call span
        self._dials: Dict[str, Any] = {}  # dial tag -> relay.call span, until answered
        self._actions: Dict[str, _Request] = {}  # control_id -> the span that started it

    @property
    def dropped(self) -> int:
        """Entries dropped because the telemetry thread's queue was full."""
        with self._lock:
            return self._dropped

    # ------------------------------------------------------------------ frame taps

    def sent(self, frame: Mapping[str, Any]) -> None:
        """A frame the client wrote: a request gets a span (pings excepted)."""
        method = frame.get("method")
        request_id = frame.get("id")
        if not isinstance(method, str) or not isinstance(request_id, str):
            return
        if not self._i.live():
            return
        if method == C.METHOD_PING:
            return
        params = frame.get("params")
        params = params if isinstance(params, dict) else {}
        self._put(
            (
                _SENT,
                time.time_ns(),
                time.monotonic_ns(),
                method,
                request_id,
                _str(params.get("call_id")),
                _str(params.get("control_id")),
                _str(params.get("tag")),
            )
        )

    def received(self, frame: Mapping[str, Any]) -> None:
        """A frame the client read: a reply ends its request's span, events move calls."""
        if not self._i.live():
            return
        method = frame.get("method")
        if method is None:
            request_id = frame.get("id")
            if not isinstance(request_id, str):
                return
            error = frame.get("error")
            if error is not None:
                code = error.get("code") if isinstance(error, dict) else None
            else:
                result = frame.get("result")
                code = result.get("code") if isinstance(result, dict) else None
            code = None if code is None else str(code)
            self._put(
                (_REPLY, time.time_ns(), time.monotonic_ns(), request_id, error is not None, code)
            )
        elif method == C.METHOD_EVENT:
            payload = frame.get("params")
            if not isinstance(payload, dict):
                return
            params = payload.get("params")
            if isinstance(params, dict):
                event_type = _str(payload.get("event_type"))
                self._put((_EVENT, time.time_ns(), 0, event_type, _event_facts(params)))

    def acked(self, request_id: Any) -> None:
        """An event acked: nothing to trace."""

    def reconnected(self) -> None:
        """A session was re-established after a lost socket."""
        if self._i.live():
            self._put((_RECONNECT,))

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Wait until the telemetry thread has handled every frame seen so far.

        Args:
            timeout: the longest wait in seconds; ``None`` waits as long as it takes.

        Returns:
            True when done (or nothing was ever queued), False on timeout.
        """
        with self._lock:
            entries, thread = self._queue, self._thread
        if entries is None or thread is None or not thread.is_alive():
            return True
        deadline = Deadline(timeout)
        done = threading.Event()
        try:
            entries.put((_FLUSH, done), timeout=timeout)
        except queue.Full:
            return False
        return done.wait(deadline.remaining())

    def close(self, timeout: Optional[float] = None) -> bool:
        """Stop tracing: the telemetry thread handles what is queued, ends every span
        still open (outcome ``closed``) and is joined.

        Args:
            timeout: the longest wait for the thread in seconds; ``None``: no limit.

        Returns:
            True when the thread ended (or never started), False if it is still busy
            after ``timeout`` (an exporter that blocks); it then ends on its own later.
        """
        with self._lock:
            self._closed = True
            entries, thread = self._queue, self._thread
        if entries is None or thread is None or not thread.is_alive():
            return True
        deadline = Deadline(timeout)
        try:
            entries.put(None, timeout=timeout)
        except queue.Full:
            pass
        else:
            thread.join(deadline.remaining())
        if thread.is_alive():
            _limited.warning(
                "telemetry_close",
                "relaysync: the telemetry thread is still busy (a span exporter or metric "
                "reader blocks); the client closed without it",
            )
            return False
        return True

    # ------------------------------------------------------------------ queue and thread

    def _put(self, entry: Entry) -> None:
        """Hand ``entry`` to the telemetry thread (started here the first time); never blocks."""
        entries = self._queue
        if entries is None:
            entries = self._start()
            if entries is None:
                return
        try:
            entries.put_nowait(entry)
        except queue.Full:
            with self._lock:
                self._dropped += 1
                dropped = self._dropped
            _limited.warning(
                "telemetry_full",
                "relaysync: the telemetry queue is full (%d entries), spans and metrics "
                "are dropped (%d so far): a span exporter or metric reader is too slow",
                MAX_QUEUED,
                dropped,
            )

    def _start(self) -> Optional[queue.Queue[Optional[Entry]]]:
        with self._lock:
            if self._closed:
                return None
            if self._queue is None:
                entries: queue.Queue[Optional[Entry]] = queue.Queue(MAX_QUEUED)
                self._thread = start_thread(
                    self._run, THREAD_NAME, LIBRARY_STACK_SIZE, args=(entries,)
                )
                self._queue = entries
            return self._queue

    def _run(self, entries: queue.Queue[Optional[Entry]]) -> None:
        """The telemetry thread: handle entries until the ``None`` that :meth:`close` puts."""
        while True:
            entry = entries.get()
            try:
                if entry is None:
                    self._end_all()
                    return
                self._handle(entry)
            except Exception:  # an exporter's or a view's failure must not end the thread
                _limited.log(
                    logging.ERROR, "telemetry_error", "relaysync: telemetry failed", exc_info=True
                )

    def _handle(self, entry: Entry) -> None:
        kind = entry[0]
        if kind == _REPLY:
            self._reply(*entry[1:])
        elif kind == _EVENT:
            self._event(entry[1], entry[3], entry[4])
        elif kind == _SENT:
            self._sent(*entry[1:])
        elif kind == _RECONNECT:
            self._i.reconnects.add(1)
        elif kind == _FLUSH:
            entry[1].set()

    # ------------------------------------------------------------------ telemetry thread

    def _end_all(self) -> None:
        """End every span still open (the client is closing)."""
        spans = [r.span for r in self._requests.values()]
        spans += [r.span for r in self._actions.values()]
        calls = [*self._calls.values(), *self._dials.values()]
        self._requests.clear()
        self._actions.clear()
        self._calls.clear()
        self._dials.clear()
        for span in spans + calls:
            _end_span(span, "closed")
        if calls:
            self._i.calls_active.add(-len(calls))

    def _sent(
        self,
        wall: int,
        started: int,
        method: str,
        request_id: str,
        call_id: Optional[str],
        control_id: Optional[str],
        tag: Optional[str],
    ) -> None:
        attributes: Dict[str, Any] = {"relay.method": method}
        if call_id:
            attributes["relay.call_id"] = call_id
        if control_id:
            attributes["relay.control_id"] = control_id
        tracer = self._i.tracer
        dial_span = None
        if method == METHOD_DIAL and tag:
            dial_span = tracer.start_span(
                "relay.call",
                attributes={"relay.direction": "outbound", "relay.tag": tag},
                start_time=wall,
            )
            self._i.calls_active.add(1)
            self._dials[tag] = dial_span
            if len(self._dials) > MAX_TRACKED:
                _end_span(_pop_oldest(self._dials), "untracked", wall)
        parent = dial_span or (self._calls.get(call_id) if call_id else None)
        context = self._i.trace.set_span_in_context(parent) if parent is not None else None
        span = tracer.start_span(method, context=context, attributes=attributes, start_time=wall)
        self._requests[request_id] = _Request(span, method, call_id, control_id, started)
        if len(self._requests) > MAX_TRACKED:
            _end_span(_pop_oldest(self._requests).span, "untracked", wall)

    def _reply(
        self, wall: int, ended: int, request_id: str, failed: bool, code: Optional[str]
    ) -> None:
        request = self._requests.pop(request_id, None)
        if request is None:
            return
        elapsed_ms = (ended - request.started) / 1e6
        self._i.rpc_duration.record(elapsed_ms, {"relay.method": request.method})
        if failed:
            outcome = f"error {code}" if code is not None else "error"
        else:
            outcome = code if code is not None else "ok"
        succeeded = not failed and (code is None or code.startswith("2"))
        key = _action_key(request) if succeeded else None
        if key is not None and key not in self._actions:  # a new action, not a sub-command
            self._actions[key] = request
            if len(self._actions) > MAX_TRACKED:
                _pop_oldest(self._actions).span.end(end_time=wall)
            return
        _end_span(request.span, outcome, wall)

    def _event(self, wall: int, event_type: Optional[str], params: Mapping[str, Any]) -> None:
        if self._actions and event_type is not None:
            control_id = _str(params.get("control_id"))
            call_id = _str(params.get("call_id"))
            key = control_id or (f"{call_id} {event_type}" if call_id else None)
            if key is not None:
                self._action_event(wall, key, event_type, params)
        if event_type == C.EVENT_CALL_RECEIVE:
            call_id = _str(params.get("call_id"))
            if call_id is not None:
                self._start_call(wall, call_id, "inbound")
        elif event_type == C.EVENT_CALL_STATE:
            if params.get("call_state") == C.CALL_ENDED:
                call_id = _str(params.get("call_id"))
                if call_id is not None:
                    self._end_call(wall, call_id, _str(params.get("end_reason")) or "ended")
        elif event_type == C.EVENT_CALL_DIAL:
            self._dial_event(wall, params)

    def _start_call(self, wall: int, call_id: str, direction: str) -> None:
        span = self._i.tracer.start_span(
            "relay.call",
            attributes={"relay.call_id": call_id, "relay.direction": direction},
            start_time=wall,
        )
        old = self._calls.pop(call_id, None)
        self._calls[call_id] = span
        if old is None and len(self._calls) > MAX_TRACKED:
            old = _pop_oldest(self._calls)
        if old is not None:
            old.end(end_time=wall)
        else:
            self._i.calls_active.add(1)

    def _end_call(self, wall: int, call_id: str, outcome: str) -> None:
        span = self._calls.pop(call_id, None)
        keys = [k for k, r in self._actions.items() if r.call_id == call_id]
        for key in keys:
            _end_span(self._actions.pop(key).span, "call ended", wall)
        if span is not None:
            _end_span(span, outcome, wall)
            self._i.calls_active.add(-1)

    def _dial_event(self, wall: int, params: Mapping[str, Any]) -> None:
        tag = _str(params.get("tag"))
        state = params.get("dial_state")
        if tag is None or state not in (C.DIAL_ANSWERED, C.DIAL_FAILED):
            return
        call = params.get("call")
        call_id = _str(call.get("call_id")) if isinstance(call, dict) else None
        span = self._dials.pop(tag, None)
        if span is None:
            return
        if state == C.DIAL_ANSWERED and call_id is not None:
            self._calls[call_id] = span
            span.set_attribute("relay.call_id", call_id)
            return
        _end_span(span, str(state), wall)
        self._i.calls_active.add(-1)

    def _action_event(
        self, wall: int, key: str, event_type: str, params: Mapping[str, Any]
    ) -> None:
        request = self._actions.get(key)
        if request is None:
            return
        operation = OPERATIONS.get(request.method)
        state = _final_state(params, operation.final_states if operation else frozenset())
        if state is None:
            return
        del self._actions[key]
        span = request.span
        span.set_attribute("relay.outcome", state)
        if event_type == C.EVENT_CALL_REFER:
            for name, value in _scalars(params, _REFER_CODES).items():
                span.set_attribute(f"relay.{name}", value)
        span.end(end_time=wall)


def _action_key(request: _Request) -> Optional[str]:
    """What the events of the action a request started are matched by, if it starts one:
    its ``control_id``, or (REFER has none) its call and event type."""
    operation = OPERATIONS.get(request.method)
    if operation is None or operation.event_type is None:
        return None
    if request.control_id:
        return request.control_id
    return f"{request.call_id} {operation.event_type}" if request.call_id else None


def _final_state(params: Mapping[str, Any], final: FrozenSet[str]) -> Optional[str]:
    """The final state an action event carries (one of ``final``, or of
    :data:`FINAL_STATES` when that is empty), or ``None`` if it is not final."""
    final = final or FINAL_STATES
    for key in ("state", "connect_state"):
        value = params.get(key)
        if isinstance(value, str) and value in final:
            return value
    for key in ("result", "detect"):
        nested = params.get(key)
        if isinstance(nested, dict):
            value = nested.get("type") or nested.get("event")
            if isinstance(value, str) and value in final:
                return value
    return None
