"""Regression tests for client-side concurrency and protocol defects.

Each test reproduces one defect over the simulator's real sockets (or, where only a
thread schedule matters, forces that schedule deterministically). A test for a defect
not fixed yet is marked ``xfail(strict=True)``; once fixed, the marker is removed and
the test stays as a regression test.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Dict, List, Optional

import pytest

import relaysync.wire.sockets
from relaysync import Call, RelayClient, RelayConnectionError, RelayError, RelayTimeoutError
from relaysync.devices import phone_device
from relaysync.testing import RelaySimulator
from relaysync.workers import WorkerPool

from .helpers import Recorder, answered_call, make_client, relaysync_threads

FROM = "+15550000000"


def phone(to: str) -> Dict[str, Any]:
    return phone_device(to, FROM)


# ------------------------------------------------------------------ connect / close


@pytest.mark.timeout(30)
def test_close_releases_a_connect_in_progress(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    try:
        sim.on_dial("+15559991111", "answer", delay=1500)  # 15 s at time_scale 0.01
        call = answered_call(client, sim)
        outcome: List[BaseException] = []
        finished = threading.Event()

        def connect() -> None:
            try:
                call.connect(phone("+15559991111"), timeout=20)
            except BaseException as exc:
                outcome.append(exc)
            finally:
                finished.set()

        threading.Thread(target=connect, daemon=True).start()
        sim.journal.wait_for_request("calling.connect")
        # Its answer precedes the ping's: once the ping returns, connect() has its RPC
        # result and is (or is about to be) blocked waiting for the outcome event.
        client.execute("signalwire.ping", {}, timeout=5)
    finally:
        client.close()
    assert finished.wait(10), "connect() still blocked after close()"
    assert outcome and isinstance(outcome[0], RelayError)


# ------------------------------------------------------------------ dial


@pytest.mark.timeout(30)
def test_dial_whose_request_timed_out_hangs_up_a_late_answer(
    client: RelayClient, sim: RelaySimulator
) -> None:
    # the dial starts after the RPC gave up (2.5 s later: room for a loaded machine)
    sim.delay_method("calling.dial", 3.0, times=1)
    with pytest.raises(RelayTimeoutError):
        client.dial(phone("+15557771111"), timeout=0.5)
    late = sim.wait_for_call(lambda c: c.direction == "outbound", timeout=10)
    late.wait_for_state("answered", timeout=10)
    # The client gave up on this dial; the call answered afterwards must not stay up.
    late.wait_for_state("ended", timeout=10)


@pytest.mark.timeout(30)
def test_connect_peer_that_hangs_up_at_once_is_not_a_zombie(
    client: RelayClient, sim: RelaySimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    call = answered_call(client, sim)
    registry = client._registry
    original = registry.adopt_peer

    def adopt_late(peer: Dict[str, Any]) -> Optional[Call]:
        # Force the schedule "peer hangs up before the connect() caller wakes up": the
        # reader handles the peer's ended event before the caller looks the peer up.
        if threading.current_thread().name != "relaysync-io":
            sim_peer = sim.get_call(peer["call_id"])
            assert sim_peer is not None
            sim_peer.hangup()
            # The answer is read after the ended event, so the reader has applied it.
            client.execute("signalwire.ping", {}, timeout=5)
        return original(peer)

    monkeypatch.setattr(registry, "adopt_peer", adopt_late)
    result = call.connect(phone("+15559992222"), timeout=10)
    assert result.successful
    peer = result.peer
    if peer is not None:
        sim_peer = sim.get_call(peer.call_id)
        assert sim_peer is not None
        if sim_peer.state != "ended":
            sim_peer.hangup()
        peer.wait_for_ended(3)
        assert peer not in client.calls


# ------------------------------------------------------------------ worker pool


@pytest.mark.timeout(20)
def test_pool_runs_two_tasks_at_once_when_one_worker_is_idle() -> None:
    pool = WorkerPool(4)
    try:
        warm = threading.Event()
        pool.submit(warm.set)
        assert warm.wait(5)
        with pool._cond:  # one worker exists; wait until it is idle again
            assert pool._cond.wait_for(lambda: pool._idle == 1 and pool.busy == 0, 5)
        second_started = threading.Event()
        first_saw_second = threading.Event()

        def first() -> None:
            if second_started.wait(3):
                first_saw_second.set()

        # Two submits in a row before the idle worker wakes up (the lock makes that
        # schedule certain; without it, it is merely likely, e.g. two inbound calls
        # read back to back by the reader thread).
        with pool._cond:
            pool.submit(first)
            pool.submit(second_started.set)
        assert first_saw_second.wait(5), "the second task only ran after the first finished"
    finally:
        pool.shutdown(5)


# ------------------------------------------------------------------ run / reconnect


@pytest.mark.timeout(40)
def test_run_during_a_long_outage_keeps_reconnecting(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    states = Recorder()
    client.on_connection_change(states)
    errors: List[BaseException] = []
    done = threading.Event()
    try:
        # A non-auth rejection: the client must keep retrying without end.
        sim.fail_method("signalwire.connect", -32603, "Internal error", times=None)
        sim.drop_connections()
        states.wait_for(lambda s: "reconnecting" in s)

        def run() -> None:
            try:
                client.run()
            except BaseException as exc:
                errors.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, daemon=True).start()
        closed_early = done.wait(12)  # run() waits 10 s in connect() before giving up
        sim.clear_faults()
        assert not closed_early, f"run() returned during the outage: {errors!r}"
        states.wait_for(lambda s: s[-1] == "connected", timeout=10)
    finally:
        client.close()


# ------------------------------------------------------------------ close while opening


@pytest.mark.timeout(30)
def test_close_while_the_socket_is_opening_leaves_no_thread() -> None:
    # A listener that accepts TCP connections and never answers the HTTP upgrade (a
    # stalled load balancer); no RELAY server could behave like this at the WS level.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: List[socket.socket] = []
    got_connection = threading.Event()

    def accept() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        accepted.append(conn)
        conn.settimeout(5)
        with contextlib.suppress(OSError):
            conn.recv(1)  # the upgrade request started: the client's socket is set up
        got_connection.set()

    threading.Thread(target=accept, daemon=True).start()
    port = listener.getsockname()[1]
    client = RelayClient("p", "t", url=f"ws://127.0.0.1:{port}")
    failures: List[BaseException] = []

    def connect() -> None:
        try:
            client.connect(timeout=12)
        except BaseException as exc:
            failures.append(exc)

    connector = threading.Thread(target=connect, daemon=True)
    connector.start()
    try:
        assert got_connection.wait(5)
        client.close(timeout=1.0)
        assert relaysync_threads() == [], "I/O thread still alive after close()"
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
        connector.join(15)


@pytest.mark.timeout(30)
def test_close_releases_a_concurrent_connect(sim: RelaySimulator) -> None:
    sim.fail_method("signalwire.connect", -32603, "Internal error", times=None)
    client = make_client(sim)
    failures: List[BaseException] = []
    finished = threading.Event()

    def connect() -> None:
        try:
            client.connect(timeout=20)
        except BaseException as exc:
            failures.append(exc)
        finally:
            finished.set()

    threading.Thread(target=connect, daemon=True).start()
    sim.journal.wait_for_request("signalwire.connect")
    client.close()
    assert relaysync_threads() == []
    assert finished.wait(10), "connect() kept waiting after close() ended the connection"
    assert failures and isinstance(failures[0], RelayError)


@pytest.mark.timeout(30)
def test_close_during_tcp_connect_leaves_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # A listener with a full backlog: the kernel drops further SYNs, so the client's
    # TCP connect hangs (like a black-holed address) until its own timeout.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port), timeout=2)
    opening = threading.Event()
    original = relaysync.wire.sockets.open_socket

    def open_socket(*args: Any, **kwargs: Any) -> Any:
        opening.set()
        return original(*args, **kwargs)

    monkeypatch.setattr("relaysync.wire.opener.open_socket", open_socket)
    client = RelayClient("p", "t", url=f"ws://127.0.0.1:{port}")
    connector = threading.Thread(
        target=lambda: _swallow(lambda: client.connect(timeout=12)), daemon=True
    )
    connector.start()
    try:
        assert opening.wait(5)
        client.close(timeout=1.0)
        assert relaysync_threads() == [], "I/O thread still alive after close()"
    finally:
        filler.close()
        listener.close()
        connector.join(15)


def _swallow(fn: Any) -> None:
    # The outcome of connect() is not what the test checks.
    with contextlib.suppress(BaseException):
        fn()


@pytest.mark.timeout(30)
def test_close_that_wins_the_race_against_connect_leaves_no_thread(sim: RelaySimulator) -> None:
    client = make_client(sim)
    connection = client._connection
    original = connection.start

    def start_after_close(timeout: float) -> None:
        # connect() has passed its own closed check; close() now runs to the end
        # before the connection starts: it must not start a thread afterwards.
        closer = threading.Thread(target=client.close)
        closer.start()
        closer.join(10)
        original(timeout)

    connection.start = start_after_close  # type: ignore[method-assign]
    with pytest.raises(RelayConnectionError, match="closed"):
        client.connect(timeout=5)
    assert relaysync_threads() == []
    assert sim.connection_count == 0
