"""The simulator's running ``control_id`` operations (play, record, collect ...).

A :class:`RunningOperation` is one operation running on one call (not to be confused
with the client's :mod:`relaysync.operations`, which declares methods): its timers are
cancelled when it ends. An :class:`OperationTable` keeps the running operations of one capability
by call and ``control_id``; it starts them (``409`` for a ``control_id`` in use), answers
their sub-commands through one path (:meth:`OperationTable.sub_command`: look the
``control_id`` up, ``404`` if unknown, reply, then apply the effect), emits their events
with ``node_id``/``call_id``/``control_id`` filled in, and ends them when their call ends
(before the call's ``ended`` event). Loop thread only.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, Generic, List, Optional, TypeVar

from relaysync.testing.replies import invalid_params, require_str, result

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import CallHandler, Params
    from relaysync.testing.sessions import Session


class RunningOperation:
    """One running operation on a call (loop thread only).

    Attributes:
        call: the call it runs on.
        control_id: the client's ``control_id``.
        done: set once it has ended (its last event went out).
        started: ``time.monotonic()`` when it started.
    """

    def __init__(self, call: CallRecord, control_id: str) -> None:
        self.call = call
        self.control_id = control_id
        self.done = False
        self.started = time.monotonic()
        self._timers: List[Any] = []

    def keep(self, timer: Any) -> Any:
        """Remember ``timer`` so that :meth:`cancel_timers` cancels it; returns it."""
        self._timers.append(timer)
        return timer

    def cancel_timers(self) -> None:
        """Cancel every timer this operation armed."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


Op = TypeVar("Op", bound=RunningOperation)


class OperationTable(Generic[Op]):
    """The running operations of one capability, by call and ``control_id``.

    Args:
        engine: the call engine.
        event_type: the event the operations emit (e.g. ``calling.call.record``).
        on_call_end: ``fn(op)`` run for each operation still running when its call
            starts ending; it should end the operation (``finish``).
    """

    def __init__(
        self, engine: EngineApi, event_type: str, on_call_end: Callable[[Op], None]
    ) -> None:
        self.engine = engine
        self.event_type = event_type
        self._ops: Dict[str, Dict[str, Op]] = {}
        self._on_call_end = on_call_end
        engine.on_ending(self._call_ending)

    def add(self, op: Op) -> Optional[Params]:
        """Register ``op``; return the ``409`` result when its ``control_id`` is in use."""
        ops = self._ops.setdefault(op.call.call_id, {})
        if op.control_id in ops:
            return result(
                "409",
                "control_id is already in use",
                call_id=op.call.call_id,
                control_id=op.control_id,
            )
        ops[op.control_id] = op
        return None

    def running(self, call: CallRecord) -> List[Op]:
        """The operations running on ``call``, oldest first."""
        return list(self._ops.get(call.call_id, {}).values())

    def find(self, call: CallRecord, params: Params) -> Optional[Op]:
        """The operation named by ``params.control_id`` on ``call``, if running."""
        return self._ops.get(call.call_id, {}).get(require_str(params, "control_id"))

    def is_current(self, op: Op) -> bool:
        """Whether ``op`` is still registered (it has not ended)."""
        return not op.done and self._ops.get(op.call.call_id, {}).get(op.control_id) is op

    def emit(self, op: Op, body: Params, event_type: Optional[str] = None) -> None:
        """Emit ``body`` (plus the ids) as this table's event, or as ``event_type``."""
        params = {
            "node_id": op.call.node_id,
            "call_id": op.call.call_id,
            "control_id": op.control_id,
            **body,
        }
        self.engine.emit(op.call, event_type or self.event_type, params)

    def finish(self, op: Op, body: Optional[Params] = None) -> bool:
        """End ``op``: cancel its timers, forget it, emit ``body`` as its last event.

        Returns:
            ``False`` (and nothing emitted) when ``op`` had already ended.
        """
        if not self.is_current(op):
            return False
        op.done = True
        op.cancel_timers()
        ops = self._ops.get(op.call.call_id, {})
        del ops[op.control_id]
        if not ops:
            self._ops.pop(op.call.call_id, None)
        if body is not None:
            self.emit(op, body)
        return True

    def later(self, op: Op, seconds: float, fn: Callable[[], None]) -> None:
        """Run ``fn`` after ``seconds`` of simulated time, unless ``op`` ended first."""

        def fire() -> None:
            if self.is_current(op):
                fn()

        op.keep(self.engine.later(seconds, fire))

    def start(self, op: Op, message: str, begin: Callable[[], None]) -> Params:
        """Register ``op`` and run ``begin`` once the start result has been sent.

        Returns:
            The start result (``200 message``, or ``409`` for a ``control_id`` in use).
        """
        conflict = self.add(op)
        if conflict is not None:
            return conflict

        def run() -> None:
            if self.is_current(op):
                begin()

        self.engine.after_reply(run)
        return result("200", message, call_id=op.call.call_id, control_id=op.control_id)

    def sub_command(
        self, call: CallRecord, params: Params, message: str, effect: Callable[[Op], None]
    ) -> Params:
        """Answer a sub-command: look the ``control_id`` up (``404`` if it is not
        running), reply ``200 message``, then apply ``effect(op)`` after the reply."""
        op = self.find(call, params)
        if op is None:
            return result(
                "404", "Control not found", call_id=call.call_id, control_id=params["control_id"]
            )

        def run() -> None:
            if self.is_current(op):
                effect(op)

        self.engine.after_reply(run)
        return result("200", message, call_id=call.call_id, control_id=op.control_id)

    def command(self, message: str, effect: Callable[[Op], None]) -> CallHandler:
        """A call handler answering a sub-command with :meth:`sub_command`."""

        def handler(session: Session, call: CallRecord, params: Params) -> Params:
            return self.sub_command(call, params, message, effect)

        return handler

    def _call_ending(self, call: CallRecord) -> None:
        for op in self.running(call):
            self._on_call_end(op)


def number(value: Any, name: str, default: float, *, low: float = 0.0) -> float:
    """Return ``value`` as a float ``>= low`` (``default`` when absent).

    Raises:
        RpcFault: ``INVALID_PARAMS`` naming ``name`` for anything else.
    """
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low:
        raise invalid_params(f"{name} must be a number >= {low:g}, got {value!r}")
    return float(value)


def flag(value: Any, name: str, default: bool) -> bool:
    """Return ``value`` as a bool (``default`` when absent).

    Raises:
        RpcFault: ``INVALID_PARAMS`` naming ``name`` when it is not a bool.
    """
    if value is None:
        return default
    if not isinstance(value, bool):
        raise invalid_params(f"{name} must be true or false, got {value!r}")
    return value


__all__ = ["OperationTable", "RunningOperation", "flag", "number"]
