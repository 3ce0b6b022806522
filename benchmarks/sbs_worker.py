"""One measured run of one client on one workload, in a process of its own.

Started by ``side_by_side.py`` as ``python sbs_worker.py '<json config>'``, pinned to
the client core. It talks to the benchmark process by JSON lines: it writes requests
(``{"want": "place" | "push" | "drop", ...}``) on stdout and reads each answer on
stdin, then writes ``{"result": {...}}`` and exits. A fresh process per run makes the
peak RSS and the CPU figures belong to that client and that workload alone.

The result holds: ``ops`` and ``seconds`` (throughput = ops / seconds), ``cpu`` (CPU
seconds of the whole process over the measured span), ``peak_rss_kib``
(``ru_maxrss``), ``threads`` (native threads at the end of the span), ``latencies_ms``
(p50/p99 source, kept short) and workload extras.

The floors (websocket-client with no threads, and with one reader thread) are in
``sbs_floor``; what the runs share is in ``sbs_run``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict

from sbs_run import CLIENT_CPU, Channel


def main() -> int:
    """Run the configured client and workload; write its result."""
    config: Dict[str, Any] = json.loads(sys.argv[1])
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CLIENT_CPU})
    channel = Channel()
    client = config["client"]
    if client in ("raw", "threaded"):
        import sbs_floor

        runner = sbs_floor.FLOORS[client][config["workload"]]
    elif client == "relaysync":
        import sbs_relaysync

        runner = sbs_relaysync.WORKLOADS[config["workload"]]
    else:
        import sbs_official

        runner = sbs_official.WORKLOADS[config["workload"]]
    try:
        outcome = runner(config, channel)
    except BaseException as exc:
        channel.send({"failed": f"{type(exc).__name__}: {exc}"})
        raise
    channel.send({"result": outcome})
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(main())
