"""Shared pieces of the benchmarks: results and goals, clients, clocks, /proc readings."""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from simproc import CONTEXT, SimProcess

from relaysync import RelayClient

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Metric:
    """One measured number, with the goal it is held to (if any).

    Attributes:
        bench: the benchmark it comes from.
        name: what was measured.
        value: the measurement.
        unit: its unit, for the table.
        goal: the goal as text (``">= 10000"``), or ``None`` for a plain reading.
        met: whether ``value`` meets the goal (``None`` without a goal).
    """

    bench: str
    name: str
    value: float
    unit: str
    goal: Optional[str] = None
    met: Optional[bool] = None


def at_least(bench: str, name: str, value: float, unit: str, target: float) -> Metric:
    """A metric that should be ``>= target``."""
    return Metric(bench, name, value, unit, f">= {target:g}", value >= target)


def at_most(bench: str, name: str, value: float, unit: str, target: float) -> Metric:
    """A metric that should be ``<= target``."""
    return Metric(bench, name, value, unit, f"<= {target:g}", value <= target)


def reading(bench: str, name: str, value: float, unit: str) -> Metric:
    """A metric reported without a goal."""
    return Metric(bench, name, value, unit)


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples``, nearest-rank method.

    Raises:
        ValueError: no samples.
    """
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def new_client(sim: SimProcess, **options: Any) -> RelayClient:
    """A client for ``sim`` on the benchmark context, not yet connected.

    Client pings are pushed far out so that they never land inside a measurement.
    """
    settings: dict[str, Any] = {
        "contexts": [CONTEXT],
        "ping_interval": 600.0,
        "backoff_initial": 0.05,
        "backoff_max": 0.2,
    }
    settings.update(options)
    return RelayClient(sim.project, sim.token, url=sim.url, **settings)


def thread_cpu(pid: int, tid: int) -> float:
    """CPU seconds (user + system) used so far by thread ``tid`` of process ``pid``.

    Resolution is one clock tick (10 ms on most Linux systems); 0.0 when the thread
    is gone or /proc is not there.
    """
    try:
        with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def threads_named(prefix: str) -> List[threading.Thread]:
    """Live threads of this process whose name starts with ``prefix``."""
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def threads_cpu(threads: Sequence[threading.Thread]) -> float:
    """Summed CPU seconds of ``threads`` (of this process)."""
    pid = os.getpid()
    return sum(thread_cpu(pid, t.native_id) for t in threads if t.native_id is not None)


def rss_kib() -> int:
    """Resident set size of this process in KiB (0 without /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Finish:
    """Counts events on any thread and lets one thread wait for the last of them.

    Waiters are woken once, when the finishing event is seen, not on every count.
    """

    def __init__(self) -> None:
        self.count = 0
        self.done_at = 0.0
        self._done = threading.Event()

    def add(self, last: bool, now: float) -> None:
        """Count one event; ``last`` marks the final one (seen at ``now``)."""
        self.count += 1  # single writer: one serial callback queue or one iterator
        if last:
            self.done_at = now
            self._done.set()

    def wait(self, timeout: float) -> bool:
        """Block until the final event was seen; False on timeout."""
        return self._done.wait(timeout)
