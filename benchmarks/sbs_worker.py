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

This module also holds the raw floor: a websocket-client loop with no threads.
"""

from __future__ import annotations

import json
import os
import resource
import ssl
import sys
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

REFER_TARGET = "sip:support@example.com"
CLIENT_CPU = 1
RING_TIMEOUT = 120_000.0  # unscaled: two real minutes at time_scale 0.001
W5_RING_TIMEOUT = 600_000.0


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
    """Wall time and process CPU over the measured part of a run."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self._cpu = _cpu()
        self.end = self.start
        self.cpu = 0.0

    def stop(self, at: Optional[float] = None) -> None:
        """End the span (at ``at``, a ``time.monotonic()`` value, if given)."""
        self.end = time.monotonic() if at is None else at
        self.cpu = _cpu() - self._cpu


def _cpu() -> float:
    """CPU seconds of this process so far (``getrusage``: finer than ``os.times`` ticks)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "threads": native_threads(),
        "latencies_ms": [round(value * 1000.0, 4) for value in (latencies or [])],
        **extra,
    }


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """A client TLS context that trusts the simulator's CA."""
    return ssl.create_default_context(cafile=ca_file)


# -- the raw floor ----------------------------------------------------------------------


class RawLoop:
    """The least a synchronous client does: websocket-client, no threads, no objects.

    One socket; requests are JSON text; every server request (event, ping) is acked
    with prebuilt text as it is read.
    """

    def __init__(self, config: Dict[str, Any]) -> None:
        import websocket

        self._ws = websocket.create_connection(
            config["url"],
            sslopt={"context": ssl_context(config["ca_file"])},
            skip_utf8_validation=True,
            enable_multithread=False,
        )
        self.request(
            "signalwire.connect",
            {
                "version": {"major": 2, "minor": 0, "revision": 0},
                "event_acks": True,
                "authentication": {"project": config["project"], "token": config["token"]},
            },
        )

    def send(self, method: str, params: Dict[str, Any]) -> str:
        """Write one request; return its id."""
        request_id = str(uuid.uuid4())
        frame = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        self._ws.send(json.dumps(frame, separators=(",", ":")))
        return request_id

    def next_frame(self) -> Dict[str, Any]:
        """Read one frame, acking it if it is a server request."""
        frame: Dict[str, Any] = json.loads(self._ws.recv())
        if "method" in frame and "id" in frame:
            self._ws.send('{"jsonrpc":"2.0","id":' + json.dumps(frame["id"]) + ',"result":{}}')
        return frame

    def request(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """One blocking round trip."""
        request_id = self.send(method, params)
        while True:
            frame = self.next_frame()
            if frame.get("id") == request_id and "method" not in frame:
                return frame

    def close(self) -> None:
        """Close the socket."""
        self._ws.close()


def raw_w1(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W1 floor: sequential pings."""
    raw = RawLoop(config)
    for _ in range(50):
        raw.request("signalwire.ping", {})
    latencies: List[float] = []
    span = Span()
    for _ in range(config["n"]):
        began = time.monotonic()
        raw.request("signalwire.ping", {})
        latencies.append(time.monotonic() - began)
    span.stop()
    raw.close()
    return result(config["n"], span, latencies)


def raw_w2(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W2 floor: ``width`` pings kept in flight on one socket (what 32 workers ask)."""
    raw = RawLoop(config)
    n, width = config["n"], config["width"]
    sent_at: Dict[str, float] = {}
    latencies: List[float] = []
    span = Span()
    sent = 0
    while sent < min(width, n):
        sent_at[raw.send("signalwire.ping", {})] = time.monotonic()
        sent += 1
    while len(latencies) < n:
        frame = raw.next_frame()
        began = sent_at.pop(frame.get("id"), None) if "method" not in frame else None
        if began is None:
            continue
        latencies.append(time.monotonic() - began)
        if sent < n:
            sent_at[raw.send("signalwire.ping", {})] = time.monotonic()
            sent += 1
    span.stop()
    raw.close()
    return result(n, span, latencies)


def raw_w4(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W4 floor: read, ack and parse each event until the last one."""
    raw = RawLoop(config)
    span = Span()
    channel.send({"want": "push", "call_id": "raw-call", "node_id": "raw-node", "n": config["n"]})
    seen = 0
    while True:
        frame = raw.next_frame()
        if frame.get("method") != "signalwire.event":
            continue
        seen += 1
        if frame["params"]["params"].get("state") == "finished":
            break
    span.stop()
    channel.receive()
    raw.close()
    return result(seen, span)


RAW: Dict[str, Callable[[Dict[str, Any], Channel], Dict[str, Any]]] = {
    "W1": raw_w1,
    "W2": raw_w2,
    "W4": raw_w4,
}


def main() -> int:
    """Run the configured client and workload; write its result."""
    config: Dict[str, Any] = json.loads(sys.argv[1])
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CLIENT_CPU})
    channel = Channel()
    client = config["client"]
    if client == "raw":
        runner = RAW[config["workload"]]
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
