"""The one blocking primitive, the one deadline helper, and a Condition for many objects.

:class:`OneShot` is a value or an exception, set once, with a wait bounded by a
deadline: requests (:class:`relaysync.rpc.PendingRequest`), actions, dials and messages
all wait on one.
:class:`Deadline` turns a ``timeout`` into "how long is left", so an operation made of
several steps (start request, then the outcome) is bounded as a whole.
:class:`SlimCondition` is a ``threading.Condition`` for objects made by the thousand
(one per call, one per worker thread).
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, ContextManager, Generic, Optional, TypeVar

from .errors import timeout_error

T = TypeVar("T")


class Deadline:
    """A point in time ``timeout`` seconds from now (``None``: no deadline).

    Attributes:
        timeout: the original timeout in seconds, or ``None``.
    """

    __slots__ = ("_at", "timeout")

    def __init__(self, timeout: Optional[float]) -> None:
        self.timeout = timeout
        self._at = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> Optional[float]:
        """Seconds left (never negative), or ``None`` without a deadline."""
        if self._at is None:
            return None
        return max(0.0, self._at - time.monotonic())

    def cap(self, limit: float) -> float:
        """The smaller of ``limit`` and the time left: a bound for one step."""
        left = self.remaining()
        return limit if left is None else min(limit, left)


class SlimCondition(threading.Condition):
    """A ``threading.Condition`` whose waiters are kept in a list instead of a deque.

    A deque costs about 760 bytes even when empty; the list, 56. A Condition made per
    call or per thread rarely has more than a few waiters, so a list's removal of a
    woken waiter costs nothing measurable. Behaves as ``threading.Condition`` in every
    other way (and is one). Where the running Python keeps its waiters otherwise, the
    Condition is left as it is.

    Args:
        lock: the lock to use, as for ``threading.Condition`` (a new ``RLock`` if
            ``None``).
    """

    def __init__(self, lock: Optional[Any] = None) -> None:
        super().__init__(lock)
        slim_waiters(self)


def slim_waiters(cond: Any) -> None:
    """Keep ``cond``'s waiters in a list (see :class:`SlimCondition`), if it has a deque.

    Only for a Condition nobody waits on yet (just made).
    """
    if type(getattr(cond, "_waiters", None)) is collections.deque:
        cond._waiters = []


class OneShot(Generic[T]):
    """A result that is set once: a value or an exception, and a wait with a deadline.

    Args:
        guard: the lock the result settles under; pass an owner's lock (or Condition)
            so the result settles together with the owner's state (an action settles
            under its call's lock). A private lock is created when omitted.

    The ``*_locked`` methods are for callers that already hold ``guard``; the others
    take it themselves. The first resolution wins. Waiters block on a latch: a lock
    taken at creation and released once, when the result settles; each woken waiter
    releases it again for the next, so a settlement wakes every waiter. (A Condition's
    wait made a request round trip about 20 us slower: ``benchmarks/RESULTS.md``.)
    """

    __slots__ = ("_done", "_error", "_guard", "_latch", "_value")

    def __init__(self, guard: Optional[ContextManager[Any]] = None) -> None:
        self._guard: ContextManager[Any] = guard if guard is not None else threading.Lock()
        self._latch = threading.Lock()
        self._latch.acquire()
        self._done = False
        self._value: Optional[T] = None
        self._error: Optional[BaseException] = None

    @property
    def guard(self) -> ContextManager[Any]:
        """The lock the result settles under."""
        return self._guard

    @property
    def done(self) -> bool:
        """True once a value or an error is set (read it with the lock held or not)."""
        return self._done

    @property
    def value(self) -> Optional[T]:
        """The value once set, else ``None``."""
        return self._value

    @property
    def error(self) -> Optional[BaseException]:
        """The error once set, else ``None``."""
        return self._error

    def resolve_locked(self, value: T) -> bool:
        """Set the value (``guard`` held); returns False if already settled."""
        if self._done:
            return False
        self._value = value
        self._done = True  # after the value: a waiter reads it without the lock
        self._latch.release()
        return True

    def fail_locked(self, error: BaseException) -> bool:
        """Set the error (``guard`` held); returns False if already settled."""
        if self._done:
            return False
        self._error = error
        self._done = True
        self._latch.release()
        return True

    def set_result(self, value: T) -> bool:
        """Set the value; returns False if already settled."""
        with self._guard:
            return self.resolve_locked(value)

    def set_error(self, error: BaseException) -> bool:
        """Set the error; returns False if already settled."""
        with self._guard:
            return self.fail_locked(error)

    def wait(self, timeout: Optional[float], what: str = "operation") -> T:
        """Block until settled; return the value or raise the error.

        Args:
            timeout: seconds; ``None`` waits until settled.
            what: names the operation in the timeout message.

        Raises:
            RelayTimeoutError: not settled within ``timeout`` (the result stays usable).
            BaseException: the error it was settled with.
        """
        if not self._done:
            if timeout is None:
                woken = self._latch.acquire()
            elif timeout > 0:
                woken = self._latch.acquire(True, timeout)
            else:
                woken = self._latch.acquire(False)
            if woken:
                self._latch.release()  # for the next waiter; later waits return at once
            elif not self._done:
                raise timeout_error(what, timeout)
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


__all__ = ["Deadline", "OneShot", "SlimCondition", "slim_waiters"]
