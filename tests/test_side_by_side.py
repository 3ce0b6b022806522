"""The side-by-side benchmark suite runs every workload once at tiny size (no timing
asserted): its server process, client processes, requests and reports keep working."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def suite() -> Iterator[Any]:
    """The ``side_by_side`` module, imported from benchmarks/ (not a package)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("side_by_side")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.timeout(180)
def test_every_workload_runs_once_for_every_client(suite: Any, tmp_path: Path) -> None:
    sbs_report: Any = importlib.import_module("sbs_report")

    clients: List[str] = ["relaysync", "raw", "threaded"]
    if importlib.util.find_spec("signalwire") is not None:
        clients.append("official")
    lines: List[str] = []
    data: Dict[str, Any] = suite.run_suite(
        suite.WORKLOADS,
        suite.SIZES["tiny"],
        1,
        clients,
        log=lines.append,
        w7_processes=2,
        press_seconds=0.2,
    )
    data.update(environment=sbs_report.environment("tiny", 1), sizes=suite.SIZES["tiny"])
    data["seconds"] = 0.0
    for workload in suite.WORKLOADS:
        for client in suite.clients_for(workload, clients):
            (run,) = data["runs"][workload][client]
            assert run["ops"] >= 1, (workload, client, run)
            assert run.get("failures", 0) == 0, (workload, client, run)
            assert run["peak_rss_kib"] > 0 and run["cpu"] >= 0.0
            assert run["voluntary_switches"] >= 0 and run["involuntary_switches"] >= 0
    assert data["runs"]["W5"]["relaysync"][0]["tracked_after"] == 0
    summary = sbs_report.summarise(data)
    paths = sbs_report.write(data, summary, str(tmp_path))
    text = (tmp_path / "side_by_side.md").read_text(encoding="utf-8")
    assert "| W4 events to a callback (50) | relaysync |" in text
    assert "| switches/op (vol + invol) |" in text
    assert "| W2 32 workers x RPCs (64) | threaded |" in text
    assert {t["workload"] for t in summary["targets"]} >= {"W1", "W2", "W5", "W6"}
    assert all(os.path.exists(p) for p in paths)
    assert len(lines) == sum(len(suite.clients_for(w, clients)) for w in suite.WORKLOADS)
    w8 = data["runs"]["W8"]["relaysync"][0]
    assert w8["live_threads"] >= 1 and len(w8["latencies_ms"]) == suite.SIZES["tiny"]["W8"]
    assert "- W8 relaysync: 8/8 flows completed" in text


@pytest.mark.timeout(120)
def test_a_server_writing_one_frame_per_send_serves_the_flows(suite: Any, tmp_path: Path) -> None:
    sbs_report: Any = importlib.import_module("sbs_report")

    clients = ["relaysync", "threaded"]
    data: Dict[str, Any] = suite.run_suite(
        ["W2", "W3", "W8"],
        suite.SIZES["tiny"],
        1,
        clients,
        log=lambda line: None,
        server_writes="single",
        press_seconds=0.2,
    )
    data.update(environment=sbs_report.environment("tiny", 1), sizes=suite.SIZES["tiny"])
    data["seconds"] = 0.0
    for workload in ("W2", "W3", "W8"):
        for client in suite.clients_for(workload, clients):
            (run,) = data["runs"][workload][client]
            assert run["ops"] >= 1 and run.get("failures", 0) == 0, (workload, client, run)
    paths = sbs_report.write(data, sbs_report.summarise(data), str(tmp_path))
    assert {os.path.basename(p) for p in paths} >= {"side_by_side-single.md"}
    text = (tmp_path / "side_by_side-single.md").read_text(encoding="utf-8")
    assert "writes: single" in text
