"""Remembering event ids, so that an event redelivered after a resume is processed once.

Memory is bounded: the ids of at most ``window`` events of the current socket, plus at
most ``window`` from the sockets before it. The split is what keeps a large redelivery
correct: ids arriving on the new socket fill the new socket's half and never push out
the older half, which is the one the redelivered events are checked against. (With a
single least-recently-used set, redelivering more events than it holds, in order,
evicts each id just before it comes back, and every event is processed twice.)
"""

from __future__ import annotations

import collections
import itertools
from typing import Deque, Iterator, Set

DEDUPE_WINDOW = 16_384


class _Ids:
    """A bounded, insertion-ordered set of ids."""

    __slots__ = ("_capacity", "_order", "_set")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._order: Deque[str] = collections.deque()
        self._set: Set[str] = set()

    def __contains__(self, item: str) -> bool:
        return item in self._set

    def __len__(self) -> int:
        return len(self._set)

    def add(self, item: str) -> None:
        """Remember ``item``; the oldest id goes once the set is full."""
        if item in self._set:
            return
        self._order.append(item)
        self._set.add(item)
        if len(self._order) > self._capacity:
            self._set.discard(self._order.popleft())

    def __iter__(self) -> Iterator[str]:
        """The ids, oldest first."""
        return iter(self._order)


class EventDedupe:
    """Which event ids were already processed. I/O thread only.

    Args:
        window: ids kept per half (current socket; earlier sockets of the session).
    """

    def __init__(self, window: int = DEDUPE_WINDOW) -> None:
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window!r}")
        self._window = window
        self._current = _Ids(window)
        self._earlier = _Ids(window)

    def __len__(self) -> int:
        """How many ids are remembered (at most twice the window)."""
        return len(self._current) + len(self._earlier)

    def duplicate(self, event_id: str) -> bool:
        """Record ``event_id``; True if it was seen before (the event is a redelivery).

        A redelivered id is recorded on the current socket too, so a drop during the
        redelivery still finds it after the next resume.
        """
        if event_id in self._current:
            return True
        seen = event_id in self._earlier
        self._current.add(event_id)
        return seen

    def new_socket(self, resumed: bool) -> None:
        """A socket opened: ``resumed`` if it continues the session (redelivery possible).

        A fresh session cannot redeliver anything, so every id is forgotten.
        """
        if not resumed:
            self._current = _Ids(self._window)
            self._earlier = _Ids(self._window)
            return
        merged = _Ids(self._window)
        for event_id in itertools.chain(self._earlier, self._current):
            merged.add(event_id)
        self._earlier = merged
        self._current = _Ids(self._window)


__all__ = ["DEDUPE_WINDOW", "EventDedupe"]
