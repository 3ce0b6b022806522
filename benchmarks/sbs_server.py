"""The side-by-side suite's server: RelaySimulator over wss in a child process of its own.

The child is spawned (not forked), pinned to its own core, and obeys commands sent over
a pipe by the benchmark process. It runs the simulator in *lean* mode by default (no
journal, no permessage-deflate: see ``RelaySimulator(lean=True)``), so that the server
is not what limits a client. Its sockets write the frames queued by the time the writer
wakes in one go (``writes="burst"``, the simulator's default), or each frame with a send
of its own (``writes="single"``, as most servers write at moderate load).

Commands (tuples, each answered with a dict):

* ``("place", count, prefix, ring_timeout)``: ``count`` inbound calls on context
  ``office``, placed as fast as the loop takes them, caller ``prefix`` + index.
* ``("push", call_id, node_id, n, batch, window)``: ``n`` ``calling.call.play`` events
  for that call (``playing``, the last ``finished``), ``batch`` per loop turn, keeping
  at most ``window`` unacked.
* ``("press", count, prefix, digit, seconds)``: the callers ``prefix`` + index (as
  ``place`` numbers them) will press ``digit`` ``seconds`` (real time) after the
  prompt of their next collect.
* ``("drop",)``: abort every client socket; answers the ``time.monotonic()`` of the drop.
* ``("stop",)``: stop the simulator and end the process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import time
import traceback
import uuid
from types import TracebackType
from typing import Any, Dict, Optional, Tuple, Type

CONTEXT = "office"
SERVER_CPU = 0
WRITES = ("burst", "single")


def pin(cpu: int) -> bool:
    """Pin this process to ``cpu`` when the machine has more than one core.

    Returns:
        Whether the process was pinned.
    """
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, {cpu % (os.cpu_count() or 1)})
    return True


def _place(sim: Any, count: int, prefix: str, ring_timeout: float) -> Dict[str, Any]:
    """Place ``count`` inbound calls in one loop turn per 50 calls."""
    began = time.monotonic()
    for index in range(count):
        sim.inbound_call(CONTEXT, from_=f"{prefix}{index:06d}", ring_timeout=ring_timeout)
    return {"placed": count, "seconds": time.monotonic() - began}


def _press(
    sim: Any, count: int, prefix: str, digit: str, seconds: float, time_scale: float
) -> Dict[str, Any]:
    """Script ``count`` callers to press ``digit`` ``seconds`` after their next prompt."""
    delay = seconds / time_scale if time_scale > 0 else seconds
    for index in range(count):
        sim.caller(f"{prefix}{index:06d}").press(digit, delay=delay)
    return {"scripted": count}


def _push(sim: Any, call_id: str, node_id: str, n: int, batch: int, window: int) -> Dict[str, Any]:
    """Push ``n`` play events in batches on the simulator loop (a sender faster than a client).

    ``RelaySimulator.push_event`` hops to the loop once per event; whole batches go
    through the core here instead.
    """
    from relaysync.testing import faults

    core = sim._core
    conns = core.target_connections(None)
    if len(conns) != 1 or conns[0].session is None:
        raise RuntimeError(f"expected one online session, found {len(conns)}")
    session = conns[0].session
    params = {"control_id": str(uuid.uuid4()), "call_id": call_id, "node_id": node_id}
    playing = {**params, "state": "playing"}
    final = {**params, "state": "finished"}

    def unacked() -> int:
        return len(session._pending)

    def push_batch(first: int, count: int) -> int:
        for index in range(first, first + count):
            body = final if index == n - 1 else playing
            faults.push_event(core, "calling.call.play", body, session.id)
        return unacked()

    began = time.monotonic()
    sent = 0
    while sent < n:
        count = min(batch, n - sent)
        pending = core.run_sync(lambda first=sent, count=count: push_batch(first, count))
        sent += count
        while pending > window:
            time.sleep(0.0005)  # the client is behind: let it catch up
            pending = core.run_sync(unacked)
    return {"queued_seconds": time.monotonic() - began}


def _child_main(
    conn: multiprocessing.connection.Connection, lean: bool, time_scale: float, writes: str
) -> None:
    """Child process body: run the simulator and obey commands until ``stop``."""
    from relaysync.testing import RelaySimulator, faults

    pinned = pin(SERVER_CPU)
    sim = RelaySimulator(time_scale=time_scale, ping_interval=0, tls=True, lean=lean).start()
    if writes == "single":
        sim._server.burst_frames = 1  # before any client connects
    conn.send(
        {
            "url": sim.url,
            "host": f"{sim.host}:{sim.port}",
            "ca_file": sim.ca_file,
            "project": sim.project,
            "token": sim.token,
            "pid": os.getpid(),
            "pinned": pinned,
        }
    )
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            command = message[0]
            if command == "stop":
                break
            try:
                if command == "place":
                    conn.send(_place(sim, *message[1:]))
                elif command == "push":
                    conn.send(_push(sim, *message[1:]))
                elif command == "press":
                    conn.send(_press(sim, *message[1:], time_scale))
                elif command == "drop":
                    at = time.monotonic()
                    dropped = sim._core.run_sync(lambda: faults.drop_connections(sim._core))
                    conn.send({"at": at, "dropped": dropped})
                else:
                    conn.send({"error": f"unknown command {command!r}"})
            except Exception:
                conn.send({"error": traceback.format_exc()})
    finally:
        sim.stop()
    conn.send({"stopped": True})


class ServerProcess:
    """A RelaySimulator (wss, lean by default) in a spawned child process.

    Args:
        lean: run the simulator in lean mode.
        time_scale: the simulator's ``time_scale``.
        writes: ``"burst"`` or ``"single"`` (see the module docstring).

    Attributes:
        url, host, ca_file, project, token: where and how to connect.
        pid: the child's process id. pinned: whether it runs on a core of its own.

    Raises:
        TimeoutError: the child did not report ready within 30 s.
    """

    def __init__(
        self, *, lean: bool = True, time_scale: float = 0.001, writes: str = "burst"
    ) -> None:
        if writes not in WRITES:
            raise ValueError(f"writes must be one of {WRITES}, got {writes!r}")
        self.writes = writes
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_child_main,
            args=(child, lean, time_scale, writes),
            name="relaysync-sbs-server",
            daemon=True,
        )
        self._process.start()
        child.close()
        info = self._receive(30.0)
        self.url: str = info["url"]
        self.host: str = info["host"]
        self.ca_file: str = info["ca_file"]
        self.project: str = info["project"]
        self.token: str = info["token"]
        self.pid: int = info["pid"]
        self.pinned: bool = info["pinned"]

    def _receive(self, timeout: float) -> Dict[str, Any]:
        if not self._conn.poll(timeout):
            raise TimeoutError(f"server process did not answer within {timeout:g} s")
        answer: Dict[str, Any] = self._conn.recv()
        if "error" in answer:
            raise RuntimeError(f"server process failed:\n{answer['error']}")
        return answer

    def command(self, *message: Any, timeout: float = 120.0) -> Dict[str, Any]:
        """Send one command (see the module docstring) and return its answer."""
        self._conn.send(message)
        return self._receive(timeout)

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        return process_cpu(self.pid)

    def close(self) -> None:
        """Stop the simulator and the child process (idempotent)."""
        if not self._process.is_alive():
            return
        with contextlib.suppress(OSError, EOFError, TimeoutError, RuntimeError):
            self.command("stop", timeout=15.0)
        self._process.join(10.0)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5.0)

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` so far; 0.0 without /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stat_pair(pid: int) -> Tuple[float, float]:
    """``(time.monotonic(), CPU seconds)`` of ``pid``, read together."""
    return time.monotonic(), process_cpu(pid)
