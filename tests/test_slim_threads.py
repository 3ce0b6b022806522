"""The lighter Condition of a call and the lighter threads relaysync starts."""

from __future__ import annotations

import sys
import threading
from typing import Any, List

import pytest

from relaysync._threads import LIBRARY_STACK_SIZE, start_thread
from relaysync.waiting import SlimCondition


@pytest.mark.timeout(30)
def test_a_slim_condition_wakes_one_waiter_per_notify_and_all_on_notify_all() -> None:
    cond = SlimCondition(threading.Lock())
    assert isinstance(cond, threading.Condition)
    assert type(cond._waiters) is list  # type: ignore[attr-defined]
    tickets = [0]
    woken: List[int] = []
    first_woken = threading.Event()

    def waiter(index: int) -> None:
        with cond:
            if cond.wait_for(lambda: tickets[0] > 0, 20):
                tickets[0] -= 1
                woken.append(index)
        first_woken.set()

    threads = [threading.Thread(target=waiter, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(2000):  # until all four wait (no event says so): 20 s at most
        with cond:
            if len(cond._waiters) == 4:  # type: ignore[attr-defined]
                tickets[0] = 1
                cond.notify()
                break
        threading.Event().wait(0.01)
    else:
        pytest.fail("the four waiters never all waited")
    assert first_woken.wait(20)
    with cond:
        assert len(woken) == 1 and len(cond._waiters) == 3  # type: ignore[attr-defined]
        tickets[0] = 3
        cond.notify_all()
    for thread in threads:
        thread.join(20)
    assert sorted(woken) == [0, 1, 2, 3]
    assert cond._waiters == []  # type: ignore[attr-defined]


@pytest.mark.timeout(30)
def test_a_slim_condition_wait_that_times_out_leaves_no_waiter_behind() -> None:
    cond = SlimCondition()
    with cond:
        assert cond.wait(0.01) is False
        assert not cond.wait_for(lambda: False, 0.01)
    assert cond._waiters == []  # type: ignore[attr-defined]


@pytest.mark.timeout(30)
def test_started_threads_stay_ordinary_threads() -> None:
    release = threading.Event()
    seen: List[Any] = []

    def body(tag: str) -> None:
        seen.append((tag, threading.current_thread().name))
        release.wait(20)

    first = start_thread(body, "relaysync-test-1", LIBRARY_STACK_SIZE, ("a",))
    second = start_thread(body, "relaysync-test-2", LIBRARY_STACK_SIZE, ("b",))
    try:
        assert first in threading.enumerate() and second in threading.enumerate()
        assert first.is_alive() and first.daemon
        started = first._started._cond  # type: ignore[attr-defined]
        assert type(started._waiters) is list
    finally:
        release.set()
        first.join(20)
        second.join(20)
    assert not first.is_alive() and not second.is_alive()
    assert sorted(seen) == [("a", "relaysync-test-1"), ("b", "relaysync-test-2")]


@pytest.mark.timeout(30)
def test_an_exception_in_a_started_thread_still_reaches_threading_excepthook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hooked: List[Any] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args))

    def fail(message: str) -> None:
        raise ValueError(message)

    for index in range(2):  # the first thread's hook wrapper, then the shared one
        thread = start_thread(fail, f"relaysync-test-fail-{index}", LIBRARY_STACK_SIZE, ("x",))
        thread.join(20)
    assert [type(args.exc_value) for args in hooked] == [ValueError, ValueError]
    assert [args.thread.name for args in hooked] == [
        "relaysync-test-fail-0",
        "relaysync-test-fail-1",
    ]
    assert sys.exc_info() == (None, None, None)
