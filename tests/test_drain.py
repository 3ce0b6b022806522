"""Graceful drain: client.drain() and run() on SIGTERM / Ctrl-C, in-process and in a
real child process."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest

from relaysync import Call, RelayClient
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client, relaysync_threads
from .process_support import python_child

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def slow_sim() -> Iterator[RelaySimulator]:
    """Media at 1/10 of real time: a 300 s input timeout is 30 s."""
    with RelaySimulator(time_scale=0.1) as server:
        yield server


def _unreceives(sim: RelaySimulator) -> List[List[str]]:
    return [r["params"]["contexts"] for r in sim.journal.requests("signalwire.unreceive")]


def test_drain_without_handlers_unsubscribes_and_returns_zero(sim: RelaySimulator) -> None:
    client = make_client(sim, contexts=["office", "sales"])
    with client:
        assert client.drain(timeout=5) == 0
        assert client.draining
        assert _unreceives(sim) == [["office", "sales"]]
        handle = sim.inbound_call("office")
        handle.wait_for_state("ended", timeout=20)
        assert handle.offered_to == []
        # receive() takes calls again
        client.receive(["office"])
        assert not client.draining


def test_drain_waits_for_running_handlers_and_counts_the_stragglers(
    sim: RelaySimulator,
) -> None:
    client = make_client(sim)
    release = threading.Event()
    started = Recorder()

    @client.on_call
    def handle(call: Call) -> None:
        call.answer()
        started(call)
        release.wait(30)
        call.hangup()

    with client:
        sim.inbound_call("office")
        sim.inbound_call("office")
        started.wait_for(lambda items: len(items) == 2)
        began = time.monotonic()
        assert client.drain(timeout=0.3) == 2
        assert time.monotonic() - began < 10
        threading.Timer(0.2, release.set).start()
        assert client.drain(timeout=30) == 0
    assert relaysync_threads() == []


def test_an_offer_arriving_while_draining_is_passed(sim: RelaySimulator) -> None:
    client = make_client(sim)
    handled = Recorder()
    client.on_call(handled)
    sim.delay_method("signalwire.unreceive", 2.0)
    with client:
        drained: List[int] = []
        drainer = threading.Thread(target=lambda: drained.append(client.drain(timeout=10)))
        drainer.start()
        sim.journal.wait_for_request("signalwire.unreceive", timeout=20)
        handle = sim.inbound_call("office")  # the subscription is still there
        passed = sim.journal.wait_for_request(
            "calling.pass",
            timeout=20,
            predicate=lambda frame: frame["params"].get("call_id") == handle.call_id,
        )
        assert passed
        drainer.join(30)
        assert drained == [0]
    assert list(handled) == []


def test_drain_timeout_is_checked(client: RelayClient) -> None:
    with pytest.raises(ValueError, match="timeout"):
        client.drain(timeout=-1)
    with pytest.raises(ValueError, match="drain_timeout"):
        client.run(drain_timeout=float("nan"))


# A child running run() whose handler is in the middle of a call: it waits for a digit,
# then says what was pressed and hangs up. It prints "ready" once run() has installed
# its signal handlers.
DRAIN_SCRIPT = textwrap.dedent("""
    import signal, sys, threading, time
    from relaysync import RelayClient
    url, project, token = sys.argv[1:4]
    client = RelayClient(project, token, url=url, contexts=["office"])

    @client.on_call
    def handle(call):
        call.answer()
        print("answered", call.call_id, flush=True)
        result = call.collect(digits={"max": 1, "digit_timeout": 300}, initial_timeout=300).wait()
        call.play_tts(f"you pressed {result.digits}").wait()
        call.hangup()
        print("handler done", flush=True)

    def announce():
        while signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            time.sleep(0.005)  # sleep-ok: no event marks a handler being installed
        print("ready", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    client.run(drain_timeout=60)
    print("run returned", flush=True)
""")


@contextlib.contextmanager
def _child(sim: RelaySimulator) -> Iterator[subprocess.Popen[str]]:
    """The child running DRAIN_SCRIPT, once it is ready; killed on the way out if alive."""
    proc = python_child(DRAIN_SCRIPT, sim.url, sim.project, sim.token)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "ready", (line, proc.stderr.read() if proc.stderr else "")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _mid_call(sim: RelaySimulator, proc: subprocess.Popen[str]) -> str:
    """Offer a call and return its id once the child's handler waits for a digit."""
    assert proc.stdout is not None
    handle = sim.inbound_call("office")
    assert proc.stdout.readline().split() == ["answered", handle.call_id]
    sim.journal.wait_for_request(
        "calling.collect",
        timeout=30,
        predicate=lambda frame: frame["params"].get("call_id") == handle.call_id,
    )
    return handle.call_id


def test_sigterm_drains_a_live_call_then_exits(slow_sim: RelaySimulator) -> None:
    sim = slow_sim
    with _child(sim) as proc:
        call_id = _mid_call(sim, proc)
        proc.send_signal(signal.SIGTERM)
        sim.journal.wait_for_request("signalwire.unreceive", timeout=30)
        # a new call is no longer offered to the draining client
        late = sim.inbound_call("office")
        late.wait_for_state("ended", timeout=30)
        assert late.offered_to == []
        # the call in progress goes on to its end
        handle = sim.get_call(call_id)
        assert handle is not None and handle.state == "answered"
        handle.press("5")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.splitlines()[-2:] == ["handler done", "run returned"], (out, err)
    plays = [
        r["params"]["play"][0]["params"].get("text")
        for r in sim.journal.requests("calling.play")
        if r["params"].get("call_id") == call_id
    ]
    assert plays == ["you pressed 5"]
    ends = [r for r in sim.journal.requests("calling.end") if r["params"]["call_id"] == call_id]
    assert len(ends) == 1
    assert "Traceback" not in err, err


def test_a_second_ctrl_c_closes_at_once(slow_sim: RelaySimulator) -> None:
    sim = slow_sim
    with _child(sim) as proc:
        call_id = _mid_call(sim, proc)
        proc.send_signal(signal.SIGINT)
        sim.journal.wait_for_request("signalwire.unreceive", timeout=30)
        assert proc.stderr is not None
        note = proc.stderr.readline()  # no logging configured: the drain says so here
        assert "draining: waiting up to 60 s for 1 handler(s); Ctrl-C again" in note, note
        began = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - began
    assert proc.returncode == 0, err
    assert took < 20  # the handler waits 30 s for a digit; the drain up to 60 s
    assert "run returned" in out and "handler done" not in out, (out, err)
    assert "Traceback" not in err, err
    assert not [
        r for r in sim.journal.requests("calling.play") if r["params"]["call_id"] == call_id
    ]
