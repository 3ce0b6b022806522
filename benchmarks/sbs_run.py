"""What every client's run of the side-by-side benchmark shares.

The link to the benchmark process (:class:`Channel`), the measured span
(:class:`Span`), the result message (:func:`result`), the W1/W2 request loops
(:func:`sequential`, :func:`parallel`) and the workloads' constants. The client runners
(``sbs_floor``, ``sbs_relaysync``, ``sbs_official``) import it; the script
``sbs_worker.py`` sits on top of them all.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

REFER_TARGET = "sip:support@example.com"
CLIENT_CPU = 1
RING_TIMEOUT = 120_000.0  # unscaled: two real minutes at time_scale 0.001
W5_RING_TIMEOUT = 600_000.0
PROMPT = "Press 1 for sales"
PRESSED = "1"


class Channel:
    """The JSON-line link to the benchmark process (stdout out, stdin in)."""

    def __init__(self) -> None:
        self._out = sys.stdout
        self._in = sys.stdin

    def send(self, message: Dict[str, Any]) -> None:
        """Write one message."""
        self._out.write(json.dumps(message) + "\n")
        self._out.flush()

    def receive(self) -> Dict[str, Any]:
        """Read one answer (blocking).

        Raises:
            EOFError: the benchmark process went away.
            RuntimeError: it answered with an error.
        """
        line = self._in.readline()
        if not line:
            raise EOFError("benchmark process closed the channel")
        answer: Dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def ask(self, want: str, **params: Any) -> Dict[str, Any]:
        """Send a request and wait for its answer."""
        self.send({"want": want, **params})
        return self.receive()


class Span:
    """Wall time, process CPU and context switches over the measured part of a run."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self._cpu, self._switches = _usage()
        self.end = self.start
        self.cpu = 0.0
        self.switches = (0, 0)

    def stop(self, at: Optional[float] = None) -> None:
        """End the span (at ``at``, a ``time.monotonic()`` value, if given)."""
        self.end = time.monotonic() if at is None else at
        cpu, (voluntary, involuntary) = _usage()
        self.cpu = cpu - self._cpu
        self.switches = (voluntary - self._switches[0], involuntary - self._switches[1])


def _usage() -> Tuple[float, Tuple[int, int]]:
    """CPU seconds of this process so far (``getrusage``: finer than ``os.times`` ticks),
    and its voluntary and involuntary context switches (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, (usage.ru_nvcsw, usage.ru_nivcsw)


def native_threads() -> int:
    """Native threads of this process (from /proc; 0 without it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def result(
    ops: int, span: Span, latencies: Optional[List[float]] = None, **extra: Any
) -> Dict[str, Any]:
    """The result message of a run (latencies in seconds are reported in ms)."""
    return {
        "ops": ops,
        "seconds": span.end - span.start,
        "cpu": span.cpu,
        "voluntary_switches": span.switches[0],
        "involuntary_switches": span.switches[1],
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "threads": native_threads(),
        "latencies_ms": [round(value * 1000.0, 4) for value in (latencies or [])],
        **extra,
    }


def sequential(request: Callable[[], Any], n: int) -> Dict[str, Any]:
    """W1's measured part: 50 warm-up requests, then ``n`` timed one after another."""
    for _ in range(50):
        request()
    latencies: List[float] = []
    span = Span()
    for _ in range(n):
        began = time.monotonic()
        request()
        latencies.append(time.monotonic() - began)
    span.stop()
    return result(n, span, latencies)


def parallel(request: Callable[[], Any], n: int, width: int) -> Dict[str, Any]:
    """W2's measured part: ``width`` threads released together, ``n / width`` requests each."""
    for _ in range(50):
        request()
    share = n // width
    latencies: List[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(width + 1)

    def worker() -> None:
        mine: List[float] = []
        barrier.wait(30.0)
        for _ in range(share):
            began = time.monotonic()
            request()
            mine.append(time.monotonic() - began)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(width)]
    for thread in threads:
        thread.start()
    barrier.wait(30.0)
    span = Span()
    for thread in threads:
        thread.join(120.0)
    span.stop()
    if len(latencies) != share * width:
        raise RuntimeError(f"{share * width - len(latencies)} requests did not finish")
    return result(len(latencies), span, latencies)
