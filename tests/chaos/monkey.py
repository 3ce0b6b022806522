"""The fault schedule of a chaos run: a seeded thread that makes the simulator misbehave.

Every ``interval`` seconds (give or take half of it) it applies one fault to every
online session: first each kind once, in a shuffled order (so even a short run sees them
all), then kinds picked at random by weight:

``drop``        abort the sockets (no close handshake)
``disconnect``  ``signalwire.disconnect`` (the client reconnects and resumes)
``restart``     ``signalwire.disconnect {restart: true}`` (the session is forgotten)
``half_open``   the sockets go silent for a while (the client's pings find out), then wake
``delay``       answer a ``calling.*`` method late, a few times
``fail``        answer a ``calling.*`` method with an error, once or twice
``redeliver``   send the last few events again with their ids, as after a lost ack
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from relaysync.testing import RelaySimulator

logger = logging.getLogger("relaysync.chaos")

#: The error code the ``fail`` fault answers with; flows that get it ended as documented.
INJECTED_CODE = -32603
INJECTED_MESSAGE = "Simulated failure (chaos)"

#: Relative weight of each fault.
DEFAULT_WEIGHTS: Dict[str, float] = {
    "drop": 3,
    "disconnect": 2,
    "restart": 1,
    "half_open": 2,
    "delay": 3,
    "fail": 2,
    "redeliver": 3,
}


class FaultMonkey:
    """Applies seeded random faults to ``sim`` on its own thread until :meth:`stop`.

    Args:
        sim: the simulator to disturb.
        seed: seed of the schedule (which fault, when, how long).
        interval: mean seconds between two faults.
        methods: the ``calling.*`` methods that ``delay`` and ``fail`` pick from.
        weights: relative weight per fault name (see the module docstring).
        max_delay: the longest ``delay`` (seconds) and the longest silence of ``half_open``.
    """

    def __init__(
        self,
        sim: RelaySimulator,
        *,
        seed: int,
        interval: float = 1.0,
        methods: Sequence[str] = ("calling.answer", "calling.play", "calling.refer"),
        weights: Optional[Dict[str, float]] = None,
        max_delay: float = 2.0,
    ) -> None:
        self._sim = sim
        self._rng = random.Random(seed)
        self._interval = interval
        self._methods = list(methods)
        table = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self._names = [name for name, weight in table.items() if weight > 0]
        self._weights = [table[name] for name in self._names]
        self._first = self._rng.sample(self._names, len(self._names))
        self._max_delay = max_delay
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self.counts: Counter[str] = Counter()
        #: ``(monotonic time, session ids)`` of each restart, for the accounting.
        self.restarts: List[Tuple[float, List[str]]] = []
        self._actions: Dict[str, Callable[[], object]] = {
            "drop": self._drop,
            "disconnect": lambda: self._sim.send_disconnect(restart=False),
            "restart": self._restart,
            "half_open": self._half_open,
            "delay": self._delay,
            "fail": self._fail,
            "redeliver": lambda: self._sim.redeliver_events(self._rng.randint(1, 8)),
        }

    def start(self) -> None:
        """Start the fault thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="chaos-faults", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the faults, wake silent sockets and clear method rules; join the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError("the fault thread did not stop")
        self._sim.wake()
        self._sim.clear_faults()

    def restarted_sessions(self) -> List[str]:
        """Ids of every session a restart made the simulator forget."""
        with self._lock:
            return [sid for _when, ids in self.restarts for sid in ids]

    def restart_times(self) -> List[float]:
        """When each restart was sent (``time.monotonic()``)."""
        with self._lock:
            return [when for when, _ids in self.restarts]

    # -- the thread -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(self._rng.uniform(0.5, 1.5) * self._interval):
            if self._first:
                name = self._first.pop()
            else:
                name = self._rng.choices(self._names, self._weights)[0]
            try:
                self._actions[name]()
            except Exception:  # a fault that could not be applied is not a client defect
                logger.exception("chaos: fault %s could not be applied", name)
                continue
            self.counts[name] += 1

    def _online(self) -> List[str]:
        return [info.id for info in self._sim.sessions if info.online]

    def _drop(self) -> None:
        self._sim.drop_connections()

    def _restart(self) -> None:
        ids = self._online()
        with self._lock:
            self.restarts.append((time.monotonic(), ids))
        self._sim.send_disconnect(restart=True)

    def _half_open(self) -> None:
        self._sim.go_silent()
        self._stop.wait(self._rng.uniform(0.2, self._max_delay * 1.5))
        self._sim.wake()

    def _delay(self) -> None:
        method = self._rng.choice(self._methods)
        seconds = self._rng.uniform(0.1, self._max_delay)
        self._sim.delay_method(method, seconds, times=self._rng.randint(1, 3))

    def _fail(self) -> None:
        method = self._rng.choice(self._methods)
        self._sim.fail_method(
            method, INJECTED_CODE, INJECTED_MESSAGE, times=self._rng.randint(1, 2)
        )
