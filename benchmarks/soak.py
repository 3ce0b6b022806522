"""Soak run: chaos flows for a given time, sampling throughput, RSS and threads.

Runs the chaos harness (``tests/chaos``: concurrent inbound flows answer -> play ->
collect -> refer, with periodic faults) on one client for ``--minutes``, and writes one
CSV row per sample plus a PNG chart of flows per second, RSS and live threads over
time. The chart needs matplotlib (the ``bench`` extra). Run from the repository root::

    nice python benchmarks/soak.py --minutes 30 --out benchmarks/results/soak

writes ``soak.csv`` and ``soak.png``, prints the chaos figures at the end and exits 1
when a figure that must be zero (wrong results, hangs, events lost, callbacks run
twice, calls or threads left) is not. Rounds of ``--round-seconds`` each end with a
short quiet spell (the faults stop, every flow finishes and is accounted), which shows
as a dip in the throughput line.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.chaos.harness import ChaosConfig, ChaosFigures, ChaosRun

Row = Tuple[float, int, float, int, int]
FIELDS = ("elapsed_s", "flows_finished", "flows_per_s", "rss_kib", "threads")


class Samples:
    """Rows of ``(elapsed, flows finished, flows/s since the last row, RSS, threads)``."""

    def __init__(self, every: float) -> None:
        """Keep a row at most every ``every`` seconds."""
        self.every = every
        self.rows: List[Row] = []

    def tick(self, elapsed: float, finished: int, rss: int) -> None:
        """The harness's tick: add a row when ``every`` seconds have passed."""
        if self.rows and elapsed - self.rows[-1][0] < self.every:
            return
        last_t, last_n = (self.rows[-1][0], self.rows[-1][1]) if self.rows else (0.0, 0)
        rate = (finished - last_n) / (elapsed - last_t) if elapsed > last_t else 0.0
        self.rows.append((elapsed, finished, rate, rss, threading.active_count()))


def write_csv(path: Path, rows: List[Row]) -> None:
    """Write the samples as CSV with a header line."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for elapsed, finished, rate, rss, threads in rows:
            writer.writerow((f"{elapsed:.1f}", finished, f"{rate:.2f}", rss, threads))


def write_chart(path: Path, rows: List[Row], title: str) -> None:
    """Draw flows/s, RSS (MiB) and threads against minutes, one panel each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    minutes = [row[0] / 60.0 for row in rows]
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(9, 7))
    series = (
        ([row[2] for row in rows], "flows / s"),
        ([row[3] / 1024.0 for row in rows], "RSS (MiB)"),
        ([row[4] for row in rows], "threads"),
    )
    for axis, (values, label) in zip(axes, series):
        axis.plot(minutes, values, linewidth=1)
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
        axis.set_ylim(bottom=0)
    axes[-1].set_xlabel("minutes")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the soak, write the CSV and the chart, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--width", type=int, default=16, help="flows in flight at once")
    parser.add_argument("--fault-interval", type=float, default=3.0, help="mean s between faults")
    parser.add_argument("--round-seconds", type=float, default=120.0)
    parser.add_argument("--sample-every", type=float, default=5.0, help="seconds per CSV row")
    parser.add_argument("--out", default="benchmarks/results/soak", help="path without suffix")
    args = parser.parse_args(argv)
    rounds = max(1, math.ceil(args.minutes * 60.0 / args.round_seconds))
    config = ChaosConfig(
        seed=args.seed,
        rounds=rounds,
        round_seconds=args.minutes * 60.0 / rounds,
        width=args.width,
        fault_interval=args.fault_interval,
    )
    samples = Samples(args.sample_every)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def progress(number: int, figures: ChaosFigures) -> None:
        write_csv(out.with_suffix(".csv"), samples.rows)  # keep what we have so far
        print(
            f"{time.strftime('%H:%M:%S')} round {number + 1}/{rounds}: {figures.flows} flows, "
            f"{figures.wrong} wrong, {figures.hangs} hangs, {figures.events.lost} events lost",
            flush=True,
        )

    figures = ChaosRun(config, on_round=progress, on_tick=samples.tick).run()
    write_csv(out.with_suffix(".csv"), samples.rows)
    write_chart(
        out.with_suffix(".png"),
        samples.rows,
        f"relaysync soak: {figures.flows} flows in {figures.seconds / 60:.1f} min, "
        f"{sum(figures.faults.values())} faults",
    )
    print("\n".join(figures.lines()))
    bad = {name: value for name, value in figures.zeros().items() if value}
    if bad:
        print(f"NOT ZERO: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
