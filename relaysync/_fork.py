"""Fork detection: a client belongs to the process that created it.

After ``os.fork()`` the child has a copy of the client's objects but not its threads,
and the copied socket is the parent's connection. Locks may have been copied while
another thread held them. So in a child every use of the client fails fast with
:class:`~relaysync.errors.ForkedClientError`, before any lock is taken or the socket
is touched.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import ForkedClientError

_generation = 0


def _forked() -> None:
    """``os.register_at_fork`` hook, run in every child right after the fork."""
    global _generation
    _generation += 1


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_forked)


class ForkGuard:
    """Remembers the process an object was created in."""

    __slots__ = ("_generation", "_pid")

    def __init__(self) -> None:
        self._generation = _generation
        self._pid = os.getpid()

    @property
    def forked(self) -> bool:
        """True in a child process forked after this guard was made."""
        return self._generation != _generation

    def check(self, what: str) -> None:
        """Raise if called in a forked child.

        Args:
            what: the operation attempted, for the message.

        Raises:
            ForkedClientError: this is a child process forked after creation.
        """
        if self._generation != _generation:
            raise ForkedClientError(
                -1,
                f"cannot {what}: this RelayClient was created in process {self._pid} and "
                f"this is process {os.getpid()}, forked from it. A client cannot cross "
                "os.fork(): create it after the fork, in each process that uses it (with "
                "gunicorn: in the post_fork hook, or lazily on first use in each worker)",
            )


def check_owner(call: Any, what: str) -> None:
    """Raise :class:`ForkedClientError` if ``call``'s client was created before a fork.

    Args:
        call: a :class:`~relaysync.call.Call` (anything without a guard passes).
        what: the operation attempted, for the message.
    """
    guard = getattr(getattr(call, "_host", None), "fork_guard", None)
    if isinstance(guard, ForkGuard):
        guard.check(what)


__all__ = ["ForkGuard", "check_owner"]
