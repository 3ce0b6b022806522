"""The public, thread-safe handles a test holds: one call leg, or the far end of a number.

:class:`SimCall` is a call leg (``sim.inbound_call()``, ``sim.calls``);
:class:`CallerScript` scripts the far end of calls to or from one number before they
exist (``sim.caller(number)``).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from relaysync.constants import CALL_ENDED, CALL_STATES
from relaysync.errors import CallEndedError, timeout_error
from relaysync.testing.caller import CallerActions, build
from relaysync.testing.callmodel import CallRecord, ReferRecord

if TYPE_CHECKING:
    from relaysync.testing.engine_api import EngineApi


class SimCall(CallerActions):
    """Thread-safe handle on one simulated call leg.

    Reads take the engine's lock; actions run on the simulator loop via
    ``SimCore.run_sync``. Handles stay valid after the call ended (while the call is in
    the engine's bounded history). The far end is scripted with the methods of
    :class:`~relaysync.testing.caller.CallerActions` (``press``, ``say``, ...).
    """

    def __init__(self, engine: EngineApi, record: CallRecord) -> None:
        self._engine = engine
        self._record = record

    @property
    def call_id(self) -> str:
        """The leg's ``call_id``."""
        return self._record.call_id

    @property
    def node_id(self) -> str:
        """The leg's ``node_id``."""
        return self._record.node_id

    @property
    def tag(self) -> str:
        """The dial/connect tag (``""`` for inbound calls)."""
        return self._record.tag

    @property
    def direction(self) -> str:
        """``inbound`` or ``outbound``."""
        return self._record.direction

    @property
    def context(self) -> Optional[str]:
        """The context an inbound call arrived on, else ``None``."""
        return self._record.context

    @property
    def created_by(self) -> str:
        """``receive``, ``dial`` or ``connect``."""
        return self._record.created_by

    @property
    def device(self) -> Dict[str, Any]:
        """A copy of the wire-form device of the leg."""
        return {
            "type": self._record.device.get("type"),
            "params": dict(self._record.device.get("params") or {}),
        }

    def _read(self, fn: Callable[[CallRecord], Any]) -> Any:
        with self._engine.cond:
            return fn(self._record)

    @property
    def state(self) -> str:
        """The current call state."""
        state: str = self._read(lambda r: r.state)
        return state

    @property
    def end_reason(self) -> Optional[str]:
        """The ``end_reason`` once the call has ended, else ``None``."""
        reason: Optional[str] = self._read(lambda r: r.end_reason)
        return reason

    @property
    def peer(self) -> Optional[str]:
        """The ``call_id`` of the leg this call is bridged with, if any."""
        peer: Optional[str] = self._read(lambda r: r.peer.call_id if r.peer else None)
        return peer

    @property
    def session_id(self) -> Optional[str]:
        """The id of the session that receives this call's events, if any."""
        sid: Optional[str] = self._read(lambda r: r.session.id if r.session else None)
        return sid

    @property
    def offered_to(self) -> List[str]:
        """Ids of the sessions an inbound call was offered to, in order."""
        offered: List[str] = self._read(lambda r: list(r.offered_to))
        return offered

    @property
    def events(self) -> List[Dict[str, Any]]:
        """Copies of the events emitted for this call: ``{"event_type", "params"}``."""
        events: List[Dict[str, Any]] = self._read(lambda r: copy.deepcopy(list(r.events)))
        return events

    @property
    def refers(self) -> List[ReferRecord]:
        """The REFERs received for this call (frozen snapshots), oldest first."""
        refers: List[ReferRecord] = self._read(lambda r: list(r.refers))
        return refers

    def _script(self, action: str, params: Dict[str, Any]) -> None:
        command = build(action, params)
        engine = self._engine
        engine.core.run_sync(lambda: engine.caller(self._record).apply(command))

    @property
    def heard_digits(self) -> List[str]:
        """Digits that reached this leg from its peer's ``calling.send_digits``."""
        engine = self._engine
        heard: List[str] = engine.core.run_sync(
            lambda: list(engine.caller(self._record).heard_digits)
        )
        return heard

    def hangup(self, reason: str = "hangup") -> None:
        """The remote party hangs up: the call goes ``ending`` → ``ended``.

        Args:
            reason: the ``end_reason`` to report.
        """
        self._engine.core.run_sync(lambda: self._engine.hangup(self._record, reason))

    def finish_ai(self, state: str = "finished") -> str:
        """Send ``calling.call.ai {control_id, state}`` for the call's ``calling.ai``
        session and end it.

        Not confirmed by RELAY's documents (PROTOCOL.md §2.5.19): real RELAY may send no
        event when an AI session ends, so the simulator sends this one only when a test
        asks for it (the official SDKs' AI actions wait for it).

        Args:
            state: ``finished`` or ``error``.

        Returns:
            The session's ``control_id``.

        Raises:
            ValueError: a bad ``state``, or no ``calling.ai`` session runs on the call.
        """
        engine = self._engine
        control_id: str = engine.core.run_sync(lambda: engine.finish_ai(self._record, state))
        return control_id

    def wait_for_state(self, state: str, timeout: float = 5.0) -> None:
        """Block until the call has been in ``state`` (returns at once if it already was).

        Args:
            state: one of ``created``, ``ringing``, ``answered``, ``ending``, ``ended``.
            timeout: seconds to wait.

        Raises:
            ValueError: ``state`` is not a call state.
            CallEndedError: the call ended without passing through ``state``.
            RelayTimeoutError: ``state`` not reached within ``timeout``.
        """
        if state not in CALL_STATES:
            raise ValueError(f"state must be one of {CALL_STATES}, got {state!r}")
        rec = self._record
        with self._engine.cond:
            self._engine.cond.wait_for(
                lambda: state in rec.visited or rec.state == CALL_ENDED, timeout
            )
            if state in rec.visited:
                return
            if rec.state == CALL_ENDED:
                raise CallEndedError(
                    -1, f"call {rec.call_id} ended ({rec.end_reason}) without reaching {state!r}"
                )
        raise timeout_error(f"waiting for call {rec.call_id} to reach {state!r}", timeout)

    def __repr__(self) -> str:
        return (
            f"SimCall(call_id={self.call_id!r}, direction={self.direction!r}, state={self.state!r})"
        )


class CallerScript(CallerActions):
    """The script of the far end of later calls to or from one number (thread-safe).

    Args:
        engine: the call engine whose scripts it fills.
        number: the far-end number.
    """

    def __init__(self, engine: EngineApi, number: str) -> None:
        self._engine = engine
        self.number = number

    def _script(self, action: str, params: Dict[str, Any]) -> None:
        command = build(action, params)
        scripts = self._engine.scripts
        self._engine.core.run_sync(lambda: scripts.caller_template(self.number).apply(command))

    def __repr__(self) -> str:
        return f"CallerScript(number={self.number!r})"


__all__ = ["CallerScript", "SimCall"]
