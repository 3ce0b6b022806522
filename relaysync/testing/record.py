"""``calling.record`` and its sub-commands (stop, pause with behavior, resume).

Runs on the simulator loop thread; times are unscaled seconds (times ``time_scale``). A
recording emits ``recording`` (with the ``url`` it will have) and then takes the
caller's next input (:mod:`~relaysync.testing.caller`):

* ``leave_message(seconds, end=...)``: the caller talks, then falls silent (``finished``
  ``record.audio.end_silence_timeout`` later, default 1 s), presses ``#`` (a terminator:
  ``finished`` at once), hangs up (``finished`` before the call's ``ended``), or talks
  on until ``calling.record.stop``;
* ``say(...)``: talking for 0.3 s a word, then silence; ``press(...)``: a terminator
  among the digits (``record.audio.terminators``, default ``#``) ends it;
* nothing, or ``stay_silent()``: ``no_input`` after ``initial_timeout`` (default 5 s).

``pause`` (``behavior`` ``skip``, the default, leaves the paused time out of the
recording; ``silence`` and ``continuous`` keep it as silence) emits ``paused``,
``resume`` ``recording``. The ``finished`` event carries ``url``, ``duration`` (simulated
seconds), ``size`` (bytes: 16 kB/s for wav, 2 kB/s for mp3, doubled for stereo) at the
top level, as RELAY sends them, and the request's settings under ``record``. A call
that ends mid-recording ends it ``finished`` with the url, before its ``ended`` event.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any, Dict, List

from relaysync.constants import EVENT_CALL_RECORD
from relaysync.testing.replies import invalid_params, require_str
from relaysync.testing.running_ops import OperationTable, RunningOperation, number

if TYPE_CHECKING:
    from relaysync.testing.caller import Input
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

BYTES_PER_SECOND = {"wav": 16_000, "mp3": 2_000}
PAUSE_BEHAVIORS = ("skip", "silence", "continuous")
SECONDS_PER_WORD = 0.3
RECORDING_URL = "https://sim.relaysync.invalid/api/v1/recordings/{id}.{format}"


class _Record(RunningOperation):
    """One recording (loop thread only)."""

    def __init__(self, call: CallRecord, control_id: str, spec: Any, scale: float) -> None:
        super().__init__(call, control_id)
        audio = spec.get("audio") if isinstance(spec, dict) else None
        if not isinstance(audio, dict):
            raise invalid_params("record must be {audio: {...}}")
        self.settings: Params = {"audio": dict(audio)}
        self.format = audio.get("format", "mp3")
        if self.format not in BYTES_PER_SECOND:
            raise invalid_params("record.audio.format must be mp3 or wav")
        direction = audio.get("direction", "speak")
        if direction not in ("listen", "speak", "both"):
            raise invalid_params("record.audio.direction must be listen, speak or both")
        terminators = audio.get("terminators", "#")
        if not isinstance(terminators, str):
            raise invalid_params("record.audio.terminators must be a string")
        self.terminators = terminators
        self.stereo = bool(audio.get("stereo", False))
        self.initial_timeout = number(audio.get("initial_timeout"), "initial_timeout", 5.0)
        self.end_silence = number(audio.get("end_silence_timeout"), "end_silence_timeout", 1.0)
        self.url = RECORDING_URL.format(id=uuid.uuid4(), format=self.format)
        self.scale = scale
        self.state = "new"
        self.seconds = 0.0  # simulated seconds recorded before the current segment
        self.since = time.monotonic()
        self.counting = True
        self.heard = False
        self.silent = False
        self.initial: Any = None

    def elapsed(self) -> float:
        """Simulated seconds recorded so far."""
        if not self.counting or self.scale <= 0:
            return self.seconds
        return self.seconds + (time.monotonic() - self.since) / self.scale

    def pause(self, count: bool) -> None:
        self.seconds = self.elapsed()
        self.counting = count
        self.since = time.monotonic()

    def resume(self) -> None:
        self.seconds = self.elapsed()
        self.counting = True
        self.since = time.monotonic()


class Recorder:
    """Handles ``calling.record`` (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self.table: OperationTable[_Record] = OperationTable(
            engine, EVENT_CALL_RECORD, lambda op: self._end(op, "finished")
        )
        self._listeners: Dict[int, Any] = {}

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        table = self.table
        return {
            "calling.record": wrap(self._record),
            "calling.record.stop": wrap(table.command("Stopped", self._stop_now)),
            "calling.record.pause": wrap(self._pause),
            "calling.record.resume": wrap(table.command("Resumed", self._resume_now)),
        }

    def _stop_now(self, op: _Record) -> None:
        self._end(op, "finished")

    def _record(self, session: Session, call: CallRecord, params: Params) -> Params:
        op = _Record(
            call,
            require_str(params, "control_id"),
            params.get("record"),
            self._engine.core.time_scale,
        )
        return self.table.start(op, "Recording", lambda: self._begin(op))

    def _body(self, op: _Record, state: str) -> Params:
        return {"state": state, "url": op.url, "record": op.settings}

    def _begin(self, op: _Record) -> None:
        op.state = "recording"
        op.since = time.monotonic()
        self.table.emit(op, self._body(op, "recording"))

        def no_input() -> None:
            if op.silent or not op.heard:
                self._end(op, "no_input")

        op.initial = self._engine.later(op.initial_timeout, no_input)
        op.keep(op.initial)

        def listener(item: Input) -> bool:
            return self._take(op, item)

        self._listeners[id(op)] = listener
        self._engine.caller(op.call).listen(listener)

    def _take(self, op: _Record, item: Input) -> bool:
        if not self.table.is_current(op) or op.heard:
            return False
        if item.kind == "silence":
            op.heard = op.silent = True  # the caller's turn: nothing is said
            return True
        if item.kind == "no_match":
            return False
        if item.kind == "digits":
            if not any(digit in op.terminators for digit in item.value):
                return True  # tones in the recording; the caller is still to speak
            op.heard = True
            self.table.later(op, item.delay, lambda: self._end(op, "finished"))
            return True
        op.heard = True
        if item.kind == "speech":
            talk, end = item.delay + SECONDS_PER_WORD * len(item.value.split()), "silence"
        else:
            talk, end = item.delay + item.seconds, item.end
        if end == "silence":
            self.table.later(op, talk + op.end_silence, lambda: self._end(op, "finished"))
        elif end == "terminator":
            self.table.later(op, talk, lambda: self._end(op, "finished"))
        elif end == "hangup":
            self.table.later(op, talk, lambda: self._engine.hangup(op.call, "hangup"))
        return True

    def _end(self, op: _Record, state: str) -> None:
        listener = self._listeners.pop(id(op), None)
        if listener is not None:
            self._engine.caller(op.call).unlisten(listener)
        if not self.table.is_current(op):
            return
        body = self._body(op, state)
        if state == "finished":
            duration = round(op.elapsed(), 2)
            rate = BYTES_PER_SECOND[op.format] * (2 if op.stereo else 1)
            body.update(duration=duration, size=int(duration * rate))
        self.table.finish(op, body)

    def _pause(self, session: Session, call: CallRecord, params: Params) -> Params:
        behavior = params.get("behavior", "skip")
        if behavior not in PAUSE_BEHAVIORS:
            raise invalid_params(f"behavior must be one of {list(PAUSE_BEHAVIORS)}")

        def pause(op: _Record) -> None:
            if op.state == "recording":
                op.state = "paused"
                op.pause(count=behavior != "skip")
                self.table.emit(op, self._body(op, "paused"))

        return self.table.sub_command(call, params, "Paused", pause)

    def _resume_now(self, op: _Record) -> None:
        if op.state == "paused":
            op.state = "recording"
            op.resume()
            self.table.emit(op, self._body(op, "recording"))


__all__: List[str] = ["Recorder"]
