"""Scripted outcomes for the simulator's call engine: dials, REFERs, media lengths.

The tables are filled from test threads through ``RelaySimulator``'s scripting methods
(which marshal onto the loop thread) and read by the engine on the
loop thread. Every delay stored here is in *unscaled* seconds; the engine multiplies it by
the simulator's ``time_scale`` when it arms a timer.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Union

import attrs

from relaysync.testing.caller import Caller

#: Dial/connect outcomes and the ``end_reason`` a leg that does not answer ends with.
DIAL_OUTCOMES: Dict[str, Optional[str]] = {
    "answer": None,
    "busy": "busy",
    "no-answer": "noAnswer",
    "decline": "decline",
    "fail": "error",
}

#: Final REFER states and their default (REFER response, NOTIFY response) codes.
REFER_DEFAULT_CODES: Dict[str, Tuple[str, str]] = {
    "success": ("202", "200"),
    "busy": ("202", "486"),
    "noAnswer": ("202", "480"),
    "cancel": ("202", "487"),
    "error": ("202", "503"),
}

DEFAULT_DIAL_DELAY = 0.5
DEFAULT_REFER_DELAY = 0.3
DEFAULT_AUDIO_SECONDS = 2.0


@attrs.frozen
class DialScript:
    """How a dialled or connected device reacts.

    Attributes:
        outcome: one of :data:`DIAL_OUTCOMES`.
        delay: unscaled seconds from ``ringing`` to the outcome.
    """

    outcome: str = "answer"
    delay: float = DEFAULT_DIAL_DELAY

    @property
    def end_reason(self) -> Optional[str]:
        """The ``end_reason`` of a leg with this outcome, ``None`` when it answers."""
        return DIAL_OUTCOMES[self.outcome]


@attrs.frozen
class ReferScript:
    """How a REFER target reacts.

    Attributes:
        state: the final ``calling.call.refer`` state.
        sip_refer_response_code: response to the REFER (string).
        sip_notify_response_code: final NOTIFY code (string).
        delay: unscaled seconds from ``inProgress`` to the final state.
    """

    state: str = "success"
    sip_refer_response_code: str = "202"
    sip_notify_response_code: str = "200"
    delay: float = DEFAULT_REFER_DELAY


def _code(value: Union[str, int, None], default: str, name: str) -> str:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{name} must be a str or an int, got {type(value).__name__}")
    return str(value)


def _delay(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


class Scripts:
    """The scripting tables of one simulator (loop thread only)."""

    def __init__(self) -> None:
        self._dial: Dict[str, DialScript] = {}
        self._refer: Dict[str, ReferScript] = {}
        self._media: Dict[str, float] = {}
        self._callers: Dict[str, Caller] = {}

    @staticmethod
    def make_dial(outcome: str, delay: float) -> DialScript:
        """Validate and build a :class:`DialScript`.

        Raises:
            ValueError: unknown ``outcome`` or a negative ``delay``.
        """
        if outcome not in DIAL_OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(DIAL_OUTCOMES)}, got {outcome!r}")
        return DialScript(outcome, _delay(delay, "delay"))

    @staticmethod
    def make_refer(
        state: str,
        refer_code: Union[str, int, None],
        notify_code: Union[str, int, None],
        delay: float,
    ) -> ReferScript:
        """Validate and build a :class:`ReferScript`, filling in default SIP codes.

        Raises:
            ValueError: unknown ``state`` or a negative ``delay``.
            TypeError: a code that is neither ``str`` nor ``int``.
        """
        if state not in REFER_DEFAULT_CODES:
            raise ValueError(f"state must be one of {sorted(REFER_DEFAULT_CODES)}, got {state!r}")
        default_refer, default_notify = REFER_DEFAULT_CODES[state]
        return ReferScript(
            state,
            _code(refer_code, default_refer, "sip_refer_response_code"),
            _code(notify_code, default_notify, "sip_notify_response_code"),
            _delay(delay, "delay"),
        )

    def set_dial(self, target: str, script: DialScript) -> None:
        """Script every later dial/connect leg to ``target``."""
        self._dial[target] = script

    def dial_for(self, target: Optional[str]) -> DialScript:
        """Return the script for ``target``; unscripted targets answer after 0.5 s."""
        return self._dial.get(target or "", DialScript())

    def set_refer(self, target: str, script: ReferScript) -> None:
        """Script every later REFER to ``target``."""
        self._refer[target] = script

    def refer_for(self, target: str) -> ReferScript:
        """Return the script for ``target``; unscripted targets succeed (202/200)."""
        return self._refer.get(target, ReferScript())

    def set_media_duration(self, url: str, seconds: float) -> None:
        """Set how long the audio file at ``url`` plays, in unscaled seconds."""
        self._media[url] = _delay(seconds, "seconds")

    def audio_duration(self, url: str) -> float:
        """Return the scripted length of ``url``, else :data:`DEFAULT_AUDIO_SECONDS`."""
        return self._media.get(url, DEFAULT_AUDIO_SECONDS)

    def caller_template(self, number: str) -> Caller:
        """The script for calls to or from ``number`` (created empty on first use)."""
        return self._callers.setdefault(number, Caller())

    def new_caller(self, number: Optional[str]) -> Caller:
        """A caller for a new call with ``number`` at its far end: a copy of the script
        kept for it (its queued inputs move to this call), else an unscripted one."""
        template = self._callers.get(number or "")
        if template is None:
            return Caller()
        twin = template.copy()
        template.inputs.clear()
        return twin
