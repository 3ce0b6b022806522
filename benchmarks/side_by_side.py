"""relaysync, SignalWire's asyncio SDK and two websocket-client floors, side by side.

Usage (from the repository root, with the ``bench`` extra installed)::

    python benchmarks/side_by_side.py            # full: every workload, median of 5
    python benchmarks/side_by_side.py --quick    # smaller counts, 5 runs, a few minutes
    python benchmarks/side_by_side.py --only W1 W4 --repeat 9
    python benchmarks/side_by_side.py --server-writes single   # one send per frame

One server (RelaySimulator over ``wss://``, lean mode) runs in a process of its own,
pinned to core 0; every measured run is a fresh client process pinned to core 1, so
its CPU and peak RSS are its own. Clients alternate run by run (the order rotates each
round), so all of them see the same background load. The floors (``sbs_floor``) are
a websocket-client loop with no threads (``raw``) and the same with one reader thread
waking each waiting caller (``threaded``). Results go to
``benchmarks/results/`` as ``side_by_side.md``, ``side_by_side.json`` and
``side_by_side.png`` (``side_by_side-single.*`` with ``--server-writes single``, where
the server writes each frame with a send of its own instead of a socket's queued frames
in one go). See benchmarks/RESULTS.md for how to read them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sbs_report  # noqa: E402
from sbs_server import WRITES, ServerProcess, pin, stat_pair  # noqa: E402

CLIENTS = ("relaysync", "official", "raw", "threaded")
WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8")
#: The workloads each floor takes part in (the clients themselves run every one).
FLOOR_WORKLOADS = {"raw": ("W1", "W2", "W4"), "threaded": ("W1", "W2", "W3", "W7")}
SIZES: Dict[str, Dict[str, int]] = {
    "full": {
        "W1": 2000,
        "W2": 3200,
        "W3": 200,
        "W4": 20000,
        "W5": 1000,
        "W6": 1,
        "W7": 500,
        "W8": 1000,
    },
    "quick": {
        "W1": 500,
        "W2": 960,
        "W3": 100,
        "W4": 5000,
        "W5": 300,
        "W6": 1,
        "W7": 200,
        "W8": 1000,
    },
    "tiny": {"W1": 20, "W2": 64, "W3": 4, "W4": 50, "W5": 10, "W6": 1, "W7": 4, "W8": 8},
}
WIDTH = 32
W7_PROCESSES = 10
PRESS_SECONDS = 2.0  # W8: the caller presses this long after the prompt


class Sampler:
    """Samples the server process's CPU every 20 ms, to tell how busy it was in a span."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._samples: List[Tuple[float, float]] = [stat_pair(pid)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sbs-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self._samples.append(stat_pair(self._pid))

    def busy(self, start: float, end: float) -> Optional[float]:
        """Fraction of one core the server used between two ``time.monotonic()`` moments."""
        inside = [s for s in list(self._samples) if start - 0.02 <= s[0] <= end + 0.02]
        if len(inside) < 2 or inside[-1][0] - inside[0][0] < 0.05:
            return None
        return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])

    def close(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join(2.0)


class Worker:
    """One client process: answers its requests through the server; keeps its result."""

    def __init__(self, server: ServerProcess, config: Dict[str, Any], prefix: str) -> None:
        self.config = config
        self._server = server
        self._prefix = prefix
        self.result: Optional[Dict[str, Any]] = None
        self.failure: Optional[str] = None
        self.pending_place: Optional[Dict[str, Any]] = None
        self.place_ready = threading.Event()
        self.place_done = threading.Event()
        self._process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "sbs_worker.py"), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=HERE,
        )

    def reply(self, message: Dict[str, Any]) -> None:
        """Answer the worker's latest request."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()

    def serve(self, place: Optional[Any] = None) -> None:
        """Read the worker's messages until its result (``place`` batches W7 placements)."""
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message = json.loads(line)
            if "result" in message:
                self.result = message["result"]
                break
            if "failed" in message:
                self.failure = message["failed"]
                break
            try:
                self.reply(self._fulfil(message, place))
            except Exception as exc:  # report it to the worker, which fails its run
                self.reply({"error": f"{type(exc).__name__}: {exc}"})
        self._process.wait(60.0)
        if self.result is None and self.failure is None:
            self.failure = f"worker exited with status {self._process.returncode}"

    def _fulfil(self, message: Dict[str, Any], place: Optional[Any]) -> Dict[str, Any]:
        want = message["want"]
        if want == "place":
            if place is not None:
                self.pending_place = message
                self.place_ready.set()
                self.place_done.wait(120.0)
                return {"ok": True}
            return self._server.command(
                "place", message["count"], self._prefix, message["ring_timeout"]
            )
        if want == "push":
            return self._server.command(
                "push", message["call_id"], message["node_id"], message["n"], 200, 5000
            )
        if want == "press":
            return self._server.command(
                "press", message["count"], self._prefix, message["digit"], message["seconds"]
            )
        if want == "drop":
            return self._server.command("drop")
        raise ValueError(f"unknown request {want!r}")


def run_one(
    server: ServerProcess,
    sampler: Sampler,
    client: str,
    workload: str,
    n: int,
    tag: str,
    processes: int = W7_PROCESSES,
    press_seconds: float = PRESS_SECONDS,
) -> Dict[str, Any]:
    """One measured run of ``client`` on ``workload`` (W7: ``processes`` at once)."""
    base = {
        "processes": processes,
        "press_seconds": press_seconds,
        "client": client,
        "workload": workload,
        "n": n,
        "width": WIDTH,
        "url": server.url,
        "host": server.host,
        "ca_file": server.ca_file,
        "project": server.project,
        "token": server.token,
    }
    if workload != "W7":
        worker = Worker(server, base, f"+1{tag}")
        worker.serve()
        if worker.result is None:
            raise RuntimeError(f"{client} {workload}: {worker.failure}")
        outcome = dict(worker.result)
        start = outcome.get("start", time.monotonic() - outcome["seconds"])
        outcome["server_busy"] = sampler.busy(start, start + outcome["seconds"])
        return outcome
    return _run_w7(server, sampler, base, n, tag)


def _run_w7(
    server: ServerProcess, sampler: Sampler, base: Dict[str, Any], n: int, tag: str
) -> Dict[str, Any]:
    """W7: ``W7_PROCESSES`` clients at once; the server places every flow in one burst."""
    processes = base["processes"]
    share = max(1, n // processes)
    workers = [Worker(server, {**base, "n": share}, f"+1{tag}") for _ in range(processes)]
    threads = [
        threading.Thread(target=w.serve, kwargs={"place": True}, daemon=True) for w in workers
    ]
    for thread in threads:
        thread.start()
    for worker in workers:
        if not worker.place_ready.wait(120.0):
            raise RuntimeError(f"W7: a {base['client']} process did not get ready")
    ring_timeout = (workers[0].pending_place or {})["ring_timeout"]
    server.command("place", share * processes, f"+1{tag}", ring_timeout)
    for worker in workers:
        worker.place_done.set()
    for thread in threads:
        thread.join(180.0)
    failed = [w.failure for w in workers if w.result is None]
    if failed:
        raise RuntimeError(f"{base['client']} W7: {failed[0]}")
    results = [w.result for w in workers if w.result is not None]
    start = min(r["start"] for r in results)
    end = max(r["start"] + r["seconds"] for r in results)
    latencies = [value for r in results for value in r["latencies_ms"]]
    return {
        "ops": sum(r["ops"] for r in results),
        "seconds": end - start,
        "cpu": sum(r["cpu"] for r in results),
        "voluntary_switches": sum(r["voluntary_switches"] for r in results),
        "involuntary_switches": sum(r["involuntary_switches"] for r in results),
        "peak_rss_kib": max(r["peak_rss_kib"] for r in results),
        "total_rss_kib": sum(r["peak_rss_kib"] for r in results),
        "threads": max(r["threads"] for r in results),
        "latencies_ms": latencies,
        "failures": sum(r.get("failures", 0) for r in results),
        "processes": processes,
        "server_busy": sampler.busy(start, end),
    }


def clients_for(workload: str, clients: Sequence[str]) -> List[str]:
    """The clients that take part in ``workload`` (the floors only where they apply)."""
    return [c for c in clients if workload in FLOOR_WORKLOADS.get(c, (workload,))]


def run_suite(
    workloads: Sequence[str],
    sizes: Dict[str, int],
    repeat: int,
    clients: Sequence[str] = CLIENTS,
    log: Any = print,
    w7_processes: int = W7_PROCESSES,
    lean: bool = True,
    server_writes: str = "burst",
    press_seconds: float = PRESS_SECONDS,
) -> Dict[str, Any]:
    """Run ``workloads`` ``repeat`` times each, clients alternating; return every run.

    ``server_writes`` is ``"burst"`` or ``"single"`` (see ``sbs_server``); W8's callers
    press their digit ``press_seconds`` after the prompt.
    """
    pinned = pin(0)
    runs: Dict[str, Dict[str, List[Dict[str, Any]]]] = {}
    load: Dict[str, Any] = {"before": os.getloadavg()}
    with ServerProcess(lean=lean, writes=server_writes) as server:
        sampler = Sampler(server.pid)
        try:
            for workload in workloads:
                taking_part = clients_for(workload, clients)
                runs[workload] = {client: [] for client in taking_part}
                load[f"{workload} before"] = os.getloadavg()
                for round_ in range(repeat):
                    shift = round_ % len(taking_part)
                    order = taking_part[shift:] + taking_part[:shift]
                    for client in order:
                        tag = f"{WORKLOADS.index(workload) + 1}{round_}{CLIENTS.index(client)}"
                        outcome = run_one(
                            server,
                            sampler,
                            client,
                            workload,
                            sizes[workload],
                            tag,
                            w7_processes,
                            press_seconds,
                        )
                        runs[workload][client].append(outcome)
                        log(sbs_report.describe_run(workload, client, round_, outcome))
                load[f"{workload} after"] = os.getloadavg()
        finally:
            sampler.close()
    load["after"] = os.getloadavg()
    return {
        "runs": runs,
        "load": load,
        "server_pinned": server.pinned,
        "server_lean": lean,
        "server_writes": server_writes,
        "press_seconds": press_seconds,
        "orchestrator_pinned": pinned,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point; returns 1 when a target was missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs per client (median)")
    parser.add_argument("--only", nargs="+", choices=WORKLOADS, metavar="W", help="workloads")
    parser.add_argument(
        "--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS), help="clients"
    )
    parser.add_argument(
        "--out", default=os.path.join(HERE, "results"), help="directory for md/json/png"
    )
    parser.add_argument(
        "--full-server",
        action="store_true",
        help="run the simulator with its journal and permessage-deflate (not lean)",
    )
    parser.add_argument(
        "--server-writes",
        choices=WRITES,
        default="burst",
        help="burst: a socket's queued frames in one write (default); single: one per frame",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    mode = "quick" if args.quick else "full"
    env = sbs_report.environment(mode, args.repeat)
    print("side by side: " + ", ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    began = time.monotonic()
    data = run_suite(
        args.only or WORKLOADS,
        SIZES[mode],
        args.repeat,
        args.clients,
        log=lambda line: print(f"  {line}", flush=True),
        lean=not args.full_server,
        server_writes=args.server_writes,
    )
    data["environment"] = env
    data["sizes"] = SIZES[mode]
    data["seconds"] = round(time.monotonic() - began, 1)
    summary = sbs_report.summarise(data)
    paths = sbs_report.write(data, summary, args.out)
    print()
    print(sbs_report.markdown(data, summary))
    print("written: " + ", ".join(paths))
    missed = [t for t in summary["targets"] if t["met"] is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
