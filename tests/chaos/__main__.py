"""``python -m tests.chaos``: a long chaos run that prints its figures.

Run from the repository root. The exit status is 1 when a figure that must be zero is
not. Example::

    python -m tests.chaos --minutes 10 --seed 7 --width 16
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from typing import List, Optional

from .harness import ChaosConfig, ChaosFigures, ChaosRun


def parse(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__)
    parser.add_argument("--minutes", type=float, default=5.0, help="total time (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault schedule")
    parser.add_argument("--width", type=int, default=16, help="flows in flight at once")
    parser.add_argument(
        "--round-seconds", type=float, default=60.0, help="seconds per round (default 60)"
    )
    parser.add_argument(
        "--fault-interval", type=float, default=1.0, help="mean seconds between faults"
    )
    parser.add_argument("--verbose", action="store_true", help="log at INFO")
    args = parser.parse_args(argv)
    if not (args.minutes > 0 and args.round_seconds > 0 and args.width > 0):
        parser.error("--minutes, --round-seconds and --width must be positive")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the chaos rounds and print the figures; 1 if a must-be-zero figure is not."""
    args = parse(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s",
    )
    rounds = max(1, math.ceil(args.minutes * 60.0 / args.round_seconds))
    config = ChaosConfig(
        seed=args.seed,
        rounds=rounds,
        round_seconds=args.minutes * 60.0 / rounds,
        width=args.width,
        fault_interval=args.fault_interval,
    )

    def progress(number: int, figures: ChaosFigures) -> None:
        print(
            f"round {number + 1}/{rounds}: {figures.flows} flows, {figures.completed} "
            f"completed, {figures.documented} documented errors, {figures.wrong} wrong, "
            f"{figures.hangs} hangs, {figures.events.lost} events lost",
            flush=True,
        )

    figures = ChaosRun(config, on_round=progress).run()
    print("\n".join(figures.lines()))
    bad = {name: value for name, value in figures.zeros().items() if value}
    if bad:
        print(f"NOT ZERO: {bad}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
