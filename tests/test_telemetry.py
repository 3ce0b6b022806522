"""OpenTelemetry: spans per call and per method, metrics, and nothing without the API."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from relaysync import Call, telemetry
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client, relaysync_threads

Otel = Tuple[InMemorySpanExporter, InMemoryMetricReader]


@pytest.fixture
def otel() -> Iterator[Otel]:
    """SDK providers with in-memory exporters, given to the clients made meanwhile
    (the global providers can be set only once per process, so they are left alone)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    telemetry.use_providers(tracer_provider, meter_provider)
    try:
        yield exporter, reader
    finally:
        telemetry.use_providers()
        tracer_provider.shutdown()
        meter_provider.shutdown()


def _metrics(reader: InMemoryMetricReader) -> Dict[str, List[Any]]:
    """Data points of every relaysync metric, by metric name."""
    found: Dict[str, List[Any]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            if scope.scope.name != "relaysync":
                continue
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def _by_name(spans: Any, name: str) -> List[ReadableSpan]:
    return [s for s in spans if s.name == name]


def test_an_inbound_call_is_one_span_with_a_child_per_method(
    sim: RelaySimulator, otel: Otel
) -> None:
    exporter, reader = otel
    sim.on_refer(
        "sip:support@example.com",
        "busy",
        sip_refer_response_code=202,
        sip_notify_response_code=486,
    )
    outcomes = Recorder()

    def handle(call: Call) -> None:
        call.answer()
        outcomes(call.refer("sip:support@example.com").state)
        call.hangup()
        call.wait_for_ended(30)
        outcomes("ended")

    client = make_client(sim)
    client.on_call(handle)
    with client:
        sim.inbound_call(context="office")
        outcomes.wait_for(lambda items: "ended" in items, timeout=30)
        client.execute("signalwire.ping", {}, timeout=30)  # the ended event is handled
    assert outcomes.items[0] == "busy"
    spans = exporter.get_finished_spans()
    (call_span,) = _by_name(spans, "relay.call")
    assert call_span.attributes is not None
    call_id = call_span.attributes["relay.call_id"]
    assert call_span.attributes["relay.direction"] == "inbound"
    assert call_span.attributes["relay.outcome"] == "hangup"
    assert call_span.context is not None
    children = [s for s in spans if s.parent is not None]
    assert {s.name for s in children} >= {"calling.answer", "calling.refer", "calling.end"}
    for child in children:
        assert child.parent is not None
        assert child.parent.span_id == call_span.context.span_id
        assert child.attributes is not None
        assert child.attributes["relay.call_id"] == call_id
        assert child.attributes["relay.method"] == child.name
    (refer,) = _by_name(spans, "calling.refer")
    assert refer.attributes is not None
    assert refer.attributes["relay.outcome"] == "busy"
    assert refer.attributes["relay.sip_refer_response_code"] == "202"
    assert refer.attributes["relay.sip_notify_response_code"] == "486"
    (answer,) = _by_name(spans, "calling.answer")
    assert answer.attributes is not None and answer.attributes["relay.outcome"] == "200"
    assert call_span.end_time is not None and refer.end_time is not None
    assert call_span.start_time is not None and refer.start_time is not None
    assert call_span.start_time <= refer.start_time <= refer.end_time <= call_span.end_time

    metrics = _metrics(reader)
    durations = {p.attributes["relay.method"]: p for p in metrics["relay.rpc.duration"]}
    assert {"signalwire.connect", "calling.answer", "calling.refer"} <= set(durations)
    assert durations["calling.answer"].count == 1
    assert durations["calling.answer"].sum > 0
    (active,) = metrics["relay.calls.active"]
    assert active.value == 0  # up once, down once


def test_a_dial_is_a_call_span_from_the_request(sim: RelaySimulator, otel: Otel) -> None:
    exporter, _ = otel
    sim.on_dial("+15559990000", "answer", delay=0.1)
    with make_client(sim) as client:
        call = client.dial_phone("+15559990000", "+15550002222")
        call.hangup()
        call.wait_for_ended(30)
        client.execute("signalwire.ping", {}, timeout=30)
    spans = exporter.get_finished_spans()
    (call_span,) = _by_name(spans, "relay.call")
    assert call_span.attributes is not None
    assert call_span.attributes["relay.direction"] == "outbound"
    assert call_span.attributes["relay.call_id"] == call.call_id
    (dial,) = _by_name(spans, "calling.dial")
    assert call_span.context is not None and dial.parent is not None
    assert dial.parent.span_id == call_span.context.span_id
    assert call_span.start_time is not None and dial.start_time is not None
    assert call_span.start_time <= dial.start_time


def test_reconnects_are_counted(sim: RelaySimulator, otel: Otel) -> None:
    _, reader = otel
    client = make_client(sim)
    states = Recorder()
    client.on_connection_change(states)
    with client:
        sim.drop_connections()
        states.wait_for(lambda items: items[-2:] == ["reconnecting", "connected"], timeout=30)
    (reconnects,) = _metrics(reader)["relay.reconnects"]
    assert reconnects.value == 1


GLOBAL = textwrap.dedent(
    """
    import threading

    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from relaysync import RelayClient, telemetry
    from relaysync.testing import RelaySimulator

    telemetry.PROVIDER_CHECK_INTERVAL = 0.0  # look at the providers at every frame
    with RelaySimulator() as sim:
        with RelayClient(sim.project, sim.token, url=sim.url) as client:
            tracer = telemetry.call_tracer()
            assert tracer is not None and not tracer._i.live()  # the API's proxies
            client.receive(["before"])
            names = [t.name for t in threading.enumerate()]
            assert "relaysync-telemetry" not in names, names  # no SDK: no thread
            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)  # the application configures an SDK
            client.receive(["after"])
            assert "relaysync-telemetry" in [t.name for t in threading.enumerate()]
    assert "relaysync-telemetry" not in [t.name for t in threading.enumerate()]
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["signalwire.receive"], spans
    assert spans[0].attributes["relay.outcome"] == "200"
    print("global providers followed")
    """
)


def _run_child(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter; its own 45 s limit fails before the test's."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=45, check=False
    )


def test_the_global_providers_are_followed_once_an_sdk_is_set() -> None:
    result = _run_child(GLOBAL)
    assert result.returncode == 0, result.stderr
    assert "global providers followed" in result.stdout


BLOCKED = textwrap.dedent(
    """
    import logging
    import sys
    import threading
    logging.basicConfig(level=logging.WARNING)

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "opentelemetry" or name.startswith("opentelemetry."):
                raise ImportError("opentelemetry is blocked in this test")
            return None

    sys.meta_path.insert(0, Block())
    from relaysync import RelayClient, telemetry
    from relaysync.testing import RelaySimulator

    assert telemetry.call_tracer() is None
    with RelaySimulator() as sim:
        sim.on_refer("sip:a@example.com", "success")
        with RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"]) as client:
            done = []
            finished = threading.Event()

            @client.on_call
            def handle(call):
                try:
                    call.answer()
                    done.append(call.refer("sip:a@example.com").state)
                    call.hangup()
                finally:
                    finished.set()

            sim.inbound_call("office")
            assert finished.wait(30)
            stats = client.stats()
    assert done == ["success"], done
    assert stats.events_received > 0
    loaded = [m for m in sys.modules if m.startswith("opentelemetry")]
    assert not loaded, loaded
    print("ok without opentelemetry")
    """
)


def test_without_opentelemetry_nothing_is_imported() -> None:
    result = _run_child(BLOCKED)
    assert result.returncode == 0, result.stderr
    assert "ok without opentelemetry" in result.stdout


def test_tracer_maps_stay_bounded(otel: Otel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "MAX_TRACKED", 3)
    exporter, _ = otel
    tracer = telemetry.call_tracer()
    assert tracer is not None
    for n in range(10):
        tracer.sent({"id": f"r{n}", "method": "calling.answer", "params": {"call_id": "c"}})
    assert tracer.flush(30)
    untracked = [
        s
        for s in exporter.get_finished_spans()
        if s.attributes is not None and s.attributes.get("relay.outcome") == "untracked"
    ]
    assert len(untracked) == 7
    assert tracer.close(30)
    assert len(exporter.get_finished_spans()) == 10
    assert "relaysync-telemetry" not in relaysync_threads()


class BlockingProcessor(SpanProcessor):
    """A span processor whose ``on_end`` waits for ``release``, as a stuck exporter would."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.blocked = threading.Event()
        self.threads: List[str] = []
        self.ended = Recorder()

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        """Nothing to do when a span starts."""

    def on_end(self, span: ReadableSpan) -> None:
        """Block until released, then record the span."""
        self.threads.append(threading.current_thread().name)
        self.blocked.set()
        assert self.release.wait(60)
        self.ended(span.name)


def test_a_stuck_exporter_does_not_stall_calls(sim: RelaySimulator) -> None:
    processor = BlockingProcessor()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    telemetry.use_providers(tracer_provider=tracer_provider)
    sim.on_refer("sip:support@example.com", "success")
    outcomes = Recorder()

    def handle(call: Call) -> None:
        call.answer()
        outcomes(call.refer("sip:support@example.com").state)
        call.hangup()
        call.wait_for_ended(30)
        outcomes("ended")

    try:
        client = make_client(sim)
        client.on_call(handle)
        with client:
            sim.inbound_call(context="office")
            assert processor.blocked.wait(30)  # the first span's end is stuck
            outcomes.wait_for(lambda items: "ended" in items, timeout=30)
            assert outcomes.items == ["success", "ended"]
            assert processor.ended.items == []  # still stuck: the flow did not wait for it
            processor.release.set()
            processor.ended.wait_for(lambda items: "calling.refer" in items, timeout=30)
        assert "relay.call" in processor.ended.items  # ended by close(), after draining
        assert set(processor.threads) == {"relaysync-telemetry"}
        assert relaysync_threads() == []
    finally:
        processor.release.set()
        telemetry.use_providers()
        tracer_provider.shutdown()


def test_a_full_queue_drops_and_counts(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(telemetry, "MAX_QUEUED", 2)
    processor = BlockingProcessor()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    telemetry.use_providers(tracer_provider=tracer_provider)
    try:
        tracer = telemetry.call_tracer()
        assert tracer is not None
        for n in range(2):
            tracer.sent({"id": f"r{n}", "method": "calling.answer", "params": {}})
            tracer.received({"jsonrpc": "2.0", "id": f"r{n}", "result": {"code": "200"}})
            if n == 0:
                assert processor.blocked.wait(30)  # r0's span is ending: the queue is empty
        with caplog.at_level("WARNING", logger="relaysync"):
            for n in range(2, 5):  # the queue holds r1's two entries: these are dropped
                tracer.sent({"id": f"r{n}", "method": "calling.answer", "params": {}})
        assert tracer.dropped == 3
        assert "telemetry queue is full" in caplog.text
        processor.release.set()
        assert tracer.close(30)
        assert processor.ended.items == ["calling.answer", "calling.answer"]
        assert relaysync_threads() == []
    finally:
        processor.release.set()
        telemetry.use_providers()
        tracer_provider.shutdown()
