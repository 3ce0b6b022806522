"""RelaySimulator in a child process, driven over a pipe by the benchmark process.

Running the simulator in its own process keeps its event loop, its journal and its
memory out of the client's interpreter: the client is measured with its own GIL and
its own heap, as it would run against a remote RELAY server. ``time.monotonic()`` is
the same clock in both processes on Linux (``CLOCK_MONOTONIC``), so the simulator's
timestamps can be compared with the client's.

Commands (tuples sent by :class:`SimProcess`, answered with a dict unless noted):

* ``("place", index)``: an inbound call on context ``office`` from ``+1`` + the
  zero-padded index, ringing for up to 30 real seconds (no answer is sent back).
* ``("push", call_id, node_id, n, batch, window)``: push ``n`` ``calling.call.play``
  events for that call (``playing``, the last one ``finished``), ``batch`` per loop
  turn, keeping at most ``window`` unacked.
* ``("stop",)``: stop the simulator and end the process.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import time
import traceback
import uuid
from types import TracebackType
from typing import Any, Dict, Optional, Tuple, Type

CONTEXT = "office"
SIM_THREAD = "relaysync-simulator"
RING_SECONDS = 30.0


def caller_number(index: int) -> str:
    """The ``from`` number that identifies flow ``index``."""
    return f"+1{index:010d}"


def flow_index(number: Optional[str]) -> int:
    """Inverse of :func:`caller_number`.

    Raises:
        ValueError: not a number made by :func:`caller_number`.
    """
    if not number or not number.startswith("+1"):
        raise ValueError(f"unexpected caller number {number!r}")
    return int(number[2:])


def play_params(call_id: str, node_id: str, control_id: str) -> Dict[str, Any]:
    """The inner params of a ``calling.call.play`` event (the frame is about 480 bytes)."""
    return {"control_id": control_id, "call_id": call_id, "node_id": node_id, "state": "playing"}


def _push(sim: Any, call_id: str, node_id: str, n: int, batch: int, window: int) -> Dict[str, Any]:
    """Push ``n`` play events in batches on the simulator loop; return the timings.

    ``RelaySimulator.push_event`` hops to the loop thread once per event, which caps it
    at a few thousand events per second; the benchmark needs a sender faster than the
    client, so it runs whole batches on the loop through the simulator's core.
    """
    from relaysync.testing import faults

    core = sim._core
    conns = core.target_connections(None)
    if len(conns) != 1 or conns[0].session is None:
        raise RuntimeError(f"expected one online session, found {len(conns)}")
    session = conns[0].session
    params = play_params(call_id, node_id, str(uuid.uuid4()))

    final = {**params, "state": "finished"}

    def unacked() -> int:
        return len(session._pending)  # backlog() would copy up to `window` items a poll

    def push_batch(first: int, count: int) -> Tuple[str, int]:
        last = ""
        for index in range(first, first + count):
            body = final if index == n - 1 else params
            last = faults.push_event(core, "calling.call.play", body, session.id)[0]
        return last, unacked()

    start = time.monotonic()
    wall_offset = time.time() - start
    cpu0 = os.times()
    last_id = ""
    sent = 0
    while sent < n:
        count = min(batch, n - sent)
        last_id, pending = core.run_sync(lambda first=sent, count=count: push_batch(first, count))
        sent += count
        while pending > window:
            time.sleep(0.0005)
            pending = core.run_sync(unacked)
    queued = time.monotonic()
    entry = sim.journal.wait_for(
        lambda e: (
            e.direction == "in"
            and isinstance(e.frame, dict)
            and e.frame.get("id") == last_id
            and "result" in e.frame
        ),
        timeout=60.0,
    )
    cpu1 = os.times()
    return {
        "start": start,
        "queued": queued,
        "acked": entry.time - wall_offset,
        "sim_cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
    }


def _child_main(conn: multiprocessing.connection.Connection, time_scale: float) -> None:
    """Child process body: run the simulator and obey commands until ``stop``."""
    from relaysync.testing import RelaySimulator

    sim = RelaySimulator(time_scale=time_scale, ping_interval=0).start()
    # ring_timeout is scaled like every simulated delay: keep 30 s of real time, so that
    # a call queued behind 50 others is not ended "noAnswer" before it is answered
    ring_timeout = RING_SECONDS / time_scale if time_scale > 0 else RING_SECONDS
    loop_tid = next(t.native_id for t in threading.enumerate() if t.name == SIM_THREAD)
    conn.send(
        {
            "url": sim.url,
            "project": sim.project,
            "token": sim.token,
            "pid": os.getpid(),
            "loop_tid": loop_tid,
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
                    sim.inbound_call(
                        CONTEXT, from_=caller_number(message[1]), ring_timeout=ring_timeout
                    )
                    continue
                if command == "push":
                    conn.send(_push(sim, *message[1:]))
                else:
                    conn.send({"error": f"unknown command {command!r}"})
            except Exception:
                detail = traceback.format_exc()
                if command == "place":
                    print(detail, flush=True)
                else:
                    conn.send({"error": detail})
    finally:
        sim.stop()
    conn.send({"stopped": True})


class SimProcess:
    """A RelaySimulator running in a child process (spawned, not forked).

    Args:
        time_scale: the simulator's ``time_scale``.

    Attributes:
        url, project, token: where and how to connect.
        pid: the child's process id.
        loop_tid: native thread id of the simulator's event-loop thread.

    Raises:
        TimeoutError: the child did not report ready within 30 s.
    """

    def __init__(self, time_scale: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_child_main, args=(child, time_scale), name="relaysync-bench-sim", daemon=True
        )
        self._process.start()
        child.close()
        info = self._receive(30.0)
        self.url: str = info["url"]
        self.project: str = info["project"]
        self.token: str = info["token"]
        self.pid: int = info["pid"]
        self.loop_tid: int = info["loop_tid"]

    def _receive(self, timeout: float) -> Dict[str, Any]:
        """Wait for the child's next answer.

        Raises:
            TimeoutError: nothing within ``timeout``.
            RuntimeError: the child reported an error.
        """
        if not self._conn.poll(timeout):
            raise TimeoutError(f"simulator process did not answer within {timeout:g} s")
        answer: Dict[str, Any] = self._conn.recv()
        if "error" in answer:
            raise RuntimeError(f"simulator process failed:\n{answer['error']}")
        return answer

    def place(self, index: int) -> None:
        """Place inbound call number ``index`` (returns without waiting)."""
        self._conn.send(("place", index))

    def push(
        self,
        call_id: str,
        node_id: str,
        n: int,
        *,
        batch: int = 200,
        window: int = 5000,
        timeout: float = 90.0,
    ) -> Dict[str, float]:
        """Push ``n`` play events for a call and wait until the client acked them all.

        Returns:
            ``start``, ``queued`` and ``acked`` (``time.monotonic()`` values) and
            ``sim_cpu`` (CPU seconds of the simulator process meanwhile).
        """
        self._conn.send(("push", call_id, node_id, n, batch, window))
        return self._receive(timeout)

    def close(self) -> None:
        """Stop the simulator and the child process (idempotent)."""
        if not self._process.is_alive():
            return
        try:
            self._conn.send(("stop",))
            self._receive(15.0)
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        self._process.join(10.0)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(5.0)

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()
