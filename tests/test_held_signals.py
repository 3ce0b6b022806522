"""HeldSignals: SIGINT/SIGTERM held while a thread starts, every one handled afterwards,
outside the lock, and the previous handlers always put back."""

from __future__ import annotations

import sys
import textwrap

import pytest

from .test_workers import run_child

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX"),
]


def _child(body: str) -> list[str]:
    code = "import signal, threading\n" + textwrap.dedent(body)
    child = run_child(code, timeout=50)
    assert child.returncode == 0, (child.stdout, child.stderr)
    return child.stdout.split()


def test_both_signals_held_both_handled_ctrl_c_raised_last() -> None:
    lines = _child(
        """
        from relaysync.signals import HeldSignals

        signal.signal(signal.SIGINT, signal.default_int_handler)
        seen = []
        signal.signal(signal.SIGTERM, lambda signum, frame: seen.append("term"))
        held = HeldSignals()
        try:
            with held:
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGTERM)
                print("held", seen == [])
            held.deliver()
        except KeyboardInterrupt:
            print("interrupted", seen == ["term"])
        print("restored", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        """
    )
    assert lines == ["held", "True", "interrupted", "True", "restored", "True"]


def test_a_signal_during_the_restore_is_handled_and_every_handler_put_back() -> None:
    # a SIGINT pending when the handlers are put back: signal.signal() runs it first
    lines = _child(
        """
        from relaysync.signals import HeldSignals

        signal.signal(signal.SIGINT, signal.default_int_handler)
        term = lambda signum, frame: None
        signal.signal(signal.SIGTERM, term)
        held = HeldSignals()
        real_signal = signal.signal
        first = [True]

        def signal_with_one_pending(signum, handler):
            if first[0]:
                first[0] = False
                signal.raise_signal(signal.SIGINT)  # arrives as the restore begins
            return real_signal(signum, handler)

        with held:
            signal.signal = signal_with_one_pending
        signal.signal = real_signal
        try:
            held.deliver()
        except KeyboardInterrupt:
            print("interrupted")
        print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)
        print(signal.getsignal(signal.SIGTERM) is term)
        """
    )
    assert lines == ["interrupted", "True", "True"]


def test_ctrl_c_during_a_worker_start_is_handled_outside_the_pool_lock() -> None:
    lines = _child(
        """
        from relaysync.workers import WorkerPool

        pool = WorkerPool(2)
        owned = []
        signal.signal(signal.SIGINT, lambda signum, frame: owned.append(pool._cond._is_owned()))
        real_start = threading.Thread.start

        def start(thread):
            real_start(thread)
            if thread.name.startswith("relaysync-worker"):
                signal.raise_signal(signal.SIGINT)

        threading.Thread.start = start
        ran = threading.Event()
        pool.submit(ran.set)
        print(owned, ran.wait(20), pool.shutdown(10))
        """
    )
    assert lines == ["[False]", "True", "True"]
