"""A client crossing os.fork(): the child gets a clear error, never the parent's socket."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import time
import warnings
from typing import Any, Callable, Dict, Iterator

import pytest

from relaysync import Call, ForkedClientError, RelayClient
from relaysync.testing import RelaySimulator

from .helpers import answered_call, relaysync_threads

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")


def in_child(body: Callable[[], Dict[str, Any]], *, hold: Any = None) -> Dict[str, Any]:
    """Fork; run ``body`` in the child and return what it reported.

    ``hold`` is a lock held across the fork, so the child starts with it taken, as
    when another thread was inside it at that moment. The child reports a dict as JSON
    through a pipe; an alarm ends a child that deadlocks.
    """
    read_fd, write_fd = os.pipe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # "fork() with threads" (3.12+)
        with hold if hold is not None else contextlib.nullcontext():
            pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        status = 1
        try:
            os.close(read_fd)
            signal.alarm(20)
            os.write(write_fd, json.dumps(body()).encode())
            status = 0
        except BaseException as exc:  # report anything, then leave
            with contextlib.suppress(Exception):
                os.write(write_fd, json.dumps({"crash": repr(exc)}).encode())
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        chunks = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], deadline - time.monotonic())
            if not ready:
                break
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
    _, status = waitpid(pid)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, chunks)
    report: Dict[str, Any] = json.loads(b"".join(chunks))
    return report


def waitpid(pid: int, timeout: float = 30.0) -> Any:
    """``os.waitpid`` with a deadline; kills a child that outlives it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return done, status
        time.sleep(0.05)  # sleep-ok: no portable way to wait on a child with a deadline
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)


def expect_forked_error(action: Callable[[], Any]) -> str:
    """Run ``action`` in the child; return the ForkedClientError text, or fail."""
    try:
        action()
    except ForkedClientError as exc:
        return str(exc)
    raise AssertionError(f"{action} did not raise ForkedClientError")


@pytest.fixture
def connected(sim: RelaySimulator) -> Iterator[RelayClient]:
    client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
    client.connect()
    yield client
    client.close()


@pytest.mark.timeout(60)
def test_child_gets_a_clear_error_and_the_parent_keeps_its_connection(
    sim: RelaySimulator, connected: RelayClient
) -> None:
    session = sim.wait_for_sessions(1)[0]

    def child() -> Dict[str, Any]:
        message = expect_forked_error(lambda: connected.execute("signalwire.ping", {}))
        expect_forked_error(connected.connect)
        expect_forked_error(
            lambda: connected.dial({"type": "phone", "to": "+15550000001", "from": "+15550000002"})
        )
        expect_forked_error(lambda: connected.state)
        expect_forked_error(
            lambda: connected.send_message("+15550001111", "+15550002222", body="hi")
        )
        report = {"message": message, "connected": connected.connected, "repr": repr(connected)}
        connected.close()  # must not disturb the parent's socket
        connected.__exit__(None, None, None)  # closing again: still harmless
        return report

    report = in_child(child)
    assert report["connected"] is False
    assert "state='forked'" in report["repr"]
    message = report["message"]
    assert f"created in process {os.getpid()}" in message
    assert "create it after the fork" in message and "post_fork" in message
    # The parent's session is the same one, still online, on the same socket.
    assert connected.execute("signalwire.ping", {}) is not None
    assert connected.connected
    assert sim.authentication_count == 1 and sim.connection_count == 1
    assert [s.id for s in sim.sessions if s.online] == [session.id]


@pytest.mark.timeout(60)
def test_no_deadlock_on_locks_copied_while_held(
    sim: RelaySimulator, connected: RelayClient
) -> None:
    call = answered_call(connected, sim)
    link_lock = connected._connection._link._lock

    def child_with_link_lock() -> Dict[str, Any]:
        started = time.monotonic()
        expect_forked_error(lambda: connected.execute("signalwire.ping", {}))
        connected.close()
        return {"seconds": time.monotonic() - started}

    assert in_child(child_with_link_lock, hold=link_lock)["seconds"] < 5

    def child_with_call_lock() -> Dict[str, Any]:
        errors = [
            expect_forked_error(lambda: call.wait_for_ended(timeout=1)),
            expect_forked_error(lambda: call.state),
            expect_forked_error(call.hangup),
            expect_forked_error(lambda: call.play_tts("hello")),
            expect_forked_error(lambda: next(iter(call.events(timeout=1)))),
        ]
        return {"errors": errors, "repr": repr(call)}

    report = in_child(child_with_call_lock, hold=call._cond)
    assert len(report["errors"]) == 5 and "state='forked'" in report["repr"]
    assert "cannot wait for ended" in report["errors"][0]
    # The parent still drives the call over its own connection.
    call.play_tts("still here").wait(timeout=10)
    call.hangup()
    call.wait_for_ended(timeout=10)


@pytest.mark.timeout(60)
def test_client_created_after_the_fork_works_in_the_child(sim: RelaySimulator) -> None:
    def child() -> Dict[str, Any]:
        with RelayClient(sim.project, sim.token, url=sim.url) as own:
            own.execute("signalwire.ping", {})
            return {"connected": own.connected, "threads": relaysync_threads()}

    report = in_child(child)
    assert report["connected"] is True
    assert "relaysync-io" in report["threads"]
    assert sim.authentication_count == 1
    assert relaysync_threads() == []


def test_the_error_is_also_a_runtime_error() -> None:
    assert issubclass(ForkedClientError, RuntimeError)


def test_a_call_of_a_forked_client_reports_forked_in_its_repr(sim: RelaySimulator) -> None:
    with RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"]) as client:
        call = answered_call(client, sim)
        assert isinstance(call, Call) and "forked" not in repr(call)
        report = in_child(lambda: {"repr": repr(call), "client": repr(client)})
        assert "forked" in report["repr"] and "forked" in report["client"]
