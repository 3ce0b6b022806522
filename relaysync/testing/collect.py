"""``calling.collect`` and ``calling.play_and_collect``: input from the scripted caller.

Runs on the simulator loop thread; times are unscaled seconds (times ``time_scale``).
A play_and_collect first plays its prompt (``calling.call.play`` ``playing`` →
``finished`` on the same ``control_id``), then listens; a collect listens at once. While
listening it takes the caller's next input (:mod:`~relaysync.testing.caller`):

* digits: 0.2 s per digit, up to a terminator (default ``#``) or ``digits.max``; without
  either, the result comes ``digits.digit_timeout`` (default 5 s) after the last digit;
* speech: with ``partial_results`` and ``say(..., partial=True)``, one ``final: false``
  event per word, then the final result ``speech.end_silence_timeout`` (default 1 s)
  after the caller stops;
* a caller who says nothing: ``no_input`` after ``initial_timeout`` (default 5 s);
  input the collect cannot take (speech to a digits-only collect, ``say_nonsense``):
  ``no_match``.

``send_start_of_input`` adds a ``start_of_input`` event when the caller starts.
``start_input_timers: false`` holds the initial timer until
``calling.collect.start_input_timers``. ``continuous`` keeps collecting after each
result (``state: "collecting"``) until stopped or a ``no_input``. Results are
``{"final": true, "result": {...}}``. A stop, or the call ending, ends it with
``{"final": true, "state": "finished", "result": {"type": "no_input"}}`` (every final
collect event carries a ``result``, PROTOCOL.md §2.5.7; the caller gave no complete
input before the stop), and ``play finished`` first if the prompt was still playing.
``calling.collect.*`` sub-commands reach play_and_collect operations too.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from relaysync.constants import EVENT_CALL_COLLECT, EVENT_CALL_PLAY
from relaysync.testing.playback import play_seconds
from relaysync.testing.replies import invalid_params, require_str
from relaysync.testing.running_ops import OperationTable, RunningOperation, flag, number

if TYPE_CHECKING:
    from relaysync.testing.caller import Input
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

SECONDS_PER_DIGIT = 0.2
SECONDS_PER_WORD = 0.3
NO_MATCH_SECONDS = 0.5


class _Collect(RunningOperation):
    """One collect or play_and_collect (loop thread only)."""

    def __init__(self, call: CallRecord, control_id: str, spec: Params) -> None:
        super().__init__(call, control_id)
        digits, speech = spec.get("digits"), spec.get("speech")
        if digits is None and speech is None:
            raise invalid_params("collect needs digits and/or speech")
        for name, value in (("digits", digits), ("speech", speech)):
            if value is not None and not isinstance(value, dict):
                raise invalid_params(f"{name} must be an object")
        self.digits: Optional[Params] = digits
        self.speech: Optional[Params] = speech
        if digits is not None:
            most = digits.get("max")
            if isinstance(most, bool) or not isinstance(most, int) or most < 1:
                raise invalid_params("digits.max is required (an integer >= 1)")
            self.max_digits = most
            terminators = digits.get("terminators", "#")
            if not isinstance(terminators, str):
                raise invalid_params("digits.terminators must be a string")
            self.terminators = terminators
            self.digit_timeout = number(digits.get("digit_timeout"), "digits.digit_timeout", 5.0)
        if speech is not None:
            self.end_silence = number(
                speech.get("end_silence_timeout"), "speech.end_silence_timeout", 1.0
            )
        self.initial_timeout = number(spec.get("initial_timeout"), "initial_timeout", 5.0)
        self.partial = flag(spec.get("partial_results"), "partial_results", False)
        self.continuous = flag(spec.get("continuous"), "continuous", False)
        self.start_of_input = flag(spec.get("send_start_of_input"), "send_start_of_input", False)
        self.timers_on = flag(spec.get("start_input_timers"), "start_input_timers", True)
        self.prompt: Optional[float] = None  # unscaled seconds of the prompt, if any
        self.playing = False
        self.listening = False
        self.busy = False
        self.silent = False  # took a stay_silent(): hears nothing more until no_input
        self.initial: Any = None
        self.volume = 0.0


class Collector:
    """Handles collect and play_and_collect (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self.table: OperationTable[_Collect] = OperationTable(
            engine, EVENT_CALL_COLLECT, self._stop_now
        )
        self._listeners: Dict[int, Any] = {}

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        table = self.table
        return {
            "calling.collect": wrap(self._collect),
            "calling.collect.stop": wrap(table.command("Stopped", self._stop_now)),
            "calling.collect.start_input_timers": wrap(
                table.command("Timers started", self._timers_now)
            ),
            "calling.play_and_collect": wrap(self._play_and_collect),
            "calling.play_and_collect.stop": wrap(table.command("Stopped", self._stop_now)),
            "calling.play_and_collect.volume": wrap(self._volume),
        }

    # -- starting -----------------------------------------------------------------------

    def _collect(self, session: Session, call: CallRecord, params: Params) -> Params:
        op = _Collect(call, require_str(params, "control_id"), params)
        return self.table.start(op, "Collecting", lambda: self._listen(op))

    def _play_and_collect(self, session: Session, call: CallRecord, params: Params) -> Params:
        spec, items = params.get("collect"), params.get("play")
        if not isinstance(spec, dict):
            raise invalid_params("collect must be an object")
        if not isinstance(items, list):
            raise invalid_params("play must be a list of media items")
        op = _Collect(call, require_str(params, "control_id"), spec)
        op.volume = number(params.get("volume"), "volume", 0.0, low=-40.0)
        op.prompt = play_seconds(items, 1, self._engine.scripts)
        return self.table.start(op, "Playing and collecting", lambda: self._prompt(op))

    def _prompt(self, op: _Collect) -> None:
        self.table.emit(op, {"state": "playing"}, EVENT_CALL_PLAY)
        op.playing = True
        if op.prompt is None:
            op.playing = False
            self.table.emit(op, {"state": "error"}, EVENT_CALL_PLAY)
            self.table.finish(op, {"final": True, "result": {"type": "error"}})
            return

        def prompt_done() -> None:
            op.playing = False
            self.table.emit(op, {"state": "finished"}, EVENT_CALL_PLAY)
            self._listen(op)

        self.table.later(op, op.prompt, prompt_done)

    def _listen(self, op: _Collect) -> None:
        op.listening = True
        if op.timers_on:
            self._arm_initial(op)

        def listener(item: Input) -> bool:
            return self._take(op, item)

        self._listeners[id(op)] = listener
        self._engine.caller(op.call).listen(listener)

    def _arm_initial(self, op: _Collect) -> None:
        if op.initial is not None:
            op.initial.cancel()

        def no_input() -> None:
            op.initial = None
            if not op.busy:
                self._result(op, {"type": "no_input"}, last=True)

        op.initial = self._engine.later(op.initial_timeout, no_input)
        op.keep(op.initial)

    # -- input --------------------------------------------------------------------------

    def _take(self, op: _Collect, item: Input) -> bool:
        if not self.table.is_current(op) or not op.listening or op.busy or op.silent:
            return False
        if item.kind == "message":
            return False
        if item.kind == "silence":
            # this collect hears nothing, so its initial timer decides; the caller's next
            # input waits for the next operation
            op.silent = True
            return True
        op.busy = True
        if op.initial is not None:
            op.initial.cancel()
            op.initial = None
        later = self.table.later
        if op.start_of_input:
            later(op, item.delay, lambda: self.table.emit(op, _start_of_input()))
        if item.kind == "digits" and op.digits is not None:
            taken, terminator = self._digits(op, item.value)
            wait = item.delay + SECONDS_PER_DIGIT * max(1, len(taken) + len(terminator))
            if not terminator and len(taken) < op.max_digits:
                wait += op.digit_timeout
            result = {"type": "digit", "params": {"digits": taken, "terminator": terminator}}
            later(op, wait, lambda: self._result(op, result))
        elif item.kind == "speech" and op.speech is not None:
            self._speech(op, item)
        else:
            later(op, item.delay + NO_MATCH_SECONDS, lambda: self._result(op, {"type": "no_match"}))
        return True

    @staticmethod
    def _digits(op: _Collect, pressed: str) -> tuple[str, str]:
        taken = ""
        for digit in pressed:
            if digit in op.terminators:
                return taken, digit
            taken += digit
            if len(taken) >= op.max_digits:
                break
        return taken, ""

    def _speech(self, op: _Collect, item: Input) -> None:
        words = item.value.split()
        at = item.delay
        if op.partial and item.partial:
            for i in range(1, len(words)):
                at += SECONDS_PER_WORD
                text = " ".join(words[:i])
                body = {
                    "final": False,
                    "state": "collecting",
                    "result": {"type": "speech", "params": {"text": text, "confidence": 0.5}},
                }
                self.table.later(op, at, functools.partial(self.table.emit, op, body))
        at += SECONDS_PER_WORD + op.end_silence
        result = {"type": "speech", "params": {"text": item.value, "confidence": item.confidence}}
        self.table.later(op, at, lambda: self._result(op, result))

    def _result(self, op: _Collect, result: Params, last: bool = False) -> None:
        if op.continuous and not last:
            self.table.emit(op, {"final": True, "state": "collecting", "result": result})
            op.busy = False
            self._arm_initial(op)
            self._engine.caller(op.call).offer()
            return
        body: Params = {"final": True, "result": result}
        if op.continuous:
            body["state"] = "finished"
        self._end(op, body)

    # -- sub-commands and the end ------------------------------------------------------

    def _end(self, op: _Collect, body: Params) -> None:
        listener = self._listeners.pop(id(op), None)
        if listener is not None:
            self._engine.caller(op.call).unlisten(listener)
        if op.playing:
            op.playing = False
            self.table.emit(op, {"state": "finished"}, EVENT_CALL_PLAY)
        self.table.finish(op, body)

    def _stop_now(self, op: _Collect) -> None:
        self._end(op, {"final": True, "state": "finished", "result": {"type": "no_input"}})

    def _timers_now(self, op: _Collect) -> None:
        op.timers_on = True
        if op.listening and not op.busy and op.initial is None:
            self._arm_initial(op)

    def _volume(self, session: Session, call: CallRecord, params: Params) -> Params:
        volume = number(params.get("volume"), "volume", 0.0, low=-40.0)

        def apply(op: _Collect) -> None:
            op.volume = volume

        return self.table.sub_command(call, params, "Volume set", apply)


def _start_of_input() -> Params:
    return {"final": False, "state": "collecting", "result": {"type": "start_of_input"}}


__all__: List[str] = ["Collector"]
