"""run() in a real process (signals) and blocking use from inside a running asyncio loop."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator

from .helpers import make_client, relaysync_threads

pytestmark = pytest.mark.timeout(90)

# run() installs its handlers after connecting; nothing signals that moment, so the
# child watches the handler table and says when it has changed.
SCRIPT = textwrap.dedent("""
    import signal, sys, threading, time
    from relaysync import RelayClient
    client = RelayClient("test-project", "test-token", url=sys.argv[1])

    def announce():
        while signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            time.sleep(0.005)  # sleep-ok: no event marks a handler being installed
        print("ready", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    client.run()
    print("run returned", flush=True)
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_run_exits_cleanly_on_signal(sim: RelaySimulator, signum: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, sim.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.strip() == "ready":
            break
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=45)
    assert proc.returncode == 0, err
    assert "run returned" in out and "Traceback" not in err


# The kernel may hand a process's signal to any of its threads; Python runs the handler
# on the main thread only, which sleeps in run(). The child waits until run() sleeps,
# shows that a signal of another handler leaves run() alone, then sends SIGTERM to a
# thread of its own that is not the main one.
OTHER_THREAD_SCRIPT = textwrap.dedent("""
    import os, signal, sys, threading, time
    from relaysync import RelayClient
    client = RelayClient("test-project", "test-token", url=sys.argv[1])
    main_tid = threading.get_native_id()
    usr1 = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: usr1.set())

    def main_sleeps():
        with open(f"/proc/self/task/{main_tid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "S"

    def poke():
        while signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or not main_sleeps():
            time.sleep(0.005)  # sleep-ok: no event marks run() going to sleep
        os.kill(os.getpid(), signal.SIGUSR1)
        usr1.wait(30)
        print("usr1 handled; connected:", client.connected, flush=True)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    threading.Thread(target=poke, daemon=True).start()
    client.run()
    print("run returned", flush=True)
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_run_stops_on_a_signal_another_thread_receives(sim: RelaySimulator) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", OTHER_THREAD_SCRIPT, sim.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=45)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.splitlines() == ["usr1 handled; connected: True", "run returned"], (out, err)


def test_blocking_calls_inside_a_running_event_loop(sim: RelaySimulator) -> None:
    async def notebook_cell() -> str:
        client = make_client(sim)
        with client:
            result = client.execute("signalwire.receive", {"contexts": ["sales"]})
        return str(result["code"])

    assert asyncio.run(notebook_cell()) == "200"
    assert relaysync_threads() == []


def test_client_usable_from_many_threads(client: RelayClient) -> None:
    import threading

    results: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(20):
            code = client.execute("signalwire.receive", {"contexts": ["x"]})["code"]
            with lock:
                results.append(code)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["200"] * 160
