"""``calling.detect`` (machine, fax, digit) and ``calling.send_digits``.

Runs on the simulator loop thread; times are unscaled seconds (times ``time_scale``).
Events are ``calling.call.detect`` ``{detect: {type, params: {event}}}``, no top-level
state. Who answered is scripted with ``answer_as`` (:mod:`~relaysync.testing.caller`;
default ``human``):

* machine detect — a human: ``HUMAN`` after 1 s, then ``finished``; a machine:
  ``MACHINE`` after 1 s, ``NOT_READY`` while its greeting plays, ``READY`` when it ends
  (``greeting`` seconds, plus the beep), then ``finished``; a fax: ``UNKNOWN``, then
  ``finished``;
* fax detect — a fax answering with its tone (``CED``/``CNG``; a ``params.tone`` filter
  must match): the tone after 1 s, then ``finished``;
* digit detect — one event per digit the caller presses (0.2 s apart; ``params.digits``
  filters), until the timeout or a stop.

Whatever has not concluded ends ``finished`` after ``timeout`` (default 30 s), on
``calling.detect.stop``, or when the call ends.

``calling.send_digits`` (0-9 * # A-D; ``w`` waits 0.5 s, ``W`` 1 s; 0.1 s a digit) emits
``calling.call.send_digits`` ``finished`` once sent. The digits reach the leg bridged
with the call when it is connected (its collects and detects take them as input),
else the call's own far end; either way they are kept in that leg's ``heard_digits``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Dict, List

from relaysync.constants import CALL_ANSWERED, EVENT_CALL_DETECT, EVENT_CALL_SEND_DIGITS
from relaysync.testing.caller import DTMF, Input
from relaysync.testing.replies import invalid_params, require_str, result
from relaysync.testing.running_ops import OperationTable, RunningOperation, number

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

DETECT_AFTER = 1.0
BEEP_SECONDS = 0.5
SECONDS_PER_DIGIT = 0.2
SEND_SECONDS_PER_DIGIT = 0.1
SEND_PAUSES = {"w": 0.5, "W": 1.0}
DETECT_TYPES = ("machine", "fax", "digit")


class _Detect(RunningOperation):
    """One detector (loop thread only)."""

    def __init__(self, call: CallRecord, control_id: str, detect: Any, timeout: float) -> None:
        super().__init__(call, control_id)
        if not isinstance(detect, dict) or detect.get("type") not in DETECT_TYPES:
            raise invalid_params("detect.type must be machine, fax or digit")
        params = detect.get("params", {})
        if not isinstance(params, dict):
            raise invalid_params("detect.params must be an object")
        self.kind: str = detect["type"]
        self.params: Params = params
        self.timeout = timeout


class Detector:
    """Handles ``calling.detect`` and ``calling.send_digits`` (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self.table: OperationTable[_Detect] = OperationTable(
            engine, EVENT_CALL_DETECT, self._finish
        )
        self._listeners: Dict[int, Any] = {}

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        return {
            "calling.detect": wrap(self._detect),
            "calling.detect.stop": wrap(self.table.command("Stopped", self._finish)),
            "calling.send_digits": wrap(self._send_digits),
        }

    def _event(self, op: _Detect, event: str) -> None:
        self.table.emit(op, {"detect": {"type": op.kind, "params": {"event": event}}})

    def _finish(self, op: _Detect) -> None:
        listener = self._listeners.pop(id(op), None)
        if listener is not None:
            self._engine.caller(op.call).unlisten(listener)
        if self.table.is_current(op):
            self._event(op, "finished")
            self.table.finish(op)

    def _detect(self, session: Session, call: CallRecord, params: Params) -> Params:
        timeout = number(params.get("timeout"), "timeout", 30.0)
        op = _Detect(call, require_str(params, "control_id"), params.get("detect"), timeout)
        return self.table.start(op, "Detecting", lambda: self._begin(op))

    def _begin(self, op: _Detect) -> None:
        later = self.table.later
        later(op, op.timeout, lambda: self._finish(op))
        answering = self._engine.caller(op.call).answering
        if op.kind == "digit":
            wanted = op.params.get("digits", "0123456789#*")

            def listener(item: Input) -> bool:
                if not self.table.is_current(op) or item.kind != "digits":
                    return False
                at = item.delay
                for digit in item.value:
                    if digit in wanted:
                        at += SECONDS_PER_DIGIT
                        later(op, at, functools.partial(self._event, op, digit))
                return True

            self._listeners[id(op)] = listener
            self._engine.caller(op.call).listen(listener)
        elif op.kind == "fax":
            tone = op.params.get("tone")
            if answering.kind == "fax" and tone in (None, answering.tone):
                later(op, DETECT_AFTER, lambda: self._event(op, answering.tone))
                later(op, DETECT_AFTER + 0.1, lambda: self._finish(op))
        elif answering.kind == "machine":
            later(op, DETECT_AFTER, lambda: self._event(op, "MACHINE"))
            later(op, DETECT_AFTER + 0.05, lambda: self._event(op, "NOT_READY"))
            ready = max(DETECT_AFTER + 0.1, answering.greeting) + (
                BEEP_SECONDS if answering.beep else 0.0
            )
            later(op, ready, lambda: self._event(op, "READY"))
            later(op, ready + 0.1, lambda: self._finish(op))
        else:
            verdict = "HUMAN" if answering.kind == "human" else "UNKNOWN"
            later(op, DETECT_AFTER, lambda: self._event(op, verdict))
            later(op, DETECT_AFTER + 0.1, lambda: self._finish(op))

    # -- send_digits --------------------------------------------------------------------

    def _send_digits(self, session: Session, call: CallRecord, params: Params) -> Params:
        control_id = require_str(params, "control_id")
        digits = require_str(params, "digits")
        if set(digits) - DTMF - set(SEND_PAUSES):
            raise invalid_params("digits may hold only 0-9 * # A-D and w/W pauses")
        if call.state != CALL_ANSWERED:
            return result("409", "Call is not answered", call_id=call.call_id)
        seconds = sum(SEND_PAUSES.get(d, SEND_SECONDS_PER_DIGIT) for d in digits)
        target = call.peer if call.peer is not None and call.peer.live else call
        tones = "".join(d for d in digits if d in DTMF)

        def sent() -> None:
            caller = self._engine.caller(target)
            caller.heard_digits.append(tones)
            if target is not call:
                caller.apply(Input("digits", tones, delay=0.0))
            if call.live:
                self._engine.emit(
                    call,
                    EVENT_CALL_SEND_DIGITS,
                    {
                        "node_id": call.node_id,
                        "call_id": call.call_id,
                        "control_id": control_id,
                        "state": "finished",
                    },
                )

        self._engine.later(seconds, sent)
        return result("200", "Sending Digits", call_id=call.call_id, control_id=control_id)


__all__: List[str] = ["Detector"]
