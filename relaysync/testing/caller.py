"""The scripted far end of a simulated call: what the caller presses, says and is.

Every call leg has a :class:`Caller` (created on first use from the script kept for its
far-end number, if any). Tests script it through :class:`CallerActions`, mixed into
:class:`~relaysync.testing.handle.SimCall` (one call), ``sim.caller(number)`` (calls to or
from a number, scripted before they exist) and the remote handles. Scripts may be set
before the call reaches the method: inputs wait in order until an operation takes them
("when collected, press 1" is ``call.press("1")`` before the collect starts).

Inputs (each taken by one operation; times in unscaled seconds):

* ``press("1234#")`` — DTMF, for collect, detect digit, digit bindings, or a terminator
  ending a recording;
* ``say("billing please", confidence=0.9, partial=True)`` — speech (with partial
  results when the collect asks for them), or talking into a recording;
* ``stay_silent()`` — the next operation hears nothing (collect: ``no_input`` after its
  initial timeout; record: ``no_input``);
* ``say_nonsense()`` — input that matches nothing (``no_match``);
* ``leave_message(seconds, end="silence"|"terminator"|"hangup"|"talk")`` — a recording's
  outcome: the caller talks, then falls silent, presses ``#``, hangs up, or talks on
  until the recording is stopped.

Settings: ``answer_as("human"|"machine"|"fax", greeting=, beep=, tone=)`` for detect;
``fax_outcome(...)`` and ``pay_outcome(...)`` for faxes and payments.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Union

import attrs

#: DTMF a caller can press.
DTMF = frozenset("0123456789*#ABCD")
INPUT_KINDS = ("digits", "speech", "silence", "no_match", "message")
MESSAGE_ENDS = ("silence", "terminator", "hangup", "talk")
ANSWER_KINDS = ("human", "machine", "fax")
FAX_TONES = ("CED", "CNG")
PAY_OUTCOMES = ("success", "declined", "timeout")
DEFAULT_REACTION = 0.3


@attrs.frozen
class Input:
    """One thing the caller does, taken by the next operation that accepts it.

    Attributes:
        kind: one of :data:`INPUT_KINDS`.
        value: the digits or the words.
        confidence: speech confidence (0..1).
        partial: whether speech is reported word by word first (``partial_results``).
        seconds: how long the caller talks into a recording (``message``).
        end: how a message ends, one of :data:`MESSAGE_ENDS`.
        delay: unscaled seconds before the caller starts.
    """

    kind: str
    value: str = ""
    confidence: float = 0.9
    partial: bool = False
    seconds: float = 0.0
    end: str = "silence"
    delay: float = DEFAULT_REACTION


@attrs.frozen
class Answering:
    """Who answers the call, for ``calling.detect``.

    Attributes:
        kind: ``human``, ``machine`` or ``fax``.
        greeting: unscaled seconds a machine's greeting lasts (before its beep).
        beep: whether a machine beeps after its greeting.
        tone: the fax tone, ``CED`` (answering fax) or ``CNG`` (calling fax).
    """

    kind: str = "human"
    greeting: float = 3.0
    beep: bool = True
    tone: str = "CED"


@attrs.frozen
class FaxOutcome:
    """How the next fax on the call goes.

    Attributes:
        pages: pages transferred (page events, one per page).
        success: the ``success`` flag of the ``finished`` event.
        result: the result code (0 = ok).
        result_text: the result text.
        error: end with ``fax.type == "error"`` instead of ``finished``.
    """

    pages: int = 1
    success: bool = True
    result: int = 0
    result_text: str = "OK"
    error: bool = False


@attrs.frozen
class PayOutcome:
    """How the next payment on the call goes: ``success``, ``declined`` or ``timeout``."""

    outcome: str = "success"


Command = Union[Input, Answering, FaxOutcome, PayOutcome]
#: ``listener(input) -> taken``: an operation offered the caller's next input.
Listener = Callable[[Input], bool]


def _num(params: Dict[str, Any], name: str, default: float, high: Optional[float] = None) -> float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high:g}, got {value!r}")
    return float(value)


def _choice(params: Dict[str, Any], name: str, options: Any, default: str) -> str:
    value = params.get(name, default)
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return str(value)


def _text(params: Dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def build(action: str, params: Dict[str, Any]) -> Command:
    """Validate one scripting command (as sent in process or over remote control).

    Args:
        action: ``input``, ``answer_as``, ``fax_outcome`` or ``pay_outcome``.
        params: its fields (see the dataclasses above).

    Returns:
        The command, ready for :meth:`Caller.apply`.

    Raises:
        ValueError: an unknown action or a bad field, naming it.
    """
    known = {
        "input": ("kind", "value", "confidence", "partial", "seconds", "end", "delay"),
        "answer_as": ("kind", "greeting", "beep", "tone"),
        "fax_outcome": ("pages", "success", "result", "result_text", "error"),
        "pay_outcome": ("outcome",),
    }
    if action not in known:
        raise ValueError(f"action must be one of {sorted(known)}, got {action!r}")
    unknown = sorted(set(params) - set(known[action]))
    if unknown:
        raise ValueError(f"unknown arguments: {', '.join(unknown)}")
    if action == "answer_as":
        return Answering(
            _choice(params, "kind", ANSWER_KINDS, "human"),
            _num(params, "greeting", 3.0),
            bool(params.get("beep", True)),
            _choice(params, "tone", FAX_TONES, "CED"),
        )
    if action == "fax_outcome":
        pages = params.get("pages", 1)
        result = params.get("result", 0)
        for name, value in (("pages", pages), ("result", result)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        return FaxOutcome(
            pages,
            bool(params.get("success", True)),
            result,
            str(params.get("result_text", "OK")),
            bool(params.get("error", False)),
        )
    if action == "pay_outcome":
        return PayOutcome(_choice(params, "outcome", PAY_OUTCOMES, "success"))
    kind = _choice(params, "kind", INPUT_KINDS, "digits")
    value = str(params.get("value", ""))
    if kind == "digits":
        value = _text(params, "value")
        if set(value) - DTMF:
            raise ValueError(f"digits may hold only 0-9 * # A-D, got {value!r}")
    elif kind == "speech":
        value = _text(params, "value")
    return Input(
        kind,
        value,
        _num(params, "confidence", 0.9, high=1.0),
        bool(params.get("partial", False)),
        _num(params, "seconds", 3.0 if kind == "message" else 0.0),
        _choice(params, "end", MESSAGE_ENDS, "silence"),
        _num(params, "delay", DEFAULT_REACTION),
    )


class Caller:
    """The far end of one call (loop thread only)."""

    def __init__(self) -> None:
        self.inputs: Deque[Input] = deque()
        self.answering = Answering()
        self.fax = FaxOutcome()
        self.pay = PayOutcome()
        #: Digits that reached this leg from its peer's ``calling.send_digits``.
        self.heard_digits: List[str] = []
        self._listeners: List[Listener] = []

    def copy(self) -> Caller:
        """A fresh caller with the same script (for a new call to a scripted number)."""
        twin = Caller()
        twin.inputs = deque(self.inputs)
        twin.answering, twin.fax, twin.pay = self.answering, self.fax, self.pay
        return twin

    def apply(self, command: Command) -> None:
        """Queue an input (offered at once to the operations listening) or set a setting."""
        if isinstance(command, Input):
            self.inputs.append(command)
            self.offer()
        elif isinstance(command, Answering):
            self.answering = command
        elif isinstance(command, FaxOutcome):
            self.fax = command
        else:
            self.pay = command

    def listen(self, listener: Listener, *, first: bool = False) -> None:
        """Offer the caller's inputs to ``listener`` from now on (queued ones at once)."""
        if first:
            self._listeners.insert(0, listener)
        else:
            self._listeners.append(listener)
        self.offer()

    def unlisten(self, listener: Listener) -> None:
        """Stop offering inputs to ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def offer(self) -> None:
        """Hand queued inputs, oldest first, to the first listener that takes each."""
        while self.inputs:
            head = self.inputs[0]
            if not any(listener(head) for listener in list(self._listeners)):
                return
            if self.inputs and self.inputs[0] is head:
                self.inputs.popleft()


class CallerActions:
    """The caller-scripting methods shared by the in-process and remote handles."""

    def _script(self, action: str, params: Dict[str, Any]) -> None:
        raise NotImplementedError

    def press(self, digits: str, *, delay: float = DEFAULT_REACTION) -> None:
        """The caller presses ``digits`` (0-9 * # A-D) after ``delay`` unscaled seconds.

        Raises:
            ValueError: empty or invalid digits, or a negative delay.
        """
        self._script("input", {"kind": "digits", "value": digits, "delay": delay})

    def say(
        self,
        text: str,
        *,
        confidence: float = 0.9,
        partial: bool = False,
        delay: float = DEFAULT_REACTION,
    ) -> None:
        """The caller says ``text`` (recognised with ``confidence``; word by word first
        when ``partial`` and the collect asks for partial results).

        Raises:
            ValueError: empty text, a confidence outside 0..1, or a negative delay.
        """
        self._script(
            "input",
            {
                "kind": "speech",
                "value": text,
                "confidence": confidence,
                "partial": partial,
                "delay": delay,
            },
        )

    def stay_silent(self) -> None:
        """The next collect or recording hears nothing (``no_input`` after its timeout)."""
        self._script("input", {"kind": "silence"})

    def say_nonsense(self, *, delay: float = DEFAULT_REACTION) -> None:
        """The caller answers the next collect with something it cannot match."""
        self._script("input", {"kind": "no_match", "delay": delay})

    def leave_message(
        self, seconds: float = 3.0, *, end: str = "silence", delay: float = DEFAULT_REACTION
    ) -> None:
        """The caller talks ``seconds`` into the next recording, then ``end``s it:
        ``silence`` (end-silence timeout), ``terminator`` (presses ``#``), ``hangup``, or
        ``talk`` (goes on until the recording is stopped).

        Raises:
            ValueError: an unknown ``end`` or a negative time.
        """
        self._script("input", {"kind": "message", "seconds": seconds, "end": end, "delay": delay})

    def answer_as(
        self, kind: str = "human", *, greeting: float = 3.0, beep: bool = True, tone: str = "CED"
    ) -> None:
        """Who answers, as ``calling.detect`` sees it: ``human``, ``machine`` (greeting
        of ``greeting`` unscaled seconds, then a beep) or ``fax`` (``tone`` CED or CNG).

        Raises:
            ValueError: an unknown kind or tone, or a negative greeting.
        """
        self._script("answer_as", {"kind": kind, "greeting": greeting, "beep": beep, "tone": tone})

    def fax_outcome(
        self,
        *,
        pages: int = 1,
        success: bool = True,
        result: int = 0,
        result_text: str = "OK",
        error: bool = False,
    ) -> None:
        """How the call's faxes go: pages, the verdict and its result code, or an error.

        Raises:
            ValueError: negative pages or result.
        """
        self._script(
            "fax_outcome",
            {
                "pages": pages,
                "success": success,
                "result": result,
                "result_text": result_text,
                "error": error,
            },
        )

    def pay_outcome(self, outcome: str = "success") -> None:
        """How the call's payments go: ``success``, ``declined`` (the card is declined)
        or ``timeout`` (the caller enters nothing).

        Raises:
            ValueError: an unknown outcome.
        """
        self._script("pay_outcome", {"outcome": outcome})


__all__ = [
    "Answering",
    "Caller",
    "CallerActions",
    "FaxOutcome",
    "Input",
    "Listener",
    "PayOutcome",
    "build",
]
