"""The inbound flow every chaos call runs, and what each flow recorded.

Flow ``n`` (the caller number says which, see :func:`caller_number`): answer, play an
audio file to the end, collect the digit the caller is scripted to press, SIP REFER to a
target whose scripted outcome depends on ``n`` (success, busy or noAnswer), hang up when
the transfer did not take the call away, and wait for the call to end. Every step has a
finite timeout, so a flow always returns or raises.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from relaysync import (
    Call,
    CallEndedError,
    RelayConnectionError,
    RelayError,
    RelayEvent,
    RelayTimeoutError,
)
from relaysync.testing import RelaySimulator
from relaysync.testing.handle import SimCall

from .monkey import INJECTED_CODE

CONTEXT = "office"
MEDIA_URL = "https://chaos.example/greeting.wav"
MEDIA_SECONDS = 2.0
REFER_SECONDS = 2.0
#: Refer target per expected outcome; the simulator is scripted accordingly.
TARGETS: Dict[str, str] = {
    "success": "sip:agent@chaos.example",
    "busy": "sip:busy@chaos.example",
    "noAnswer": "sip:away@chaos.example",
}
OUTCOMES = ("success", "busy", "noAnswer")
#: Simulated seconds the collect waits for the first digit (scaled by ``time_scale``).
COLLECT_INITIAL_TIMEOUT = 10.0

COMPLETED = "completed"
DOCUMENTED = "documented"
WRONG = "wrong"


def history(call: Call) -> List[Any]:
    """Every event in ``call``'s own queue so far (``events()``, waiting 10 ms for more)."""
    seen: List[Any] = []
    try:
        for event in call.events(timeout=0.01):
            seen.append(event)
    except RelayError:  # a timeout (nothing more yet) or the client closed
        pass
    return seen


def caller_number(index: int) -> str:
    """The ``from`` number of flow ``index``."""
    return f"+1{index:010d}"


def flow_index(number: Optional[str]) -> int:
    """The flow index in a caller number made by :func:`caller_number`.

    Raises:
        ValueError: not such a number.
    """
    if not number or not number.startswith("+1") or not number[2:].isdigit():
        raise ValueError(f"unexpected caller number {number!r}")
    return int(number[2:])


def expected_outcome(index: int) -> str:
    """The REFER outcome flow ``index`` is scripted to get."""
    return OUTCOMES[index % len(OUTCOMES)]


def expected_digit(index: int) -> str:
    """The digit the caller of flow ``index`` presses when collected."""
    return str(index % 10)


def script_caller(sim: RelaySimulator, index: int) -> None:
    """Script the caller of flow ``index`` (before the call exists) to press its digit."""
    sim.caller(caller_number(index)).press(expected_digit(index))


def script(sim: RelaySimulator) -> None:
    """Script the media length and the REFER outcomes the flows expect."""
    sim.set_media_duration(MEDIA_URL, MEDIA_SECONDS)
    for state, target in TARGETS.items():
        sim.on_refer(target, state=state, delay=REFER_SECONDS)


@dataclass
class FlowRecord:
    """What one flow did. Written by its handler thread and its callbacks, under ``lock``.

    Attributes:
        index: the flow number.
        placed: when the driver asked for the call (``time.monotonic()``).
        started: when a handler first ran for it.
        finished: when the (last) handler returned.
        outcome: completed, documented or wrong.
        detail: the error or the wrong result.
        steps: the steps that finished.
        calls: every Call a handler got for this flow (a re-offer gives another).
        seen: how often the ``call.on("*")`` callback saw each event id.
        unheard: for each of ``calls``, how many of its events came before the
            callback was added (the callback never sees those).
        handler_runs: how many times ``on_call`` ran for it.
    """

    index: int
    placed: float
    started: Optional[float] = None
    finished: Optional[float] = None
    outcome: Optional[str] = None
    detail: str = ""
    steps: List[str] = field(default_factory=list)
    calls: List[Call] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)
    unheard: List[int] = field(default_factory=list)
    handler_runs: int = 0
    running: int = 0
    sim_call: Optional[SimCall] = None


class WrongResult(Exception):
    """A step came back with a result the flow did not expect."""


class FlowBook:
    """Every flow of a run, with the handler that runs them.

    Args:
        step_timeout: seconds each step (answer, play, collect, refer, end) may take.
        restart_times: returns when restarts were sent, to tell a restart's documented
            losses from defects.
        connected_times: returns when the client reported itself connected; a
            restart reaches every call offered before the client is back with its
            fresh session.
    """

    def __init__(
        self,
        step_timeout: float,
        restart_times: Callable[[], List[float]],
        connected_times: Callable[[], List[float]],
    ) -> None:
        self.step_timeout = step_timeout
        self._restart_times = restart_times
        self._connected_times = connected_times
        self.lock = threading.Condition()
        self.flows: Dict[int, FlowRecord] = {}

    # -- the driver's side ------------------------------------------------------------

    def placed(self, index: int) -> None:
        """Record that flow ``index`` is about to be asked for."""
        with self.lock:
            self.flows[index] = FlowRecord(index, time.monotonic())

    def simulated(self, index: int, call: SimCall) -> None:
        """Record the simulator's leg of flow ``index``."""
        with self.lock:
            self.flows[index].sim_call = call

    def unfinished(self) -> List[FlowRecord]:
        """Flows whose handler never ran or is still running."""
        with self.lock:
            return [f for f in self.flows.values() if f.finished is None or f.running]

    def wait_all_finished(self, timeout: float) -> bool:
        """Block until every placed flow's handler has returned."""
        with self.lock:
            return self.lock.wait_for(
                lambda: all(f.finished is not None and not f.running for f in self.flows.values()),
                timeout,
            )

    def still_possible(self) -> List[FlowRecord]:
        """The unfinished flows that can still run: not those never offered whose call
        the simulator abandoned (no session was online to take it)."""
        waiting = self.unfinished()  # the legs are read outside the lock
        return [
            f
            for f in waiting
            if not (
                f.started is None
                and f.sim_call is not None
                and f.sim_call.state == "ended"
                and f.sim_call.end_reason == "abandoned"
            )
        ]

    def finished_count(self) -> int:
        """How many flows have finished so far."""
        with self.lock:
            return sum(1 for f in self.flows.values() if f.finished is not None)

    # -- the handler (worker threads) -------------------------------------------------

    def handle(self, call: Call) -> None:
        """The ``on_call`` handler: run the flow the caller number names."""
        index = flow_index(call.from_number)
        with self.lock:
            flow = self.flows.get(index)
            if flow is None:  # placed before the driver recorded it
                flow = self.flows[index] = FlowRecord(index, time.monotonic())
            flow.handler_runs += 1
            flow.running += 1
            flow.calls.append(call)
            if flow.started is None:
                flow.started = time.monotonic()
        call.on("*", functools.partial(self._seen, flow))
        before = len(history(call))  # these came before the callback: it never sees them
        with self.lock:
            flow.unheard.append(before)
        outcome, detail = COMPLETED, ""
        try:
            self._run(call, flow)
        except WrongResult as exc:
            outcome, detail = WRONG, str(exc)
        except RelayError as exc:
            outcome, detail = self._classify(flow, exc), f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            outcome, detail = WRONG, f"{type(exc).__name__}: {exc}"
        finally:
            self._clean_up(call)
        with self.lock:
            flow.running -= 1
            # a re-offered call keeps the worst outcome of its handlers
            if flow.outcome is None or _rank(outcome) > _rank(flow.outcome):
                flow.outcome, flow.detail = outcome, detail
            flow.finished = time.monotonic()
            self.lock.notify_all()

    def _seen(self, flow: FlowRecord, event: RelayEvent) -> None:
        with self.lock:
            flow.seen[event.event_id or ""] += 1
            self.lock.notify_all()

    def _step(self, flow: FlowRecord, name: str) -> None:
        with self.lock:
            flow.steps.append(name)

    def _run(self, call: Call, flow: FlowRecord) -> None:
        timeout = self.step_timeout
        call.answer(timeout=timeout)
        self._step(flow, "answer")
        played = call.play_audio(MEDIA_URL).wait(timeout)
        if played.state != "finished":
            raise WrongResult(f"flow {flow.index}: play ended {played.state}")
        self._step(flow, "play")
        collected = call.collect(
            digits={"max": 1, "digit_timeout": 5}, initial_timeout=COLLECT_INITIAL_TIMEOUT
        ).wait(timeout)
        digit = expected_digit(flow.index)
        if collected.type != "digit" or collected.digits != digit:
            raise WrongResult(
                f"flow {flow.index}: collect got {collected.type} {collected.digits!r}, "
                f"not digit {digit!r}"
            )
        self._step(flow, "collect")
        expected = expected_outcome(flow.index)
        referred = call.refer(TARGETS[expected], timeout=timeout)
        if referred.state != expected:
            raise WrongResult(f"flow {flow.index}: refer ended {referred.state}, not {expected}")
        self._step(flow, "refer")
        if expected != "success":
            call.hangup(timeout=timeout)
        call.wait_for_ended(timeout=timeout)
        self._step(flow, "ended")

    def _classify(self, flow: FlowRecord, exc: RelayError) -> str:
        """Documented error outcomes, or wrong.

        Documented: a request in flight when the socket died (RelayConnectionError); a
        failure the simulator was told to answer; and, for a flow that lived through a
        restart (the server forgot its session, so its events are gone), the call
        being gone or a wait timing out.
        """
        if isinstance(exc, RelayConnectionError):
            return DOCUMENTED
        if exc.code == INJECTED_CODE:
            return DOCUMENTED
        if isinstance(exc, (CallEndedError, RelayTimeoutError)) and self._lived_through_restart(
            flow
        ):
            return DOCUMENTED
        return WRONG

    def _lived_through_restart(self, flow: FlowRecord) -> bool:
        """Whether a restart came while the flow ran, or while it was being offered on
        the session the restart made the server forget (the client still held it until
        it reconnected: under load, a wide window)."""
        end = time.monotonic()
        connected = self._connected_times()  # in the order they came
        for when in self._restart_times():
            if when > end:
                continue
            back = next((t for t in connected if t > when), end)
            if flow.placed <= back:
                return True
        return False

    def _clean_up(self, call: Call) -> None:
        """Hang up a call a failed flow left up, as a careful application would: try
        again when the socket died under the request; other errors mean it is gone."""
        deadline = time.monotonic() + self.step_timeout
        while not call.ended and time.monotonic() < deadline:
            try:
                call.hangup(timeout=max(0.1, deadline - time.monotonic()))
                return
            except RelayConnectionError:
                continue
            except RelayError:
                return


def _rank(outcome: str) -> int:
    return (COMPLETED, DOCUMENTED, WRONG).index(outcome)
