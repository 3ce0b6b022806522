"""A chaos run: concurrent inbound flows while the simulator misbehaves, and its figures.

A run is one or more *rounds* on one client. In a round the driver keeps ``width``
flows in flight for ``round_seconds`` while a :class:`~tests.chaos.monkey.FaultMonkey`
injects faults; then the faults stop, the round *quiesces* (every flow's handler
returns, calls left up are hung up by the far end, callbacks drain) and its events are
accounted (:mod:`tests.chaos.accounting`); the simulator's journal is then cleared so a
long run keeps bounded memory. After the last round the client is closed and the
threads it leaves are counted.

A flow *hangs* when its handler neither returned nor raised within ``hang_after``
seconds of the round's end (every step has a finite timeout, so this bounds a correct
flow generously), or when its inbound call never reached the handler.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set

from relaysync import RelayClient
from relaysync.testing import RelaySimulator

from ..helpers import relaysync_threads
from .accounting import EventTally, tally
from .flows import (
    COMPLETED,
    CONTEXT,
    DOCUMENTED,
    WRONG,
    FlowBook,
    FlowRecord,
    caller_number,
    history,
    script_caller,
)
from .flows import script as script_flows
from .monkey import FaultMonkey

logger = logging.getLogger("relaysync.chaos")

#: Simulated seconds an inbound call rings before the simulator gives up on it; scaled
#: by ``time_scale``, this stays minutes of real time, far beyond any answer delay.
RING_TIMEOUT = 3000.0


@dataclass
class ChaosConfig:
    """How to run.

    Attributes:
        seed: seed of the fault schedule.
        rounds: number of rounds.
        round_seconds: seconds of placing flows (with faults) per round.
        width: flows in flight at once.
        fault_interval: mean seconds between faults.
        time_scale: the simulator's time scale (media 2 s and refer 2 s are scaled).
        step_timeout: seconds each flow step may take.
        hang_after: seconds after a round's end before an unfinished flow is a hang.
        weights: fault weights (``None``: the monkey's defaults).
    """

    seed: int = 1
    rounds: int = 1
    round_seconds: float = 20.0
    width: int = 12
    fault_interval: float = 1.0
    time_scale: float = 0.2
    step_timeout: float = 20.0
    hang_after: float = 120.0
    weights: Optional[Dict[str, float]] = None


@dataclass
class ChaosFigures:
    """The figures of a run (every count over all rounds)."""

    flows: int = 0
    completed: int = 0
    documented: int = 0
    wrong: int = 0
    hangs: int = 0
    unoffered: int = 0
    reoffered: int = 0
    calls_left: int = 0
    threads_left: int = 0
    rss_start_kib: int = 0
    rss_end_kib: int = 0
    seconds: float = 0.0
    events: EventTally = field(default_factory=EventTally)
    faults: Counter[str] = field(default_factory=Counter)
    documented_kinds: Counter[str] = field(default_factory=Counter)
    wrong_examples: List[str] = field(default_factory=list)
    hang_examples: List[str] = field(default_factory=list)

    @property
    def rss_growth_kib(self) -> int:
        """RSS at the end minus RSS after the first round's warm-up."""
        return self.rss_end_kib - self.rss_start_kib

    def lines(self) -> List[str]:
        """The figures as printable lines."""
        ev = self.events
        return [
            f"flows run {self.flows} in {self.seconds:.0f} s",
            f"  completed with the right result  {self.completed}",
            f"  ended with a documented error    {self.documented}  "
            f"{dict(self.documented_kinds.most_common())}",
            f"  wrong result                     {self.wrong}  {self.wrong_examples[:3]}",
            f"  hangs                            {self.hangs}  {self.hang_examples[:3]}",
            f"  not offered: nobody online then  {self.unoffered}",
            f"  offered again after a restart    {self.reoffered}",
            f"events sent {ev.sent}, reached user code {ev.received}, lost {ev.lost} "
            f"{ev.examples[:3]}; lost with a forgotten session {ev.lost_to_restart}, after the "
            f"call was known gone {ev.after_gone}",
            f"callbacks run twice {ev.callbacks_twice}; events applied twice {ev.applied_twice}",
            f"calls still tracked {self.calls_left}; threads left after close() "
            f"{self.threads_left}",
            f"RSS {self.rss_start_kib} -> {self.rss_end_kib} KiB ({self.rss_growth_kib:+d} KiB)",
            f"faults {dict(sorted(self.faults.items()))}",
        ]

    def zeros(self) -> Dict[str, int]:
        """The figures that must be zero."""
        return {
            "wrong": self.wrong,
            "hangs": self.hangs,
            "events lost": self.events.lost,
            "callbacks run twice": self.events.callbacks_twice,
            "events applied twice": self.events.applied_twice,
            "calls still tracked": self.calls_left,
            "threads left after close()": self.threads_left,
        }


def rss_kib() -> int:
    """This process's resident set size in KiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


Sampler = Callable[[float, int, int], None]


class ChaosRun:
    """Runs the rounds of ``config`` against a simulator of its own.

    Args:
        config: the run's settings.
        on_round: called with each round's figures so far (for progress output).
        on_tick: called about once a second with ``(elapsed s, flows finished, RSS KiB)``
            (the soak command samples with it).
    """

    def __init__(
        self,
        config: ChaosConfig,
        on_round: Optional[Callable[[int, ChaosFigures], None]] = None,
        on_tick: Optional[Sampler] = None,
    ) -> None:
        self.config = config
        self.figures = ChaosFigures()
        self._on_round = on_round
        self._on_tick = on_tick
        self._next_index = 0
        self._finished_before = 0
        self._started = 0.0
        self._connected: List[float] = []  # when the client reported "connected"

    def run(self) -> ChaosFigures:
        """Run every round, close the client, and return the figures."""
        cfg = self.config
        threads_before = relaysync_threads()
        self._started = time.monotonic()
        with RelaySimulator(time_scale=cfg.time_scale, ping_interval=5.0) as sim:
            script_flows(sim)
            client = RelayClient(
                sim.project,
                sim.token,
                url=sim.url,
                contexts=[CONTEXT],
                request_timeout=cfg.step_timeout,
                ping_interval=1.0,
                ping_timeout=1.0,
                backoff_initial=0.05,
                backoff_max=0.5,
            )
            client.on_connection_change(self._note_state)
            try:
                client.connect()
                for number in range(cfg.rounds):
                    self._round(sim, client, number)
                    if number == 0:
                        self.figures.rss_start_kib = rss_kib()
                    if self._on_round is not None:
                        self._on_round(number, self.figures)
                self.figures.calls_left = len(client.calls)
            finally:
                client.close()
            self.figures.rss_end_kib = rss_kib()
        self.figures.threads_left = len(relaysync_threads()) - len(threads_before)
        self.figures.seconds = time.monotonic() - self._started
        return self.figures

    def _note_state(self, state: str) -> None:
        """Keep when the client (re)connected (a worker thread runs this)."""
        if state == "connected":
            self._connected.append(time.monotonic())

    # -- one round --------------------------------------------------------------------

    def _round(self, sim: RelaySimulator, client: RelayClient, number: int) -> None:
        cfg = self.config
        methods = ["calling.answer", "calling.play", "calling.collect", "calling.refer"]
        monkey = FaultMonkey(
            sim,
            seed=cfg.seed * 1000 + number,
            interval=cfg.fault_interval,
            methods=methods,
            weights=cfg.weights,
        )
        book = FlowBook(cfg.step_timeout, monkey.restart_times, lambda: list(self._connected))
        client.on_call(book.handle)
        monkey.start()
        try:
            self._drive(sim, book, time.monotonic() + cfg.round_seconds)
        finally:
            monkey.stop()
        hung = self._quiesce(sim, client, book)
        self._account(sim, book, monkey, hung)
        sim.journal.clear()

    def _drive(self, sim: RelaySimulator, book: FlowBook, until: float) -> None:
        """Place flows, keeping ``width`` unfinished, until ``until``."""
        cfg = self.config
        while time.monotonic() < until:
            with book.lock:
                book.lock.wait_for(
                    lambda: len(book.unfinished()) < cfg.width,
                    max(0.0, min(1.0, until - time.monotonic())),
                )
                room = cfg.width - len(book.unfinished())
            for _ in range(max(0, room)):
                if not _someone_online(sim):
                    break
                index = self._next_index
                self._next_index += 1
                book.placed(index)
                script_caller(sim, index)
                book.simulated(
                    index,
                    sim.inbound_call(
                        CONTEXT,
                        from_=caller_number(index),
                        to="+15550002222",
                        ring_timeout=RING_TIMEOUT,
                    ),
                )
            self._tick(book)

    def _tick(self, book: FlowBook) -> None:
        if self._on_tick is not None:
            self._on_tick(
                time.monotonic() - self._started,
                self._finished_before + book.finished_count(),
                rss_kib(),
            )

    def _quiesce(self, sim: RelaySimulator, client: RelayClient, book: FlowBook) -> List[int]:
        """Let every flow finish, hang up what is left, and let callbacks drain.

        Returns:
            The flows that had not finished within ``hang_after`` seconds (hangs).
        """
        cfg = self.config
        deadline = time.monotonic() + cfg.hang_after
        while not book.wait_all_finished(1.0) and time.monotonic() < deadline:
            if not book.still_possible():
                break  # only abandoned offers are left: nothing will run them
            self._tick(book)
        hung = [flow.index for flow in book.unfinished()]
        for call in sim.calls:
            if call.state not in ("ending", "ended"):
                call.hangup()
        drain_deadline = time.monotonic() + 30.0
        while client.calls and time.monotonic() < drain_deadline:
            with book.lock:
                book.lock.wait(0.05)
        with book.lock:
            book.lock.wait_for(lambda: _callbacks_drained(book), 30.0)
        self._finished_before += book.finished_count()
        return hung

    def _account(
        self, sim: RelaySimulator, book: FlowBook, monkey: FaultMonkey, hung: List[int]
    ) -> None:
        figures = self.figures
        with book.lock:
            flows = list(book.flows.values())
        forgotten = set(monkey.restarted_sessions())
        for flow in flows:
            figures.flows += 1
            if flow.started is None and _abandoned(flow, forgotten):
                figures.unoffered += 1
            elif flow.index in hung:
                figures.hangs += 1
                why = f"stuck after {flow.steps}"
                if flow.started is None:
                    leg = flow.sim_call
                    why = "never offered" + (
                        f" (simulator: {leg.state} {leg.end_reason}, offered to "
                        f"{len(leg.offered_to)} sessions)"
                        if leg is not None
                        else ""
                    )
                figures.hang_examples.append(f"flow {flow.index}: {why}")
            elif flow.outcome == COMPLETED:
                figures.completed += 1
            elif flow.outcome == DOCUMENTED:
                figures.documented += 1
                figures.documented_kinds[flow.detail.split(":", 1)[0]] += 1
            else:
                assert flow.outcome == WRONG
                figures.wrong += 1
                figures.wrong_examples.append(flow.detail)
            if flow.handler_runs > 1:
                figures.reoffered += 1
        figures.events.add(tally(sim, flows, monkey.restarted_sessions()))
        figures.faults.update(monkey.counts)


def _someone_online(sim: RelaySimulator) -> bool:
    """Whether a session is online to take an offer (else RELAY abandons the call)."""
    try:
        sim.wait_until(lambda: any(info.online for info in sim.sessions), 10.0)
    except TimeoutError:
        return False
    return True


def _abandoned(flow: FlowRecord, forgotten: Set[str]) -> bool:
    """Whether the simulator ended the flow's call because nobody was online to take it:
    the client was between two sockets when the call came in, or when a restart made the
    server forget the session it had been offered to."""
    call = flow.sim_call
    return (
        call is not None
        and call.end_reason == "abandoned"
        and all(session in forgotten for session in call.offered_to)
    )


def _callbacks_drained(book: FlowBook) -> bool:
    """Whether each flow's ``call.on("*")`` callback has seen its calls' latest event,
    for the calls with an event after the callback was added (the events before it are
    in the call's history only)."""
    for flow in book.flows.values():
        for call, unheard in zip(flow.calls, flow.unheard):
            events = history(call)
            if len(events) > unheard and events[-1].event_id not in flow.seen:
                return False
    return True
