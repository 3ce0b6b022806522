"""Memory per live call: ``n`` inbound calls held answered and blocked in a collect.

``python benchmarks/mem_calls.py [--n 1000] [--top 25]`` runs the simulator in a child
process, lets a client at its defaults answer ``n`` calls, each handler blocking in
``prompt_tts(...).wait()`` (no digit is ever pressed), and once every handler is
blocked reports the process RSS and the tracemalloc growth per call, with the source
lines that allocated the most per call. The client is closed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
import tracemalloc
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import rss_kib
from simproc import SimProcess

from relaysync import Call, RelayClient


def main(argv: List[str]) -> int:
    """Run the measurement and print the report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-trace", action="store_true", help="RSS only")
    args = parser.parse_args(argv)
    n = args.n
    blocked = [0]
    lock = threading.Lock()
    all_blocked = threading.Event()
    release = threading.Event()

    def handle(call: Call) -> None:
        call.answer(timeout=60.0)
        action = call.prompt_tts("Press a digit.", digits={"max": 1}, initial_timeout=600.0)
        with lock:
            blocked[0] += 1
            if blocked[0] == n:
                all_blocked.set()
        with contextlib.suppress(Exception):
            action.wait(timeout=600.0)
        release.wait(60.0)

    with (
        SimProcess(time_scale=1.0) as sim,
        RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"]) as client,
    ):
        client.on_call(handle)
        if not args.no_trace:
            tracemalloc.start(1)
        rss0 = rss_kib()
        before = None if args.no_trace else tracemalloc.take_snapshot()
        start = time.monotonic()
        for index in range(n):
            sim.place(index)
        if not all_blocked.wait(300.0):
            print(f"only {blocked[0]} of {n} calls blocked", file=sys.stderr)
            return 1
        time.sleep(1.0)
        rss1 = rss_kib()
        print(f"{n} calls blocked after {time.monotonic() - start:.1f} s")
        print(f"RSS {rss0} KiB -> {rss1} KiB: {(rss1 - rss0) / n:.1f} KiB per call")
        if before is not None:
            after = tracemalloc.take_snapshot()
            stats = after.compare_to(before, "lineno")
            total = sum(stat.size_diff for stat in stats)
            print(f"tracemalloc growth {total / n / 1024:.2f} KiB per call")
            for stat in stats[: args.top]:
                frame = stat.traceback[0]
                name = frame.filename.split("site-packages/")[-1]
                name = name.split("v-memory/")[-1]
                print(
                    f"{stat.size_diff / n:8.0f} B {stat.count_diff / n:6.2f} obj "
                    f"{name}:{frame.lineno}"
                )
            tracemalloc.stop()
        release.set()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
