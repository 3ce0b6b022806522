"""The worker pool's held wake-ups (:meth:`WorkerPool.deferred`) and per-call order."""

from __future__ import annotations

import threading
from typing import List

import pytest

from relaysync.workers import QueueFullError, SerialQueue, WorkerPool


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
            assert pool._threads == []
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
