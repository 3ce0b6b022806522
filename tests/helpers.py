"""Shared test helpers: fast-reconnecting clients and thread-leak checks."""

from __future__ import annotations

import threading
from typing import Any, Iterator, List

from relaysync import Call, RelayClient

FAST = {"backoff_initial": 0.05, "backoff_max": 0.2}


def make_client(sim: Any, **kwargs: Any) -> RelayClient:
    """A client for ``sim`` that reconnects quickly."""
    options = {**FAST, "contexts": ["office"], **kwargs}
    return RelayClient(sim.project, sim.token, url=sim.url, **options)


def relaysync_threads() -> List[str]:
    """Names of live threads started by the client."""
    return sorted(t.name for t in threading.enumerate() if t.name.startswith("relaysync-")
                  and not t.name.startswith("relaysync-simulator"))


class Recorder:
    """Collects values from callbacks and lets a test wait for a condition on them."""

    def __init__(self) -> None:
        self.items: List[Any] = []
        self._cond = threading.Condition()

    def __call__(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 5.0) -> List[Any]:
        """Block until ``predicate(items)`` holds; return a copy of the items."""
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"condition not met; got {self.items!r}")
            return list(self.items)

    def __iter__(self) -> Iterator[Any]:
        with self._cond:
            return iter(list(self.items))


def answered_call(client: RelayClient, sim: Any) -> Call:
    """Place an inbound call on "office", answer it in the handler, return the Call."""
    calls = Recorder()

    def handler(call: Call) -> None:
        call.answer()
        calls(call)

    client.on_call(handler)
    sim.inbound_call("office", from_="+15550001111", to="+15550002222")
    call: Call = calls.wait_for(lambda items: len(items) == 1)[0]
    return call
