"""Call flows: inbound call -> answer -> SIP REFER (success) -> ended, and their memory.

Every flow is the README's first call flow minus the greeting: the simulator places an
inbound call, the client's ``on_call`` handler answers it, transfers it with
``call.refer()`` (the simulator's REFER succeeds after 0.3 simulated seconds) and waits
for the call to end (a successful REFER hangs the call up). A flow's latency runs from
the moment the benchmark asks the simulator to place the call to the moment the handler
sees it ended, so it includes the simulator's side of the work.

* :func:`run_flows` runs them one at a time, or keeps ``width`` in flight at once.
* :func:`run_memory` runs many sequential flows and checks that the client forgets
  ended calls: RSS, ``tracemalloc`` growth, calls tracked and threads alive.
"""

from __future__ import annotations

import gc
import os
import threading
import time
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from common import Metric, at_least, at_most, new_client, percentile, reading, rss_kib
from simproc import SimProcess, flow_index

from relaysync import Call, RelayClient

REFER_TARGET = "sip:support@example.com"
# Flows run under tracemalloc before the heap is compared. The client keeps the last
# 4096 event ids (DEDUPE_MEMORY) in an OrderedDict to drop duplicates; with about 7
# events per flow the ids are all replaced after ~590 flows, and the dict's table
# (16384 slots, re-allocated each time its 10922 usable slots fill: every ~975 flows)
# is re-allocated at least once after ~975 flows. Objects allocated before tracemalloc
# started and replaced after it would otherwise look like growth.
PRIMING_FLOWS = 1200


@dataclass
class FlowLog:
    """When each flow was placed and finished, what went wrong, and the free slots."""

    placed: Dict[int, float] = field(default_factory=dict)
    done: Dict[int, float] = field(default_factory=dict)
    failures: List[str] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    slots: threading.Semaphore = field(default_factory=threading.Semaphore)

    def finish(self, index: int, failure: Optional[str] = None) -> None:
        """Record the end of flow ``index`` (successful unless ``failure``)."""
        now = time.monotonic()
        with self.cond:
            self.done[index] = now
            if failure is not None:
                self.failures.append(failure)
            self.cond.notify_all()
        self.slots.release()

    def latencies_ms(self, indexes: range) -> List[float]:
        """Latency of each flow in ``indexes``, in ms."""
        with self.cond:
            return [(self.done[i] - self.placed[i]) * 1000.0 for i in indexes]


def install_handler(client: RelayClient, log: FlowLog) -> None:
    """Make ``client`` run the flow for every inbound call, recording it in ``log``."""

    def handle(call: Call) -> None:
        index = flow_index(call.from_number)
        failure: Optional[str] = None
        try:
            call.answer(timeout=10.0)
            result = call.refer(REFER_TARGET, timeout=10.0)
            if not result.successful:
                failure = f"flow {index}: refer ended {result.state}"
            call.wait_for_ended(timeout=10.0)
        except Exception as exc:
            failure = f"flow {index}: {exc!r}"
        log.finish(index, failure)

    client.on_call(handle)


def drive(sim: SimProcess, log: FlowLog, indexes: range, width: int, timeout: float) -> float:
    """Run the flows ``indexes``, keeping at most ``width`` in flight at once.

    Every flow placed before must have finished.

    Returns:
        The wall time from the first placement to the last flow's end.

    Raises:
        TimeoutError: the flows did not all finish within ``timeout`` seconds.
    """
    if not indexes:
        return 0.0
    deadline = time.monotonic() + timeout
    with log.cond:
        expected = len(log.done) + len(indexes)
    log.slots = threading.Semaphore(width)
    for index in indexes:
        if not log.slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"flow {index} could not start in time")
        with log.cond:
            log.placed[index] = time.monotonic()
        sim.place(index)
    with log.cond:
        if not log.cond.wait_for(
            lambda: len(log.done) >= expected, max(0.0, deadline - time.monotonic())
        ):
            raise TimeoutError(f"{expected - len(log.done)} flows did not finish in time")
        return max(log.done[i] for i in indexes) - log.placed[indexes[0]]


def run_flows(sim: SimProcess, count: int, width: int, log: Any = print) -> List[Metric]:
    """``count`` flows on a fresh client, ``width`` at a time.

    Returns:
        The metrics, goals included.
    """
    flows = FlowLog()
    client = new_client(sim)
    install_handler(client, flows)
    client.connect()
    try:
        drive(sim, flows, range(0, 20), width, 30.0)  # warm-up: worker threads, caches
        indexes = range(20, 20 + count)
        cpu_before = os.times()
        wall = drive(sim, flows, indexes, width, 60.0)
        cpu_after = os.times()
    finally:
        client.close()
    cpu_ms = (
        ((cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system))
        / count
        * 1000.0
    )
    latencies = flows.latencies_ms(indexes)
    rate = count / wall
    p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
    name = "sequential" if width == 1 else f"{width} concurrent"
    log(
        f"flows/{name}: {count} flows in {wall:.2f} s ({rate:,.1f}/s); latency p50 "
        f"{p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; client CPU {cpu_ms:.2f} ms "
        f"per flow; failures "
        f"{len(flows.failures)} {flows.failures[:1]}"
    )
    goals = (100.0, 20.0) if width == 1 else (300.0, 250.0)
    return [
        at_least("flows", f"flows per second, {name}", rate, "flows/s", goals[0]),
        at_most("flows", f"flow latency p95, {name}", p95, "ms", goals[1]),
        reading("flows", f"flow latency p50, {name}", p50, "ms"),
        reading("flows", f"client process CPU per flow, {name}", cpu_ms, "ms"),
        at_most("flows", f"failed flows, {name}", len(flows.failures), "flows", 0),
    ]


_OWN_FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "*")


def _without_benchmark(snapshot: tracemalloc.Snapshot) -> tracemalloc.Snapshot:
    """``snapshot`` minus the benchmark's own bookkeeping and tracemalloc's."""
    return snapshot.filter_traces(
        [tracemalloc.Filter(False, _OWN_FILES), tracemalloc.Filter(False, tracemalloc.__file__)]
    )


def _top_growth(after: tracemalloc.Snapshot, before: tracemalloc.Snapshot) -> str:
    """The three source lines whose live memory grew most between the snapshots."""
    stats = after.compare_to(before, "lineno")[:3]
    return "; ".join(
        f"{stat.traceback[0].filename.rsplit('/', 1)[-1]}:"
        f"{stat.traceback[0].lineno} {stat.size_diff / 1024:+.1f} KiB"
        for stat in stats
    )


def _chunks(sim: SimProcess, flows: FlowLog, start: int, count: int) -> int:
    """Run ``count`` sequential flows from index ``start`` in chunks of at most 500,
    dropping the per-flow bookkeeping after each so that it does not grow the heap.

    Returns:
        The next free flow index.
    """
    end = start + count
    while start < end:
        stop = min(start + 500, end)
        drive(sim, flows, range(start, stop), 1, 120.0)
        with flows.cond:
            flows.placed.clear()
            flows.done.clear()
        start = stop
    gc.collect()
    return end


def run_memory(sim: SimProcess, count: int, warm_up: int, log: Any = print) -> List[Metric]:
    """Sequential flows on one client: is memory flat, are ended calls forgotten?

    Two phases after ``warm_up`` flows. First, without tracemalloc (whose own tables
    grow with every traced block), RSS before and after ``count`` flows. Then with
    tracemalloc: :data:`PRIMING_FLOWS` flows to replace every object the client keeps
    in bounded windows, then the Python heap before and after ``count // 2`` flows;
    the benchmark's own allocations are left out.

    Returns:
        The metrics, goals included.
    """
    threads_idle = threading.active_count()
    flows = FlowLog()
    client = new_client(sim)
    install_handler(client, flows)
    client.connect()
    try:
        index = _chunks(sim, flows, 0, warm_up)
        threads_before = threading.active_count()
        rss_before = rss_kib()
        index = _chunks(sim, flows, index, count // 2)
        rss_half = rss_kib()
        index = _chunks(sim, flows, index, count - count // 2)
        rss_after = rss_kib()
        tracemalloc.start()
        try:
            index = _chunks(sim, flows, index, PRIMING_FLOWS)
            heap_before = _without_benchmark(tracemalloc.take_snapshot())
            index = _chunks(sim, flows, index, count // 2)
            heap_after = _without_benchmark(tracemalloc.take_snapshot())
        finally:
            tracemalloc.stop()
        threads_after = threading.active_count()
        tracked = len(client.calls)
    finally:
        client.close()
    threads_closed = threading.active_count()
    heap_growth = sum(stat.size_diff for stat in heap_after.compare_to(heap_before, "filename"))
    log(
        f"memory: {warm_up} warm-up flows, then RSS {rss_before} -> {rss_half} -> "
        f"{rss_after} KiB over {count} flows; Python heap {heap_growth / 1024:+.1f} KiB "
        f"over {count // 2} more flows (largest: {_top_growth(heap_after, heap_before)})"
    )
    log(
        f"memory: threads idle {threads_idle}, after warm-up {threads_before}, after the "
        f"flows {threads_after}, after close {threads_closed}; calls tracked {tracked}; "
        f"failures {len(flows.failures)} {flows.failures[:1]}"
    )
    return [
        at_most("memory", f"RSS growth over {count} flows", rss_after - rss_before, "KiB", 1024),
        at_most(
            "memory", f"Python heap growth over {count // 2} flows", heap_growth / 1024, "KiB", 32
        ),
        at_most("memory", "calls still tracked after the flows", tracked, "calls", 0),
        at_most(
            "memory", "threads added by the flows", threads_after - threads_before, "threads", 0
        ),
        at_most(
            "memory", "threads left after close()", threads_closed - threads_idle, "threads", 0
        ),
        at_most("memory", "failed flows (memory run)", len(flows.failures), "flows", 0),
    ]
