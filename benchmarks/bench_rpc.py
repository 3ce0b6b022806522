"""RPC round trip: ``client.execute("signalwire.ping", {})`` latency, 1 and 8 threads.

Each call is one request written by the calling thread and one response read by the
reader thread, which wakes the caller. The latency is taken around ``execute`` with
``time.perf_counter()``; a short warm-up comes first.
"""

from __future__ import annotations

import threading
import time
from typing import Any, List

from common import Metric, at_least, at_most, new_client, percentile
from simproc import SimProcess

BENCH = "rpc"
WARM_UP = 100


def measure(sim: SimProcess, calls: int, threads: int) -> tuple[List[float], float]:
    """Run ``calls`` pings spread over ``threads`` threads on one client.

    Returns:
        The latencies in seconds, and the wall time of the whole batch.

    Raises:
        RuntimeError: a thread failed or did not finish within 60 s.
    """
    client = new_client(sim)
    client.connect()
    try:
        for _ in range(WARM_UP):
            client.execute("signalwire.ping", {})
        latencies: List[float] = []
        errors: List[BaseException] = []
        lock = threading.Lock()
        start = threading.Barrier(threads + 1)

        def worker(share: int) -> None:
            mine: List[float] = []
            try:
                start.wait(10.0)
                for _ in range(share):
                    began = time.perf_counter()
                    client.execute("signalwire.ping", {})
                    mine.append(time.perf_counter() - began)
            except BaseException as exc:
                errors.append(exc)
            with lock:
                latencies.extend(mine)

        shares = [calls // threads + (1 if i < calls % threads else 0) for i in range(threads)]
        workers = [
            threading.Thread(target=worker, args=(share,), name=f"bench-rpc-{i}", daemon=True)
            for i, share in enumerate(shares)
        ]
        for thread in workers:
            thread.start()
        start.wait(10.0)
        began = time.perf_counter()
        for thread in workers:
            thread.join(60.0)
        wall = time.perf_counter() - began
        if errors or any(thread.is_alive() for thread in workers):
            raise RuntimeError(f"ping threads failed: {errors[:1]!r}")
        return latencies, wall
    finally:
        client.close()


def run(sim: SimProcess, calls: int, log: Any = print) -> List[Metric]:
    """The RPC benchmark for 1 and 8 threads.

    Returns:
        The metrics, goals included.
    """
    metrics: List[Metric] = []
    goals = {1: (1.0, 2.0, 5.0, 2_000), 8: (2.0, 5.0, 10.0, 5_000)}
    for threads, (p50_goal, p95_goal, p99_goal, rate_goal) in goals.items():
        latencies, wall = measure(sim, calls, threads)
        ms = [value * 1000.0 for value in latencies]
        p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
        rate = len(latencies) / wall
        log(
            f"rpc/{threads} thread(s): {len(latencies)} pings in {wall:.2f} s "
            f"({rate:,.0f}/s); p50 {p50:.3f} ms, p95 {p95:.3f} ms, p99 {p99:.3f} ms, "
            f"max {max(ms):.3f} ms"
        )
        label = f"{threads} thread{'s' if threads > 1 else ''}"
        metrics += [
            at_most(BENCH, f"ping p50, {label}", p50, "ms", p50_goal),
            at_most(BENCH, f"ping p95, {label}", p95, "ms", p95_goal),
            at_most(BENCH, f"ping p99, {label}", p99, "ms", p99_goal),
            at_least(BENCH, f"pings per second, {label}", rate, "req/s", rate_goal),
        ]
    return metrics
