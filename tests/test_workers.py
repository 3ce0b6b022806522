"""The worker pool's held wake-ups (:meth:`WorkerPool.deferred`) and per-call order."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, List

import pytest

from relaysync.workers import QueueFullError, SerialQueue, WorkerPool


def run_child(code: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a new interpreter from the repository root; its output as text."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.timeout(30)
def test_deferred_tasks_start_no_worker_until_the_block_ends() -> None:
    pool = WorkerPool(4)
    try:
        ran: List[int] = []
        done = threading.Event()
        with pool.deferred():
            pool.submit(lambda: ran.append(1))
            pool.submit(lambda: ran.append(2))
            pool.submit(done.set)
            # queued at once, but no thread was started for them yet
            assert len(pool._queue) == 3
            assert len(pool._threads) == 0
        assert done.wait(5)
        assert sorted(ran) == [1, 2]
        assert 1 <= len(pool._threads) <= 3
    finally:
        pool.shutdown(5)


@pytest.mark.timeout(30)
def test_deferred_wakes_two_workers_for_two_tasks_that_need_each_other() -> None:
    pool = WorkerPool(4)
    try:
        second_started = threading.Event()
        first_saw_second = threading.Event()

        def first() -> None:
            if second_started.wait(3):
                first_saw_second.set()

        with pool.deferred():
            pool.submit(first)
            pool.submit(second_started.set)
        assert first_saw_second.wait(5), "the second task only ran after the first finished"
    finally:
        pool.shutdown(5)


@pytest.mark.timeout(30)
def test_deferred_refuses_a_task_when_the_queue_is_full() -> None:
    pool = WorkerPool(1, max_queue=1)
    try:
        release = threading.Event()
        with pool.deferred():
            pool.submit(lambda: release.wait(5))
            with pytest.raises(QueueFullError):
                pool.submit(lambda: None)
        release.set()
    finally:
        pool.shutdown(5)


@pytest.mark.timeout(30)
def test_a_burst_for_one_key_runs_in_order_on_one_wake_up() -> None:
    pool = WorkerPool(8)
    try:
        queue = SerialQueue(pool, "call-1")
        seen: List[int] = []
        threads: List[str] = []
        done = threading.Event()

        def task(index: int) -> None:
            seen.append(index)
            threads.append(threading.current_thread().name)
            if index == 499:
                done.set()

        with pool.deferred():
            for index in range(500):
                queue.submit(lambda index=index: task(index))  # type: ignore[misc]
        assert done.wait(10)
        assert seen == list(range(500))
        assert len(set(threads)) == 1  # the whole burst drained by one worker
    finally:
        pool.shutdown(5)


@pytest.mark.timeout(30)
def test_submits_from_another_thread_are_not_held() -> None:
    pool = WorkerPool(2)
    try:
        done = threading.Event()
        with pool.deferred():
            other = threading.Thread(target=lambda: pool.submit(done.set))
            other.start()
            other.join(5)
            assert done.wait(5)  # woken at once, though this thread is still deferring
    finally:
        pool.shutdown(5)


# ------------------------------------------------------------------ growth and retirement


@pytest.mark.timeout(60)
def test_idle_workers_retire_and_the_pool_grows_again() -> None:
    pool = WorkerPool(8, idle_timeout=0.2)
    try:
        started = threading.Barrier(6)
        release = threading.Event()
        workers: List[threading.Thread] = []
        lock = threading.Lock()

        def task() -> None:
            with lock:
                workers.append(threading.current_thread())
            started.wait(20)
            release.wait(20)

        for _ in range(5):
            pool.submit(task)
        started.wait(20)  # five tasks blocked at once: five workers
        assert pool.size == 5 and pool.busy == 5
        release.set()
        for thread in workers:
            thread.join(20)  # each ends by itself once idle for 0.2 s
        assert not any(thread.is_alive() for thread in workers)
        assert pool.size == 0 and pool.busy == 0
        done = threading.Event()
        hold = threading.Event()

        def held() -> None:
            done.set()
            hold.wait(20)  # busy until counted: an idle worker may retire at any time

        pool.submit(held)  # a new task starts a new worker
        assert done.wait(20)
        assert pool.size == 1
        hold.set()
    finally:
        assert pool.shutdown(10)
    assert not [t for t in threading.enumerate() if t.name.startswith("relaysync-worker")]


@pytest.mark.timeout(60)
def test_shutdown_joins_a_worker_that_is_retiring() -> None:
    pool = WorkerPool(2, idle_timeout=0.05)
    ran = threading.Event()
    pool.submit(ran.set)
    assert ran.wait(20)
    deadline = time.monotonic() + 20
    with pool._cond:  # nothing notifies a retirement: look again every 10 ms
        while pool._threads and time.monotonic() < deadline:
            pool._cond.wait(0.01)
        assert not pool._threads and pool._retired  # retired, maybe still exiting
    assert pool.shutdown(10)
    assert not [t for t in threading.enumerate() if t.name.startswith("relaysync-worker")]


@pytest.mark.timeout(30)
def test_idle_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        WorkerPool(1, idle_timeout=0)


@pytest.mark.timeout(60)
def test_workers_start_with_their_stack_size_and_leave_the_process_setting_alone() -> None:
    previous = threading.stack_size(512 * 1024)  # the application's own choice
    try:
        pool = WorkerPool(4)
        try:
            done = threading.Event()
            pool.submit(done.set)
            assert done.wait(20)
            assert threading.stack_size() == 512 * 1024
        finally:
            pool.shutdown(10)
    finally:
        threading.stack_size(previous)


@pytest.mark.timeout(120)
def test_a_handler_recursing_to_the_limit_gets_recursion_error_not_a_crash() -> None:
    # sorted(key=...) is the deepest ordinary C recursion measured (1.5-2 MiB at the
    # default limit); a worker's stack must hold it. In a child: a crash must not kill
    # the test run.
    code = textwrap.dedent(
        """
        import threading
        from relaysync.workers import WorkerPool

        def deep(n):
            return sorted([n], key=lambda v: deep(v - 1) if v > 0 else 0)[0]

        outcome = []
        done = threading.Event()

        def task():
            try:
                deep(100_000)
            except RecursionError:
                outcome.append("RecursionError")
            done.set()

        pool = WorkerPool(1)
        pool.submit(task)
        done.wait(60)
        pool.shutdown(10)
        print(outcome)
        """
    )
    child = run_child(code, timeout=100)
    assert child.returncode == 0, child.stderr
    assert "['RecursionError']" in child.stdout


@pytest.mark.timeout(60)
def test_a_thread_the_system_refuses_leaves_the_task_queued_for_a_running_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import relaysync.workers as workers
    from relaysync._threads import start_thread as real_start

    starts: List[int] = []

    def limited(*args: Any, **kwargs: Any) -> threading.Thread:
        starts.append(1)
        if len(starts) > 1:
            raise RuntimeError("can't start new thread")
        return real_start(*args, **kwargs)

    monkeypatch.setattr(workers, "start_thread", limited)
    pool = WorkerPool(8)
    try:
        release = threading.Event()
        ran: List[str] = []
        done = threading.Event()
        pool.submit(lambda: release.wait(20))

        def second() -> None:
            ran.append("second")
            done.set()

        pool.submit(second)  # no thread can start for it: it waits in the queue
        assert pool.size == 1 and len(starts) == 2
        assert not done.is_set()
        release.set()  # the one worker finishes, then takes the queued task
        assert done.wait(20)
        assert ran == ["second"]
    finally:
        assert pool.shutdown(10)


@pytest.mark.timeout(60)
def test_ctrl_c_while_a_worker_starts_leaves_it_on_record() -> None:
    # SIGINT raised inside Thread.start() of a worker that the main thread starts: the
    # KeyboardInterrupt comes once the pool has the worker, which shutdown() then joins.
    code = textwrap.dedent(
        """
        import signal, threading
        from relaysync.workers import WorkerPool

        # a suite run as a background job ignores SIGINT, and so would this child
        signal.signal(signal.SIGINT, signal.default_int_handler)
        real_start = threading.Thread.start

        def start(thread):
            real_start(thread)
            if thread.name.startswith("relaysync-worker"):
                signal.raise_signal(signal.SIGINT)

        threading.Thread.start = start
        pool = WorkerPool(2)
        ran = threading.Event()
        try:
            pool.submit(ran.set)
        except KeyboardInterrupt:
            print("interrupted", ran.wait(20), pool.size, flush=True)
        print("joined", pool.shutdown(10), threading.active_count())
        """
    )
    child = run_child(code, timeout=50)
    assert child.stdout.split("\n")[:2] == ["interrupted True 1", "joined True 1"], (
        child.stdout,
        child.stderr,
    )
