"""Event throughput: play events pushed at one answered call, through the reader thread.

The simulator (its own process) pushes ``n`` ``calling.call.play`` events for one call
as fast as its event loop can, keeping at most a window of them unacked. The client's
reader thread acks each event, parses it and routes it to the call; the call hands it
to a consumer: ``call.on()`` callbacks (worker pool) or a ``call.events()`` iterator on
a thread of its own. Three moments are taken on one clock (``time.monotonic()`` is
shared by both processes on Linux):

* *queued*: the simulator finished queueing every event (sender speed);
* *acked*: the simulator read the ack of the last event (the reader acks each event
  just before routing it, so this is the reader's speed as the simulator sees it,
  including the simulator's own delay in reading acks);
* *delivered*: the consumer saw the last event.

CPU time of the reader thread, the worker threads and the simulator process tells
which side is the bottleneck.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator, List
from unittest import mock

import websocket
from common import Finish, Metric, at_least, new_client, reading, threads_cpu, threads_named
from simproc import SimProcess

from relaysync import Call, RelayClient, RelayEvent

BENCH = "events"
CONSUMERS = ("callback", "iterator")


@dataclass
class EventRun:
    """Timings of one event-throughput run (seconds, ``time.monotonic()`` values)."""

    n: int
    seen: int
    start: float
    queued: float
    acked: float
    delivered: float
    reader_cpu: float
    workers_cpu: float
    consumer_cpu: float
    sim_cpu: float

    def rate(self, moment: float) -> float:
        """Events per second from the first push to ``moment``."""
        return self.n / max(moment - self.start, 1e-9)

    def per_event_us(self, cpu: float) -> float:
        """CPU microseconds per event."""
        return cpu / self.n * 1e6


class _ValidatingWebSocket(websocket.WebSocket):
    """websocket-client's socket with its UTF-8 check forced on (counts instances)."""

    created = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["skip_utf8_validation"] = False
        super().__init__(*args, **kwargs)
        _ValidatingWebSocket.created += 1


@contextlib.contextmanager
def _utf8_validation(enabled: bool) -> Iterator[None]:
    """Within the block, new client sockets validate UTF-8 when ``enabled``.

    Raises:
        RuntimeError: the client did not open its socket through ``websocket.WebSocket``.
    """
    if not enabled:
        yield
        return
    before = _ValidatingWebSocket.created
    with mock.patch("websocket.WebSocket", _ValidatingWebSocket):
        yield
    if _ValidatingWebSocket.created == before:
        raise RuntimeError("the client socket was not created through websocket.WebSocket")


def _answered_call(client: RelayClient, sim: SimProcess, index: int) -> Call:
    """Place an inbound call and return it once the client has answered it."""
    calls: queue.Queue[Call] = queue.Queue()

    def answer(call: Call) -> None:
        call.answer()
        calls.put(call)

    client.on_call(answer)
    sim.place(index)
    return calls.get(timeout=10.0)


def _is_last(event: RelayEvent) -> bool:
    return event.event_type == "calling.call.play" and event.params.get("state") == "finished"


def run_once(
    sim: SimProcess,
    n: int,
    *,
    consumer: str = "callback",
    utf8_validation: bool = False,
    index: int = 0,
) -> EventRun:
    """Push ``n`` events at one call of a fresh client; return the timings.

    Raises:
        ValueError: unknown ``consumer``.
        TimeoutError: the last event was not delivered within 90 s.
    """
    if consumer not in CONSUMERS:
        raise ValueError(f"consumer must be one of {CONSUMERS}")
    with _utf8_validation(utf8_validation):
        client = new_client(sim)
        client.connect()
    try:
        call = _answered_call(client, sim, index)
        finish = Finish()
        consumer_threads: List[threading.Thread] = []
        measured = threading.Event()  # the iterator thread lives until its CPU is read
        if consumer == "callback":

            def on_event(event: RelayEvent) -> None:
                if event.event_type == "calling.call.play":
                    finish.add(_is_last(event), time.monotonic())

            call.on("*", on_event)
        else:

            def iterate() -> None:
                for event in call.events(timeout=90.0):
                    if event.event_type == "calling.call.play":
                        finish.add(_is_last(event), time.monotonic())
                        if _is_last(event):
                            break
                measured.wait(90.0)

            thread = threading.Thread(target=iterate, name="bench-iterator", daemon=True)
            thread.start()
            consumer_threads.append(thread)
        reader = threads_named("relaysync-io")
        workers = threads_named("relaysync-worker")
        cpu_before = (threads_cpu(reader), threads_cpu(workers), threads_cpu(consumer_threads))
        timings = sim.push(call.call_id, call.node_id or "", n)
        if not finish.wait(90.0):
            raise TimeoutError(f"the last of {n} events was not delivered within 90 s")
        workers = threads_named("relaysync-worker")
        cpu_after = (threads_cpu(reader), threads_cpu(workers), threads_cpu(consumer_threads))
        measured.set()
        for thread in consumer_threads:
            thread.join(5.0)
        return EventRun(
            n=n,
            seen=finish.count,
            start=timings["start"],
            queued=timings["queued"],
            acked=timings["acked"],
            delivered=finish.done_at,
            reader_cpu=cpu_after[0] - cpu_before[0],
            workers_cpu=cpu_after[1] - cpu_before[1],
            consumer_cpu=cpu_after[2] - cpu_before[2],
            sim_cpu=timings["sim_cpu"],
        )
    finally:
        client.close()


def describe(run: EventRun, label: str) -> str:
    """One line of detail about a run, for the log."""
    return (
        f"{label}: {run.n} events ({run.seen} delivered); simulator queued "
        f"{run.rate(run.queued):,.0f}/s, reader acked {run.rate(run.acked):,.0f}/s, "
        f"consumer got {run.rate(run.delivered):,.0f}/s; CPU per event: reader "
        f"{run.per_event_us(run.reader_cpu):.0f} us, workers "
        f"{run.per_event_us(run.workers_cpu):.0f} us, consumer thread "
        f"{run.per_event_us(run.consumer_cpu):.0f} us, simulator process "
        f"{run.per_event_us(run.sim_cpu):.0f} us"
    )


def median_run(
    sim: SimProcess,
    n: int,
    repeat: int,
    *,
    consumer: str,
    utf8_validation: bool,
    label: str,
    log: Any,
    first_index: int,
) -> EventRun:
    """Run ``repeat`` times; return the run with the median delivery rate."""
    runs = []
    for attempt in range(repeat):
        result = run_once(
            sim, n, consumer=consumer, utf8_validation=utf8_validation, index=first_index + attempt
        )
        log(describe(result, f"{label} #{attempt + 1}"))
        runs.append(result)
    runs.sort(key=lambda r: r.rate(r.delivered))
    return runs[len(runs) // 2]


def run(sim: SimProcess, n: int, *, repeat: int, utf8: bool, log: Any = print) -> List[Metric]:
    """The event-throughput benchmark: callbacks, iterator, and optionally UTF-8 on.

    Each variant runs ``repeat`` times on a fresh client and call; the median run (by
    delivery rate) is reported.

    Returns:
        The metrics, goals included.
    """
    base = median_run(
        sim,
        n,
        repeat,
        consumer="callback",
        utf8_validation=False,
        label="events/callback",
        log=log,
        first_index=0,
    )
    it = median_run(
        sim,
        n,
        repeat,
        consumer="iterator",
        utf8_validation=False,
        label="events/iterator",
        log=log,
        first_index=repeat,
    )
    metrics = [
        at_least(
            BENCH, "routed to call.on() callbacks", base.rate(base.delivered), "events/s", 10_000
        ),
        at_least(
            BENCH, "routed to a call.events() iterator", it.rate(it.delivered), "events/s", 10_000
        ),
        reading(
            BENCH, "acked by the reader, as the simulator saw it", base.rate(base.acked), "events/s"
        ),
        reading(BENCH, "simulator send rate (all queued)", base.rate(base.queued), "events/s"),
        reading(BENCH, "reader thread CPU per event", base.per_event_us(base.reader_cpu), "us"),
        reading(
            BENCH, "worker CPU per event (callbacks)", base.per_event_us(base.workers_cpu), "us"
        ),
        reading(BENCH, "simulator process CPU per event", base.per_event_us(base.sim_cpu), "us"),
    ]
    if utf8:
        checked = median_run(
            sim,
            n,
            repeat,
            consumer="callback",
            utf8_validation=True,
            label="events/callback, UTF-8 validation on",
            log=log,
            first_index=2 * repeat,
        )
        metrics += [
            reading(
                "utf8",
                "routed to callbacks, UTF-8 validation on",
                checked.rate(checked.delivered),
                "events/s",
            ),
            reading(
                "utf8",
                "reader CPU per event, validation on",
                checked.per_event_us(checked.reader_cpu),
                "us",
            ),
            reading(
                "utf8",
                "throughput gained by skipping it",
                base.rate(base.delivered) / checked.rate(checked.delivered),
                "x",
            ),
        ]
    return metrics
