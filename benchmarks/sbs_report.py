"""The side-by-side suite's figures: medians, ratios within the run, targets, and the
markdown, JSON and PNG outputs."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import statistics
import subprocess
from typing import Any, Dict, List, Optional, Sequence

HERE = os.path.dirname(os.path.abspath(__file__))
#: Table and chart order: the floors, then the two clients.
CLIENT_ORDER = ("raw", "threaded", "official", "relaysync")
TITLES = {
    "W1": "sequential RPCs",
    "W2": "32 workers x RPCs",
    "W3": "inbound flows (answer, play+wait, refer+wait)",
    "W4": "events to a callback",
    "W5": "live calls in one process",
    "W6": "recovery: drop to next good RPC",
    "W7": "flows over 10 client processes",
    "W8": "concurrent blocking flows at the defaults",
}
SERVER_CEILING = 0.9  # above this share of its core, the server limits the run


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=5, check=False, cwd=HERE
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    return done.stdout.strip() or "?"


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def environment(mode: str, repeat: int) -> Dict[str, Any]:
    """What the figures were measured on."""
    model = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "?",
            )
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "dirty": _git("status", "--porcelain", "--untracked-files=no") not in ("", "?"),
        "mode": mode,
        "repeat": repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "cpu": model,
        "platform": platform.platform(),
        "websocket-client": _version("websocket-client"),
        "websockets": _version("websockets"),
        "signalwire-sdk": _version("signalwire-sdk"),
        "wsaccel": _version("wsaccel"),
    }


def percentile(samples: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile, ``None`` without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


def _median(values: Sequence[Optional[float]]) -> Optional[float]:
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def describe_run(workload: str, client: str, round_: int, run: Dict[str, Any]) -> str:
    """One line per run, printed as the suite goes."""
    rate = run["ops"] / max(run["seconds"], 1e-9)
    busy = run.get("server_busy")
    extra = ""
    if workload == "W5":
        extra = f" setup {run['setup_s']:.2f} s, teardown {run['teardown_s']:.2f} s"
    if workload == "W6":
        extra = f" recovery {run['recovery_s'] * 1000:.0f} ms"
    if workload == "W8":
        extra = (
            f" p99 overhead {percentile(run['latencies_ms'], 99) or 0:,.0f} ms,"
            f" {run['live_threads']} threads with every flow blocked"
        )
    return (
        f"{workload} {client:9} run {round_ + 1}: {run['ops']} ops in {run['seconds']:.3f} s "
        f"({rate:,.0f}/s), {run['cpu'] / max(run['ops'], 1) * 1e6:,.0f} us CPU/op, "
        f"{(run['voluntary_switches'] + run['involuntary_switches']) / max(run['ops'], 1):.1f} "
        "switches/op, "
        f"peak RSS {run['peak_rss_kib'] / 1024:.1f} MiB, "
        f"server {'?' if busy is None else f'{busy:.0%}'}{extra}"
        + (f", {run['failures']} failed" if run.get("failures") else "")
    )


def _client_summary(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    rates = [r["ops"] / max(r["seconds"], 1e-9) for r in runs]
    summary: Dict[str, Any] = {
        "runs": len(runs),
        "throughput": _median(rates),
        "throughput_range": [min(rates), max(rates)],
        "cpu_us_per_op": _median([r["cpu"] / max(r["ops"], 1) * 1e6 for r in runs]),
        "voluntary_switches_per_op": _median(
            [r["voluntary_switches"] / max(r["ops"], 1) for r in runs]
        ),
        "involuntary_switches_per_op": _median(
            [r["involuntary_switches"] / max(r["ops"], 1) for r in runs]
        ),
        "peak_rss_mib": _median([r["peak_rss_kib"] / 1024 for r in runs]),
        "p50_ms": _median([percentile(r["latencies_ms"], 50) for r in runs]),
        "p99_ms": _median([percentile(r["latencies_ms"], 99) for r in runs]),
        "server_busy": _median([r.get("server_busy") for r in runs]),
        "threads": _median([r["threads"] for r in runs]),
        "failures": sum(r.get("failures", 0) for r in runs),
    }
    summary["ops"] = _median([r["ops"] for r in runs])
    summary["completed"] = min(r["ops"] - r.get("failures", 0) for r in runs)
    summary["wall_s"] = _median([r["seconds"] for r in runs])
    for key in ("setup_s", "teardown_s", "live_rss_kib", "live_threads", "recovery_s"):
        if key in runs[0]:
            summary[key] = _median([r[key] for r in runs])
    return summary


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def summarise(data: Dict[str, Any]) -> Dict[str, Any]:
    """Medians per client, ratios within the run, and each target met or not."""
    table: Dict[str, Dict[str, Any]] = {}
    targets: List[Dict[str, Any]] = []
    for workload, by_client in data["runs"].items():
        row = {client: _client_summary(runs) for client, runs in by_client.items() if runs}
        rs, off, raw = row.get("relaysync"), row.get("official"), row.get("raw")
        threaded = row.get("threaded")
        ratios: Dict[str, Optional[float]] = {}
        if rs and off:
            ratios["throughput_vs_official"] = _ratio(rs["throughput"], off["throughput"])
            ratios["cpu_vs_official"] = _ratio(rs["cpu_us_per_op"], off["cpu_us_per_op"])
            ratios["rss_vs_official"] = _ratio(rs["peak_rss_mib"], off["peak_rss_mib"])
            ratios["p99_vs_official"] = _ratio(rs["p99_ms"], off["p99_ms"])
            ratios["wall_vs_official"] = _ratio(rs["wall_s"], off["wall_s"])
        if rs and raw:
            ratios["throughput_vs_raw"] = _ratio(rs["throughput"], raw["throughput"])
        if rs and threaded:
            ratios["throughput_vs_threaded"] = _ratio(rs["throughput"], threaded["throughput"])
            ratios["cpu_vs_threaded"] = _ratio(rs["cpu_us_per_op"], threaded["cpu_us_per_op"])
        if threaded and raw:
            ratios["threaded_vs_raw"] = _ratio(threaded["throughput"], raw["throughput"])
        if threaded and off:
            ratios["threaded_cpu_vs_official"] = _ratio(
                threaded["cpu_us_per_op"], off["cpu_us_per_op"]
            )
        row["ratios"] = ratios
        table[workload] = row
        targets += _targets(workload, row, ratios)
    return {"table": table, "targets": targets}


def _target(
    workload: str, what: str, value: Optional[float], goal: str, met: Optional[bool]
) -> Dict[str, Any]:
    return {"workload": workload, "target": what, "value": value, "goal": goal, "met": met}


def _targets(
    workload: str, row: Dict[str, Any], ratios: Dict[str, Optional[float]]
) -> List[Dict[str, Any]]:
    rs = row.get("relaysync")
    if not rs:
        return []
    out: List[Dict[str, Any]] = []
    vs_off = ratios.get("throughput_vs_official")
    vs_raw = ratios.get("throughput_vs_raw")

    def check(what: str, value: Optional[float], goal: str, ok: Any) -> None:
        out.append(_target(workload, what, value, goal, None if value is None else bool(ok(value))))

    if workload == "W1":
        # a reader thread costs one hand-off per round trip: the threaded floor is the
        # bar (the raw floor ratio is still reported, in the ratios table)
        check(
            "throughput / threaded floor",
            ratios.get("throughput_vs_threaded"),
            ">= 0.95",
            lambda v: v >= 0.95,
        )
        check("throughput / official", vs_off, ">= 1.5", lambda v: v >= 1.5)
    if workload in ("W2", "W3", "W4"):
        busy = rs.get("server_busy")
        if busy is not None and busy >= SERVER_CEILING and vs_raw is not None:
            check(
                "throughput / raw floor (server at its ceiling)",
                vs_raw,
                ">= 0.9",
                lambda v: v >= 0.9,
            )
        else:
            check("throughput / official", vs_off, ">= 1.5", lambda v: v >= 1.5)
        check(
            "CPU per op / official", ratios.get("cpu_vs_official"), "<= 0.667", lambda v: v <= 2 / 3
        )
        check("peak RSS / official", ratios.get("rss_vs_official"), "<= 1.0", lambda v: v <= 1.0)
    if workload == "W5":
        check(
            "peak RSS with the calls live (MiB)",
            rs.get("live_rss_kib", 0) / 1024,
            "< 150",
            lambda v: v < 150,
        )
        check(
            "threads with the calls live",
            rs.get("live_threads"),
            "< 100 (no thread per call)",
            lambda v: v < 100,
        )
    if workload == "W8":
        check(
            "flows completed, every run",
            rs.get("completed"),
            f"= {rs.get('ops'):,.0f}",
            lambda v: v >= rs.get("ops", 0),
        )
        check("CPU per flow / official", ratios.get("cpu_vs_official"), "<= 1.0", lambda v: v <= 1)
        check(
            "p99 overhead over the caller's delay / official",
            ratios.get("p99_vs_official"),
            "<= 1.2",
            lambda v: v <= 1.2,
        )
        check("peak RSS / official", ratios.get("rss_vs_official"), "<= 1.5", lambda v: v <= 1.5)
    if workload == "W6":
        check(
            "recovery (s)",
            rs.get("recovery_s"),
            "<= 1.0 s backoff step + 1 RTT",
            lambda v: v <= 1.05,
        )
    return out


def _fmt(value: Optional[float], digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def markdown(data: Dict[str, Any], summary: Dict[str, Any]) -> str:
    """The results as a markdown document."""
    env = data["environment"]
    lines = [
        "# relaysync side by side",
        "",
        f"{env['date']}, commit `{env['commit']}`"
        f"{' (uncommitted changes)' if env['dirty'] else ''}, "
        f"{env['mode']} mode, median of {env['repeat']} run(s) per client; "
        f"{env['cpus']} CPUs ({env['cpu']}), Python {env['python']}, "
        f"websocket-client {env['websocket-client']}, websockets {env['websockets']} (server), "
        f"signalwire-sdk {env['signalwire-sdk']}, wsaccel {env['wsaccel']}. "
        f"Server pinned: {data['server_pinned']}, lean: {data.get('server_lean', True)}, "
        f"writes: {data.get('server_writes', 'burst')}. "
        f"Suite took {data['seconds']} s.",
        "",
        "Load average (1, 5, 15 min) before: "
        + ", ".join(f"{v:.2f}" for v in data["load"]["before"])
        + "; after: "
        + ", ".join(f"{v:.2f}" for v in data["load"]["after"])
        + ".",
        "",
        "| workload | client | ops/s (median, range) | CPU us/op | switches/op (vol + invol) "
        "| peak RSS MiB | p50 ms | p99 ms | server busy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for workload, row in summary["table"].items():
        for client in CLIENT_ORDER:
            s = row.get(client)
            if not s:
                continue
            low, high = s["throughput_range"]
            lines.append(
                f"| {workload} {TITLES[workload]} ({data['sizes'][workload]}) | {client} | "
                f"{_fmt(s['throughput'])} ({_fmt(low)}-{_fmt(high)}) | "
                f"{_fmt(s['cpu_us_per_op'])} | "
                f"{_fmt(s['voluntary_switches_per_op'], 1)} + "
                f"{_fmt(s['involuntary_switches_per_op'], 1)} | "
                f"{_fmt(s['peak_rss_mib'], 1)} | {_fmt(s['p50_ms'], 3)} | {_fmt(s['p99_ms'], 3)} | "
                f"{_fmt(None if s['server_busy'] is None else s['server_busy'] * 100, 0, '%')} |"
            )
    lines += ["", "Ratios within the run (relaysync over the other):", ""]
    lines += [
        "| workload | ops/s vs official | ops/s vs raw floor | ops/s vs threaded floor "
        "| CPU/op vs official | CPU/op vs threaded floor | RSS vs official "
        "| threaded floor: ops/s vs raw | threaded floor: CPU/op vs official |"
    ]
    lines += ["|---|---|---|---|---|---|---|---|---|"]
    for workload, row in summary["table"].items():
        r = row["ratios"]
        lines.append(
            f"| {workload} | {_fmt(r.get('throughput_vs_official'), 2, 'x')} | "
            f"{_fmt(r.get('throughput_vs_raw'), 2, 'x')} | "
            f"{_fmt(r.get('throughput_vs_threaded'), 2, 'x')} | "
            f"{_fmt(r.get('cpu_vs_official'), 2, 'x')} | "
            f"{_fmt(r.get('cpu_vs_threaded'), 2, 'x')} | "
            f"{_fmt(r.get('rss_vs_official'), 2, 'x')} | "
            f"{_fmt(r.get('threaded_vs_raw'), 2, 'x')} | "
            f"{_fmt(r.get('threaded_cpu_vs_official'), 2, 'x')} |"
        )
    extras = []
    for workload in ("W5", "W6", "W8"):
        for client, s in summary["table"].get(workload, {}).items():
            if client == "ratios":
                continue
            if workload == "W5":
                extras.append(
                    f"- W5 {client}: set-up {_fmt(s.get('setup_s'), 2)} s, tear-down "
                    f"{_fmt(s.get('teardown_s'), 2)} s, RSS with the calls live "
                    f"{_fmt(s.get('live_rss_kib', 0) / 1024, 1)} MiB, threads "
                    f"{_fmt(s.get('live_threads'))}"
                )
            elif workload == "W6":
                extras.append(
                    f"- W6 {client}: recovery {_fmt(s.get('recovery_s', 0) * 1000, 0)} ms"
                )
            else:
                extras.append(
                    f"- W8 {client}: {_fmt(s.get('completed'))}/{_fmt(s.get('ops'))} flows "
                    f"completed (worst run), wall {_fmt(s.get('wall_s'), 2)} s, CPU/flow "
                    f"{_fmt(s.get('cpu_us_per_op'))} us, p99 overhead over the caller's "
                    f"{data.get('press_seconds', 2.0):g} s {_fmt(s.get('p99_ms'))} ms, peak RSS "
                    f"{_fmt(s.get('peak_rss_mib'), 1)} MiB, threads with every flow blocked "
                    f"{_fmt(s.get('live_threads'))}"
                )
    if extras:
        lines += ["", *extras]
    lines += [
        "",
        "Targets:",
        "",
        "| workload | target | value | goal | met |",
        "|---|---|---|---|---|",
    ]
    for t in summary["targets"]:
        met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(
            f"| {t['workload']} | {t['target']} | {_fmt(t['value'], 2)} | {t['goal']} | {met} |"
        )
    return "\n".join(lines) + "\n"


def chart(summary: Dict[str, Any], path: str) -> bool:
    """A PNG: throughput and CPU per op of each client, relative to the official SDK."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    workloads = [
        w
        for w, row in summary["table"].items()
        if "official" in row and w not in ("W5", "W6", "W8")
    ]
    if not workloads:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(CLIENT_ORDER)
    for axis, key, title in (
        (axes[0], "throughput", "throughput / official SDK (higher is better)"),
        (axes[1], "cpu_us_per_op", "client CPU per op / official SDK (lower is better)"),
    ):
        for index, client in enumerate(CLIENT_ORDER):
            values = []
            for w in workloads:
                row = summary["table"][w]
                base = row["official"][key]
                mine = row.get(client, {}).get(key)
                values.append(mine / base if mine and base else 0.0)
            axis.bar(
                [i + (index - (len(CLIENT_ORDER) - 1) / 2) * width for i in range(len(workloads))],
                values,
                width,
                label=client,
            )
        axis.axhline(1.0, color="grey", linewidth=0.8)
        axis.set_xticks(range(len(workloads)))
        axis.set_xticklabels(workloads)
        axis.set_title(title, fontsize=10)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _without_samples(runs: Dict[str, Any]) -> Dict[str, Any]:
    """The runs with each latency list replaced by its p50 and p99 (keeps the JSON small)."""
    out: Dict[str, Any] = {}
    for workload, by_client in runs.items():
        out[workload] = {}
        for client, items in by_client.items():
            out[workload][client] = [
                {
                    **{k: v for k, v in run.items() if k != "latencies_ms"},
                    "p50_ms": percentile(run["latencies_ms"], 50),
                    "p99_ms": percentile(run["latencies_ms"], 99),
                }
                for run in items
            ]
    return out


def write(data: Dict[str, Any], summary: Dict[str, Any], out: str) -> List[str]:
    """Write side_by_side.md, .json and .png into ``out`` (``side_by_side-single.*``
    when the server wrote one frame per send); return the paths written."""
    os.makedirs(out, exist_ok=True)
    paths = []
    stem = "side_by_side" + ("-single" if data.get("server_writes") == "single" else "")
    md = os.path.join(out, f"{stem}.md")
    with open(md, "w", encoding="utf-8") as handle:
        handle.write(markdown(data, summary))
    paths.append(md)
    js = os.path.join(out, f"{stem}.json")
    with open(js, "w", encoding="utf-8") as handle:
        json.dump(
            {**data, "runs": _without_samples(data["runs"]), "summary": summary}, handle, indent=1
        )
    paths.append(js)
    png = os.path.join(out, f"{stem}.png")
    if chart(summary, png):
        paths.append(png)
    return paths
