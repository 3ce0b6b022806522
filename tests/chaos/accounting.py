"""Event accounting of a chaos round: the simulator's sent log against what user code saw.

For every call of the round, the events the simulator wrote (its journal, each id once;
redeliveries carry the same id) up to and including the call's ``ended`` state event
are compared with the events that reached user code: the call's own ``events()`` history
and the ``call.on("*")`` callback. An event missing from both is *lost*, unless it was
sent on a session that a restart made the server forget (documented: the client reports
``session_resumed`` False) or it came after the client already knew the call was gone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Set, Tuple

from relaysync import Call
from relaysync.constants import CALL_ENDED, EVENT_CALL_STATE
from relaysync.testing import RelaySimulator

from .flows import FlowRecord, history


@dataclass
class EventTally:
    """Event figures of one round (or the sum of several)."""

    sent: int = 0
    received: int = 0
    lost: int = 0
    lost_to_restart: int = 0
    after_gone: int = 0
    callbacks_twice: int = 0
    applied_twice: int = 0
    examples: List[str] = field(default_factory=list)

    def add(self, other: EventTally) -> None:
        """Add ``other``'s figures to these."""
        for name in (
            "sent",
            "received",
            "lost",
            "lost_to_restart",
            "after_gone",
            "callbacks_twice",
            "applied_twice",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.examples.extend(other.examples[: max(0, 5 - len(self.examples))])


def sent_events(sim: RelaySimulator) -> Dict[str, List[Tuple[str, str, bool]]]:
    """Per call id: ``(event id, session id, is its ended state)`` in send order, once each."""
    per_call: Dict[str, List[Tuple[str, str, bool]]] = {}
    known: Set[str] = set()
    for entry in sim.journal.entries:
        frame = entry.frame
        if entry.direction != "out" or not isinstance(frame, dict):
            continue
        if frame.get("method") != "signalwire.event":
            continue
        event_id = frame.get("id")
        outer = frame.get("params")
        if not isinstance(event_id, str) or event_id in known or not isinstance(outer, dict):
            continue
        inner = outer.get("params")
        call_id = inner.get("call_id") if isinstance(inner, dict) else None
        if not isinstance(call_id, str):
            continue
        known.add(event_id)
        ended = (
            outer.get("event_type") == EVENT_CALL_STATE
            and isinstance(inner, dict)
            and inner.get("call_state") == CALL_ENDED
        )
        per_call.setdefault(call_id, []).append((event_id, entry.session_id or "", ended))
    return per_call


def tally(sim: RelaySimulator, flows: Iterable[FlowRecord], restarted: Iterable[str]) -> EventTally:
    """Compare what the simulator sent for the flows' calls with what user code saw.

    Args:
        sim: the simulator (its journal must hold the whole round).
        flows: the round's flows, their handlers returned and callbacks drained.
        restarted: ids of the sessions a restart made the simulator forget.
    """
    result = EventTally()
    forgotten = set(restarted)
    sent = sent_events(sim)
    by_call: Dict[str, List[Call]] = {}
    seen: Dict[str, Counter[str]] = {}
    for flow in flows:
        for call in flow.calls:
            by_call.setdefault(call.call_id, []).append(call)
            seen[call.call_id] = flow.seen  # one flow per call id
    for call_id, calls in by_call.items():
        received: Set[str] = set()
        knew_gone = False
        for call in calls:
            applied = Counter(e.event_id for e in history(call))
            result.applied_twice += sum(1 for n in applied.values() if n > 1)
            received.update(i for i in applied if i)
            has_ended_event = any(
                e.event_type == EVENT_CALL_STATE and getattr(e, "call_state", None) == CALL_ENDED
                for e in history(call)
            )
            knew_gone = knew_gone or (call.ended and not has_ended_event)
        callbacks = seen.get(call_id, Counter())
        result.callbacks_twice += sum(1 for n in callbacks.values() if n > 1)
        received.update(i for i in callbacks if i)
        for event_id, session_id, ended in sent.get(call_id, []):
            result.sent += 1
            if event_id in received:
                result.received += 1
            elif session_id in forgotten:
                result.lost_to_restart += 1
            elif knew_gone:
                result.after_gone += 1
            else:
                result.lost += 1
                if len(result.examples) < 5:
                    result.examples.append(f"call {call_id}: event {event_id} never seen")
            if ended:
                break
    return result
