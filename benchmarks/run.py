"""Run the relaysync benchmarks against a RelaySimulator and print a results table.

Usage::

    python benchmarks/run.py                  # everything, about a minute
    python benchmarks/run.py --quick          # smaller counts, about 30 s
    python benchmarks/run.py --only rpc flows
    python benchmarks/run.py --json out.json  # also write the results as JSON
    python benchmarks/run.py --profile        # cProfile the reader thread under load

The simulator runs in a child process on 127.0.0.1 (``time_scale=0.001``); the client
runs in this one. Every benchmark is bounded in count and time and stops by itself.
See benchmarks/README.rst for the goals and the recorded results.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from typing import Any, Callable, Dict, List, Optional, Sequence

import bench_events
import bench_flows
import bench_rpc
import profiling
import websocket
from common import Metric
from simproc import SimProcess

from relaysync import __version__

TIME_SCALE = 0.001
BENCHMARKS = ("events", "utf8", "rpc", "flows", "memory")
SIZES: Dict[str, Dict[str, int]] = {
    "full": {
        "events": 20_000,
        "repeat": 3,
        "rpc": 2_000,
        "sequential": 300,
        "concurrent": 500,
        "width": 50,
        "memory": 2_000,
        "warm_up": 1_000,
    },
    "quick": {
        "events": 5_000,
        "repeat": 1,
        "rpc": 500,
        "sequential": 100,
        "concurrent": 200,
        "width": 50,
        "memory": 500,
        "warm_up": 300,
    },
}


def _commit() -> str:
    """The checked-out commit of the repository, if git can tell."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            cwd=os.path.dirname(os.path.abspath(__file__)),
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    return done.stdout.strip() or "?"


def environment() -> Dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "date": datetime.date.today().isoformat(),
        "commit": _commit(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "relaysync": __version__,
        "websocket-client": getattr(websocket, "__version__", "?"),
    }


def _format_value(metric: Metric) -> str:
    value = metric.value
    if metric.unit in ("ms", "x"):
        text = f"{value:,.3f}" if value < 10 else f"{value:,.1f}"
    elif abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.1f}"
    return f"{text} {metric.unit}"


def table(metrics: Sequence[Metric]) -> str:
    """The results as a plain-text table."""
    rows = [("bench", "metric", "value", "goal", "status")]
    for metric in metrics:
        status = "" if metric.met is None else ("met" if metric.met else "NOT MET")
        goal = f"{metric.goal} {metric.unit}" if metric.goal else ""
        rows.append((metric.bench, metric.name, _format_value(metric), goal, status))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for number, row in enumerate(rows):
        cells = [
            cell.rjust(widths[i]) if i == 2 else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_all(
    selected: Sequence[str], sizes: Dict[str, int], log: Callable[[str], None]
) -> List[Metric]:
    """Run the ``selected`` benchmarks against one simulator process."""
    metrics: List[Metric] = []
    with SimProcess(TIME_SCALE) as sim:
        if "events" in selected or "utf8" in selected:
            events = bench_events.run(
                sim, sizes["events"], repeat=sizes["repeat"], utf8="utf8" in selected, log=log
            )
            metrics += [m for m in events if m.bench in selected]
        if "rpc" in selected:
            metrics += bench_rpc.run(sim, sizes["rpc"], log=log)
        if "flows" in selected:
            metrics += bench_flows.run_flows(sim, sizes["sequential"], 1, log=log)
            metrics += bench_flows.run_flows(sim, sizes["concurrent"], sizes["width"], log=log)
        if "memory" in selected:
            metrics += bench_flows.run_memory(sim, sizes["memory"], sizes["warm_up"], log=log)
    return metrics


def run_profile(events: int) -> None:
    """Profile the client's threads while they take ``events`` play events."""
    with SimProcess(TIME_SCALE) as sim, profiling.profile_new_threads() as profiles:
        result = bench_events.run_once(sim, events, consumer="callback")
    print(bench_events.describe(result, "profiled events/callback"))
    print(
        profiling.report(
            profiles, "relaysync-io", 30, title="\nReader thread (relaysync-io), by own time:"
        )
    )
    print(
        profiling.report(
            profiles,
            "relaysync-worker",
            12,
            title="Worker threads (relaysync-worker-*), by own time:",
        )
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns the exit status (1 if a goal was not met)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, one repeat")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=BENCHMARKS,
        metavar="NAME",
        help=f"run only these: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the reader and worker threads under event load",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR,
        format="%(asctime)s %(threadName)s %(name)s: %(levelname)s: %(message)s",
    )
    sizes = SIZES["quick" if args.quick else "full"]
    if args.profile:
        run_profile(sizes["events"])
        return 0
    env = environment()
    print("relaysync benchmarks: " + ", ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    began = time.monotonic()
    metrics = run_all(args.only or BENCHMARKS, sizes, lambda line: print(f"  {line}", flush=True))
    elapsed = time.monotonic() - began
    print()
    print(table(metrics))
    missed = [m for m in metrics if m.met is False]
    print(
        f"\n{len(metrics)} metrics, {sum(m.met is True for m in metrics)} goals met, "
        f"{len(missed)} not met; {elapsed:.0f} s",
        flush=True,
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(
                {
                    "environment": env,
                    "seconds": round(elapsed, 1),
                    "metrics": [asdict(m) for m in metrics],
                },
                out,
                indent=2,
            )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
