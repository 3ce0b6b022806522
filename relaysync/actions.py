"""Actions: long-running operations on a call (play, refer, …) and their outcomes.

An :class:`Action` is created when a call method has been accepted by the server. The
reader thread offers it the events of its operation (matched by ``control_id``, or for
REFER by call) under the call's Condition; the action settles once, on a final event or
when the call ends. Waiting threads block on that same Condition.

To add an operation: subclass :class:`Action`, set ``method``, ``event_types`` and
``final_states`` (or override :meth:`Action._final`), and ``result_class``.
"""

from __future__ import annotations

import threading
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    ClassVar,
    FrozenSet,
    Generic,
    Optional,
    Type,
    TypeVar,
)

from . import constants as C
from .errors import RelayError, timeout_error
from .events import ReferEvent, RelayEvent
from .results import ActionResult, PlayResult, ReferResult

if TYPE_CHECKING:
    from .call_base import CallBase

R = TypeVar("R")
A = TypeVar("A", bound="Action[Any]")
Completion = Callable[[Any], Any]


class Action(Generic[R]):
    """A running operation on a call.

    Attributes:
        call: the call it runs on.
        control_id: the client-chosen id that tags its events (``None`` for REFER).
        state: the latest state reported by the server (``None`` before the first event).
        event: the latest event of this operation.
    """

    method: ClassVar[str] = ""
    event_types: ClassVar[FrozenSet[str]] = frozenset()
    final_states: ClassVar[FrozenSet[str]] = frozenset({"finished", "error"})
    result_class: ClassVar[Type[Any]] = ActionResult
    #: False for operations whose events carry no ``control_id`` (REFER): the call
    #: routes their events to the oldest pending action of the type.
    uses_control_id: ClassVar[bool] = True

    def __init__(
        self, call: CallBase, control_id: Optional[str], on_completed: Optional[Completion] = None
    ) -> None:
        self.call = call
        self.control_id = control_id
        self.state: Optional[str] = None
        self.event: Optional[RelayEvent] = None
        self._cond: threading.Condition = call._cond
        self._done = False
        self._result: Optional[R] = None
        self._error: Optional[RelayError] = None
        self._on_completed = on_completed

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(control_id={self.control_id!r}, state={self.state!r}, "
            f"done={self._done!r})"
        )

    @property
    def done(self) -> bool:
        """True once the operation has a final outcome (or the call ended)."""
        with self._cond:
            return self._done

    @property
    def result(self) -> Optional[R]:
        """The outcome once done, else ``None``."""
        with self._cond:
            return self._result

    def wait(self, timeout: Optional[float] = None) -> R:
        """Block until the operation finishes and return its result.

        Args:
            timeout: seconds to wait; ``None`` waits for as long as the call lives.

        Raises:
            RelayTimeoutError: not finished within ``timeout``; the action stays usable.
            CallEndedError: the call ended before the operation reached a final state.
        """
        self.call._client._fork_guard.check(f"wait for {self.method}")
        with self._cond:
            if not self._cond.wait_for(lambda: self._done, timeout):
                raise timeout_error(f"{type(self).__name__} on call {self.call.call_id}", timeout)
            if self._error is not None:
                raise self._error
            assert self._result is not None
            return self._result

    def stop(self, timeout: Optional[float] = None) -> None:
        """Ask the server to stop the operation (``<method>.stop``)."""
        self._sub("stop", timeout=timeout)

    # ---------------------------------------------------------------- reader side

    def _final(self, event: RelayEvent) -> bool:
        """Whether ``event`` settles the action (called with the call's lock held)."""
        return self.state in self.final_states

    def _state_of(self, event: RelayEvent) -> Optional[str]:
        """Extract the operation state from one of its events."""
        state = getattr(event, "state", None)
        return state if isinstance(state, str) else None

    def _make_result(self, event: RelayEvent) -> R:
        """Build the result object from the settling event."""
        result: R = self.result_class.from_event(event)
        return result

    def _offer(self, event: RelayEvent) -> bool:
        """Consume ``event`` if it is ours; True if the action just settled.

        Called on the reader thread with the call's lock held.
        """
        if self._done or event.event_type not in self.event_types:
            return False
        self.event = event
        state = self._state_of(event)
        if state is not None:
            self.state = state
        if not self._final(event):
            return False
        self._result = self._make_result(event)
        self._settle()
        return True

    def _fail(self, error: RelayError) -> None:
        """Settle with ``error`` if still pending (lock held)."""
        if not self._done:
            self._error = error
            self._settle()

    def _settle(self) -> None:
        """Mark done, wake waiters and schedule on_completed (lock held)."""
        self._done = True
        self._cond.notify_all()
        callback = self._on_completed
        if callback is not None:
            self.call._schedule(lambda: callback(self))

    # ---------------------------------------------------------------- sub-commands

    def _sub(self, verb: str, timeout: Optional[float] = None, **params: Any) -> None:
        """Send ``<method>.<verb>`` for this operation."""
        self.call._execute(
            f"{self.method}.{verb}", {"control_id": self.control_id, **params}, timeout=timeout
        )


class PlayAction(Action[PlayResult]):
    """A ``calling.play``: settles on ``finished`` or ``error``."""

    method = "calling.play"
    event_types = frozenset({C.EVENT_CALL_PLAY})
    final_states = C.PLAY_FINAL_STATES
    result_class = PlayResult

    def pause(self, timeout: Optional[float] = None) -> None:
        """Pause playback (``calling.play.pause``)."""
        self._sub("pause", timeout=timeout)

    def resume(self, timeout: Optional[float] = None) -> None:
        """Resume paused playback (``calling.play.resume``)."""
        self._sub("resume", timeout=timeout)

    def volume(self, db: float, timeout: Optional[float] = None) -> None:
        """Change the volume by ``db`` decibels, -40 to 40 (``calling.play.volume``)."""
        if not -40.0 <= float(db) <= 40.0:
            raise ValueError(f"volume must be between -40 and 40 dB, got {db!r}")
        self._sub("volume", timeout=timeout, volume=float(db))


class ReferAction(Action[ReferResult]):
    """A SIP REFER: settles on success, busy, noAnswer, cancel or error.

    REFER has no ``control_id`` (``uses_control_id = False``); the call routes
    ``calling.call.refer`` events to its oldest unsettled ReferAction.
    """

    method = "calling.refer"
    event_types = frozenset({C.EVENT_CALL_REFER})
    final_states = C.REFER_FINAL_STATES
    result_class = ReferResult
    uses_control_id = False

    def _make_result(self, event: RelayEvent) -> ReferResult:
        assert isinstance(event, ReferEvent)
        return ReferResult.from_event(event)

    def stop(self, timeout: Optional[float] = None) -> None:
        """REFER cannot be stopped once sent.

        Raises:
            NotImplementedError: always; RELAY has no ``calling.refer.stop``.
        """
        raise NotImplementedError("RELAY has no way to stop a SIP REFER once it is sent")


__all__ = ["Action", "PlayAction", "ReferAction"]
