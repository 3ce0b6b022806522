"""When an operation is over: the settling rules that are more than a set of states.

Most operations settle when their event's state is in a declared set (see
:mod:`relaysync.operations`). The rules here read more than one field, keep a little
progress between events, and avoid the early settles the official SDKs fall into
(PROTOCOL.md §2.5.6 to 2.5.8, §7). Each takes the action's :class:`Progress` and the event,
and runs on the reader thread with the call's lock held.
"""

from __future__ import annotations

from typing import Any, Dict, List

import attrs

from . import constants as C
from .events import CollectEvent, DetectEvent, FaxEvent, PayEvent, RelayEvent
from .results import CollectResult


@attrs.define
class Progress:
    """What an action has seen so far.

    Attributes:
        options: client-side options that shape settling (``continuous``,
            ``wait_for_beep``), never sent.
        results: final collect results received so far (continuous collects).
        overrides: result fields that win over the settling event's own.
    """

    options: Dict[str, Any] = attrs.field(factory=dict)
    results: List[CollectResult] = attrs.field(factory=list)
    overrides: Dict[str, Any] = attrs.field(factory=dict)


def collect_settles(progress: Progress, event: RelayEvent) -> bool:
    """A collect is over on a final result, or on a final state without one.

    Partial results (``final: false``) and ``start_of_input`` never settle it. With
    ``continuous`` it settles only on ``state`` finished or error, and every final
    result before that is kept in ``progress.results``.
    """
    if not isinstance(event, CollectEvent):
        return False  # play_and_collect's play events never settle it
    kind = event.result_type
    final_result = kind in C.COLLECT_RESULT_TYPES and event.final is not False
    if progress.options.get("continuous"):
        if final_result:
            result = CollectResult.from_event(event)
            progress.results.append(result)
            progress.overrides = {
                key: getattr(result, key)
                for key in ("type", "digits", "terminator", "text", "confidence")
            }
        return event.state in (C.COLLECT_FINISHED, C.COLLECT_ERROR)
    if final_result and event.state != C.COLLECT_COLLECTING:
        progress.results.append(CollectResult.from_event(event))
        return True
    return kind is None and event.state in C.COLLECT_FINAL_STATES


_CONCLUSIVE = {
    C.DETECT_MACHINE: frozenset({C.DETECT_HUMAN, C.DETECT_MACHINE_RESULT, C.DETECT_UNKNOWN}),
    C.DETECT_FAX: frozenset({C.DETECT_CED, C.DETECT_CNG}),
}


def detect_settles(progress: Progress, event: RelayEvent) -> bool:
    """A detect is over on its first conclusive result, or on finished / error.

    With the client option ``wait_for_beep``, ``MACHINE`` is remembered and the detect
    settles on the ``READY`` that follows (result ``MACHINE``, ``beep`` True).
    """
    if not isinstance(event, DetectEvent) or event.detect_event is None:
        return False
    value, kind = event.detect_event, event.detect_type
    if value in (C.DETECT_FINISHED, C.DETECT_ERROR):
        return True
    if kind == C.DETECT_DIGIT:
        return True
    if progress.options.get("wait_for_beep") and kind == C.DETECT_MACHINE:
        if value == C.DETECT_MACHINE_RESULT:
            progress.overrides["result"] = C.DETECT_MACHINE_RESULT
            return False
        if value == C.DETECT_READY and progress.overrides.get("result"):
            progress.overrides["beep"] = True
            return True
    conclusive = _CONCLUSIVE.get(kind or "", frozenset())
    return value in conclusive and not progress.overrides.get("result")


def fax_settles(progress: Progress, event: RelayEvent) -> bool:
    """A fax is over when ``fax.type`` is finished or error (there is no ``state``)."""
    return isinstance(event, FaxEvent) and event.fax_type in C.FAX_FINAL_TYPES


def pay_settles(progress: Progress, event: RelayEvent) -> bool:
    """A payment is over when the event carries a ``result`` (there is no ``state``)."""
    return isinstance(event, PayEvent) and event.result is not None


__all__ = ["Progress", "collect_settles", "detect_settles", "fax_settles", "pay_settles"]
