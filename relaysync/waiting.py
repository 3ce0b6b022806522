"""The one blocking primitive and the one deadline helper.

:class:`OneShot` is a value or an exception, set once, behind a Condition: requests
(:class:`relaysync.rpc.PendingRequest`), actions, dials and messages all wait on one.
:class:`Deadline` turns a ``timeout`` into "how long is left", so an operation made of
several steps (start request, then the outcome) is bounded as a whole.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, Optional, TypeVar

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


class OneShot(Generic[T]):
    """A result that is set once: a value or an exception, behind a Condition.

    Args:
        cond: the Condition to use; pass an owner's Condition so the result settles
            under the owner's lock (an action settles under its call's lock). A
            private one is created when omitted.

    The ``*_locked`` methods are for callers that already hold ``cond``; the others take
    it themselves. The first resolution wins.
    """

    __slots__ = ("_cond", "_done", "_error", "_value")

    def __init__(self, cond: Optional[threading.Condition] = None) -> None:
        self._cond = cond if cond is not None else threading.Condition(threading.Lock())
        self._done = False
        self._value: Optional[T] = None
        self._error: Optional[BaseException] = None

    @property
    def cond(self) -> threading.Condition:
        """The Condition the result settles under."""
        return self._cond

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
        """Set the value (``cond`` held); returns False if already settled."""
        if self._done:
            return False
        self._value = value
        self._done = True  # last: a waiter reads the value without the lock
        self._cond.notify_all()
        return True

    def fail_locked(self, error: BaseException) -> bool:
        """Set the error (``cond`` held); returns False if already settled."""
        if self._done:
            return False
        self._error = error
        self._done = True
        self._cond.notify_all()
        return True

    def set_result(self, value: T) -> bool:
        """Set the value; returns False if already settled."""
        with self._cond:
            return self.resolve_locked(value)

    def set_error(self, error: BaseException) -> bool:
        """Set the error; returns False if already settled."""
        with self._cond:
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
        if not self._done:  # settled values are never changed: read them without the lock
            with self._cond:
                if not self._cond.wait_for(lambda: self._done, timeout):
                    raise timeout_error(what, timeout)
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


__all__ = ["Deadline", "OneShot"]
