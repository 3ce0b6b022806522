"""Places several calls share: conferences, queues and video rooms.

Runs on the simulator loop thread.

Conferences (``calling.join_conference`` / ``calling.leave_conference``): a conference
is created by the first call that joins its ``name`` and holds every call that joins it
(an answered call, in one conference at a time, ``409`` otherwise or when
``max_participants`` is reached). ``calling.conference`` events go to the sessions of
every participant: ``conference-start`` (no ``call_id``) when it is created,
``participant-join`` / ``participant-leave`` (with ``call_id``, ``muted`` and
``coach`` as the call joined with them)
as calls join and leave (a call that ends leaves), and ``conference-end`` when the last
one leaves or one that joined with ``end_on_exit`` leaves (the others leave first).
Options are checked where RELAY documents values: ``beep`` true/false/onEnter/onExit,
``max_participants`` 1-250, ``record`` do-not-record/record-from-start,
``status_callback_event_type`` relay/cxml.

Queues (``calling.queue.enter`` / ``calling.queue.leave``): ``calling.call.queue``
``enqueue`` with the call's entry ``id``, ``name``, ``position`` and ``size``, then
``leave`` (on leave, or when the call ends) or ``dequeue`` (``sim.dequeue(name)``:
the oldest entry, ``control_id`` null). Times are µs since the epoch.

Rooms (``calling.join_room`` / ``calling.leave_room``): membership only, no events.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Dict, List, Optional

import attrs

from relaysync.constants import CALL_ANSWERED, EVENT_CALL_QUEUE, EVENT_CONFERENCE
from relaysync.testing.replies import invalid_params, require_str, result

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

BEEP_VALUES = ("true", "false", "onEnter", "onExit")
RECORD_VALUES = ("do-not-record", "record-from-start")


def _us() -> int:
    return int(time.time() * 1_000_000)


@attrs.define(eq=False)
class _Conference:
    name: str
    conference_id: str
    max_participants: int = 250
    members: Dict[str, Params] = attrs.field(factory=dict)  # call_id -> join options
    calls: Dict[str, CallRecord] = attrs.field(factory=dict)


@attrs.define(eq=False)
class _Entry:
    entry_id: str
    name: str
    call: CallRecord
    control_id: Optional[str]
    enqueue_ts: int = attrs.field(factory=_us)


class Rooms:
    """Conferences, queues and rooms (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self._conferences: Dict[str, _Conference] = {}
        self._queues: Dict[str, List[_Entry]] = {}
        self.rooms: Dict[str, str] = {}  # call_id -> room name
        engine.on_ending(self._call_ending)

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        return {
            "calling.join_conference": wrap(self._join),
            "calling.leave_conference": wrap(self._leave),
            "calling.queue.enter": wrap(self._enter),
            "calling.queue.leave": wrap(self._queue_leave),
            "calling.join_room": wrap(self._join_room),
            "calling.leave_room": wrap(self._leave_room),
        }

    # -- conferences --------------------------------------------------------------------

    def participants(self, name: str) -> List[str]:
        """The ``call_id`` of each call in conference ``name``, in join order."""
        conference = self._conferences.get(name)
        return list(conference.calls) if conference else []

    def _broadcast(self, conference: _Conference, body: Params) -> None:
        params = {"conference_id": conference.conference_id, "name": conference.name, **body}
        sent = set()
        for call in conference.calls.values():
            with self._engine.cond:
                call.events.append({"event_type": EVENT_CONFERENCE, "params": params})
                self._engine.changed()
            if call.session is not None and call.session.id not in sent:
                sent.add(call.session.id)
                self._engine.core.send_event(call.session, EVENT_CONFERENCE, params)

    def _in_conference(self, call: CallRecord) -> Optional[_Conference]:
        return next((c for c in self._conferences.values() if call.call_id in c.calls), None)

    def _join(self, session: Session, call: CallRecord, params: Params) -> Params:
        name = require_str(params, "name")
        if params.get("beep", "true") not in BEEP_VALUES:
            raise invalid_params("beep must be true, false, onEnter or onExit")
        most = params.get("max_participants", 250)
        if isinstance(most, bool) or not isinstance(most, int) or not 1 <= most <= 250:
            raise invalid_params("max_participants must be an integer from 1 to 250")
        if params.get("record", "do-not-record") not in RECORD_VALUES:
            raise invalid_params("record must be do-not-record or record-from-start")
        if params.get("status_callback_event_type", "relay") not in ("relay", "cxml"):
            raise invalid_params("status_callback_event_type must be relay or cxml")
        if call.state != CALL_ANSWERED:
            return result("409", "Call is not answered", call_id=call.call_id)
        if self._in_conference(call) is not None:
            return result("409", "Call is already in a conference", call_id=call.call_id)
        conference = self._conferences.get(name)
        if conference is not None and len(conference.calls) >= conference.max_participants:
            return result("409", "Conference is full", call_id=call.call_id)
        fresh = conference is None
        if conference is None:
            conference = _Conference(name, str(uuid.uuid4()), most)
            self._conferences[name] = conference
        conference.calls[call.call_id] = call
        conference.members[call.call_id] = dict(params)
        joined = conference

        def announce() -> None:
            if fresh:
                self._broadcast(joined, {"status": "conference-start"})
            self._broadcast(joined, self._member(joined, call, "participant-join"))

        self._engine.after_reply(announce)
        return result(
            "200", "Joining conference", call_id=call.call_id, conference_id=joined.conference_id
        )

    @staticmethod
    def _member(conference: _Conference, call: CallRecord, status: str) -> Params:
        options = conference.members.get(call.call_id, {})
        return {
            "status": status,
            "call_id": call.call_id,
            "node_id": call.node_id,
            "muted": options.get("muted", False),
            "coach": options.get("coach"),
        }

    def _leave(self, session: Session, call: CallRecord, params: Params) -> Params:
        conference_id = require_str(params, "conference_id")
        conference = self._in_conference(call)
        if conference is None or conference.conference_id != conference_id:
            return result("404", "Conference not found", call_id=call.call_id)
        self._engine.after_reply(lambda: self._remove(conference, call))
        return result("200", "Leaving conference", call_id=call.call_id)

    def _remove(self, conference: _Conference, call: CallRecord) -> None:
        if call.call_id not in conference.calls:
            return
        self._broadcast(conference, self._member(conference, call, "participant-leave"))
        options = conference.members.pop(call.call_id, {})
        del conference.calls[call.call_id]
        ends = bool(options.get("end_on_exit")) or not conference.calls
        if options.get("end_on_exit"):
            for other in list(conference.calls.values()):
                self._broadcast(conference, self._member(conference, other, "participant-leave"))
        if ends:
            if not conference.calls:
                conference.calls[call.call_id] = call  # the last one hears the end
            self._broadcast(conference, {"status": "conference-end"})
            self._conferences.pop(conference.name, None)
            conference.calls.clear()
            conference.members.clear()

    # -- queues -------------------------------------------------------------------------

    def _queue_event(self, entry: _Entry, status: str, position: int, **times: int) -> None:
        queue = self._queues.get(entry.name, [])
        body: Params = {
            "status": status,
            "id": entry.entry_id,
            "name": entry.name,
            "position": position,
            "size": len(queue),
            "avg_time": 0,
            "enqueue_ts": entry.enqueue_ts,
            "dequeue_ts": 0,
            "leave_ts": 0,
            "control_id": entry.control_id,
            "call_id": entry.call.call_id,
            "node_id": entry.call.node_id,
            **times,
        }
        self._engine.emit(entry.call, EVENT_CALL_QUEUE, body)

    def _entry(self, call: CallRecord) -> Optional[_Entry]:
        for entries in self._queues.values():
            for entry in entries:
                if entry.call is call:
                    return entry
        return None

    def _enter(self, session: Session, call: CallRecord, params: Params) -> Params:
        name = require_str(params, "queue_name")
        control_id = require_str(params, "control_id")
        if self._entry(call) is not None:
            return result("409", "Call is already in a queue", call_id=call.call_id)
        entry = _Entry(str(uuid.uuid4()), name, call, control_id)
        queue = self._queues.setdefault(name, [])
        queue.append(entry)
        position = len(queue)
        self._engine.after_reply(lambda: self._queue_event(entry, "enqueue", position))
        return result("200", "Entering Queue", call_id=call.call_id, control_id=control_id)

    def _queue_leave(self, session: Session, call: CallRecord, params: Params) -> Params:
        name = require_str(params, "queue_name")
        control_id = require_str(params, "control_id")
        entry = self._entry(call)
        queue_id = params.get("queue_id")
        if entry is None or entry.name != name or queue_id not in (None, entry.entry_id):
            return result("404", "Queue entry not found", call_id=call.call_id)
        entry.control_id = control_id
        self._engine.after_reply(lambda: self._take(entry, "leave"))
        return result("200", "Leaving Queue", call_id=call.call_id, control_id=control_id)

    def _take(self, entry: _Entry, status: str) -> None:
        queue = self._queues.get(entry.name, [])
        if entry not in queue:
            return
        queue.remove(entry)
        if not queue:
            self._queues.pop(entry.name, None)
        stamp = {"leave_ts": _us()} if status == "leave" else {"dequeue_ts": _us()}
        if status == "dequeue":
            entry.control_id = None
        self._queue_event(entry, status, 0, **stamp)

    def dequeue(self, name: str) -> Optional[str]:
        """Take the oldest call out of queue ``name``; return its ``call_id``."""
        queue = self._queues.get(name)
        if not queue:
            return None
        entry = queue[0]
        self._take(entry, "dequeue")
        return entry.call.call_id

    # -- rooms --------------------------------------------------------------------------

    def _join_room(self, session: Session, call: CallRecord, params: Params) -> Params:
        self.rooms[call.call_id] = require_str(params, "name")
        return result("200", "Joining room", call_id=call.call_id)

    def _leave_room(self, session: Session, call: CallRecord, params: Params) -> Params:
        if self.rooms.pop(call.call_id, None) is None:
            return result("404", "Call is not in a room", call_id=call.call_id)
        return result("200", "Leaving room", call_id=call.call_id)

    def _call_ending(self, call: CallRecord) -> None:
        conference = self._in_conference(call)
        if conference is not None:
            self._remove(conference, call)
        entry = self._entry(call)
        if entry is not None:
            self._take(entry, "leave")
        self.rooms.pop(call.call_id, None)


__all__: List[str] = ["Rooms"]
