"""Playing the server side of a cassette: ``RelaySimulator(replay="session.jsonl")``.

A cassette (:mod:`relaysync.cassette`) holds what one client sent and read. Replaying
it, the simulator answers each request of the client under test with the recorded reply
of the matching recorded request, and sends the events that followed that request, with
their recorded gaps (times ``time_scale``); the events no request caused (inbound call
offers, inbound messages) are sent at their recorded times after the client connects.

Matching: a request matches an unused recorded request of the same method whose params
are equal once the ids that change from one session to the next are set aside
(:data:`~relaysync.testing.replay_match.ID_KEYS`), the recorded ids already replaced by
this run's (the session's protocol, which is also the default messaging context), and
the secrets masked as the cassette masks them; a recorded request of the same call is
preferred. When none is equal, the first unused one of the same method (of the same
call, if any) is taken and the difference is reported, so the flow goes on and the
report names what changed. The client's own ids (``control_id``, ``tag``) in the
recorded replies and events are replaced by the ones this run sends; RELAY's ids
(``call_id``, ``node_id``, ``message_id``) are the recorded ones, which the client
then uses.

An event belongs to the latest earlier request that shares its ``control_id``,
``tag``, ``message_id`` or ``call_id``. The connect handshake, pings and the
authorization state stay with the simulator's own session layer.

:meth:`ReplayServer.report` lists the divergences: requests the cassette does not hold,
params that differ (one line per difference), recorded requests never made.
Everything here runs on the simulator's loop thread, except :meth:`ReplayServer.report`
callers, who go through :meth:`~relaysync.testing.sessiontable.SessionTable.run_sync`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from .. import constants as C
from ..cassette import IN, OUT, CassetteEntry
from .core import SimCore
from .methods import METHODS
from .replay_match import (
    MISSING,
    PARAMS,
    UNEXPECTED,
    Divergence,
    comparable,
    differences,
    id_pairs,
    ids_in,
    remap,
)
from .sessions import RpcFault, Session

logger = logging.getLogger("relaysync.simulator")

Params = Dict[str, Any]
Timed = Tuple[float, Params]

#: The client's own ids, mapped from the recorded ones to this run's.
CLIENT_IDS = frozenset({"control_id", "tag"})
# The ids that attribute an event to a request.
_EVENT_KEYS = ("control_id", "tag", "message_id", "call_id")
_SESSION_METHODS = frozenset({C.METHOD_CONNECT, C.METHOD_PING})
# Methods a client may send that no operation declaration names.
_OTHER_METHODS = ("signalwire.receive", "signalwire.unreceive", "messaging.send")
NOT_IN_CASSETTE = -32601
#: Events closer than this (seconds, scaled) go out together, as they arrived together.
BURST = 0.002


class RecordedRequest:
    """A request of the cassette, with its reply and the events it caused."""

    __slots__ = ("compared", "events", "ids", "method", "params", "reply", "t", "used")

    def __init__(self, t: float, method: str, params: Params) -> None:
        self.t = t
        self.method = method
        self.params = params
        self.compared = comparable(params)
        self.reply: Optional[Params] = None
        self.events: List[Timed] = []
        self.ids: Set[str] = set(ids_in(params))
        self.used = False


class Script:
    """A cassette cut into requests (with their replies and events) and the events no
    request caused.

    Args:
        entries: the cassette's entries, in order.
    """

    def __init__(self, entries: Sequence[CassetteEntry]) -> None:
        self.requests: List[RecordedRequest] = []
        self.spontaneous: List[Timed] = []
        self.anchor = 0.0  # when the first session was up, in cassette time
        self.protocol: Optional[str] = None
        self.contexts: List[str] = []
        by_frame_id: Dict[Any, RecordedRequest] = {}
        latest: Dict[str, RecordedRequest] = {}  # id -> latest request carrying it
        for entry in entries:
            frame = entry.frame
            method = frame.get("method")
            if entry.dir == OUT and isinstance(method, str) and "id" in frame:
                params = frame.get("params")
                params = params if isinstance(params, dict) else {}
                if method == C.METHOD_CONNECT:
                    self._connect_params(params)
                    by_frame_id[frame["id"]] = _HANDSHAKE
                if method in _SESSION_METHODS:
                    continue
                if method == "signalwire.receive":
                    self._add_contexts(params.get("contexts"))
                request = RecordedRequest(entry.t, method, params)
                self.requests.append(request)
                by_frame_id[frame["id"]] = request
                for value in request.ids:
                    latest[value] = request
            elif entry.dir == IN and method is None:
                owner = by_frame_id.pop(frame.get("id"), None)
                if owner is _HANDSHAKE:
                    self._connected(entry.t, frame)
                elif owner is not None:
                    owner.reply = frame
                    for value in ids_in(frame.get("result")):
                        owner.ids.add(value)
                        latest[value] = owner
            elif entry.dir == IN and method == C.METHOD_EVENT:
                payload = frame.get("params")
                if not isinstance(payload, dict) or not isinstance(payload.get("params"), dict):
                    continue
                if payload.get("event_type") == C.EVENT_AUTHORIZATION_STATE:
                    continue
                owner = _owner(payload["params"], latest)
                if owner is None:
                    self.spontaneous.append((entry.t, payload))
                else:
                    owner.events.append((entry.t, payload))

    def _connect_params(self, params: Params) -> None:
        if not self.contexts:
            self._add_contexts(params.get("contexts"))

    def _add_contexts(self, contexts: Any) -> None:
        if isinstance(contexts, list):
            for context in contexts:
                if isinstance(context, str) and context not in self.contexts:
                    self.contexts.append(context)

    def _connected(self, t: float, frame: Params) -> None:
        result = frame.get("result")
        if self.protocol is None and isinstance(result, dict):
            protocol = result.get("protocol")
            self.protocol = protocol if isinstance(protocol, str) else None
            self.anchor = t

    @property
    def methods(self) -> Set[str]:
        """Every method the cassette's client sent (the session layer's excepted)."""
        return {r.method for r in self.requests}


_HANDSHAKE = RecordedRequest(0.0, C.METHOD_CONNECT, {})


def _owner(params: Params, latest: Dict[str, RecordedRequest]) -> Optional[RecordedRequest]:
    """The request an event with these inner params follows, if any: the latest one
    that carries one of its ids."""
    owner: Optional[RecordedRequest] = None
    for key in _EVENT_KEYS:
        value = params.get(key)
        if key == "call_id" and not isinstance(value, str):
            call = params.get("call")
            value = call.get("call_id") if isinstance(call, dict) else None
        found = latest.get(value) if isinstance(value, str) else None
        if found is not None and (owner is None or found.t > owner.t):
            owner = found
    return owner


class ReplayServer:
    """Answers every client method of a :class:`SimCore` from a cassette.

    Args:
        core: the simulator core to install on.
        entries: the cassette.
    """

    def __init__(self, core: SimCore, entries: Sequence[CassetteEntry]) -> None:
        self._core = core
        self.script = Script(entries)
        self._ids: Dict[str, str] = {}  # recorded id -> this run's
        self._divergences: List[Divergence] = []
        self._started = False

    def install(self) -> None:
        """Take over every method the client may send (loop thread, or before start)."""
        names: Set[str] = set(METHODS) | set(_OTHER_METHODS) | self.script.methods
        for method in sorted(names - _SESSION_METHODS):
            self._core.register_method(method, self._handler(method))
        self._core.add_session_listener(self._session_changed)

    def report(self) -> List[Divergence]:
        """The divergences so far, recorded requests not (yet) made included (loop thread)."""
        missing = [
            Divergence(MISSING, r.method, (_one_line(r.params),), r.t)
            for r in self.script.requests
            if not r.used
        ]
        return [*self._divergences, *missing]

    # ------------------------------------------------------------------ internals

    def _handler(self, method: str) -> Callable[[Session, Params], Params]:
        def handle(session: Session, params: Params) -> Params:
            return self._answer(session, method, params)

        return handle

    def _answer(self, session: Session, method: str, params: Params) -> Params:
        request, diff = self._match(method, params)
        if request is None:
            self._divergences.append(Divergence(UNEXPECTED, method, (_one_line(params),)))
            logger.warning("replay: %s is not in the cassette", method)
            raise RpcFault(NOT_IN_CASSETTE, f"{method} is not in the cassette being replayed")
        request.used = True
        for recorded, live in id_pairs(request.params, params, CLIENT_IDS).items():
            self._ids.setdefault(recorded, live)
        if diff:
            self._divergences.append(Divergence(PARAMS, method, tuple(diff), request.t))
            logger.warning("replay: %s differs from the recording: %s", method, "; ".join(diff))
        self._play(session, request.events, request.t)
        reply = request.reply
        if reply is None:
            return {"code": "200", "message": "no reply was recorded"}
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            code = error.get("code")
            raise RpcFault(
                code if isinstance(code, int) else -32603,
                str(error.get("message", "")),
                error.get("data") if isinstance(error.get("data"), dict) else None,
            )
        result = reply.get("result")
        return remap(result, self._ids) if isinstance(result, dict) else {}

    def _match(self, method: str, params: Params) -> Tuple[Optional[RecordedRequest], List[str]]:
        """The recorded request ``params`` answers to, and how its params differ."""
        candidates = [r for r in self.script.requests if not r.used and r.method == method]
        if not candidates:
            return None, []
        live = comparable(params)
        call_id = params.get("call_id")

        def compared(request: RecordedRequest) -> Any:
            # recorded ids this run already replaced (protocol, tags) compare as equal
            return comparable(remap(request.params, self._ids)) if self._ids else request.compared

        same_call = [r for r in candidates if r.params.get("call_id") == call_id]
        for request in same_call:
            if compared(request) == live:
                return request, []
        if same_call:
            chosen = same_call[0]
            return chosen, differences(compared(chosen), live) or ["params differ"]
        chosen = next((r for r in candidates if compared(r) == live), candidates[0])
        lines = differences(compared(chosen), live)
        if isinstance(call_id, str):
            lines.insert(0, f"params.call_id: no such request was recorded for call {call_id}")
        return chosen, lines or ["params differ"]

    def _session_changed(self, session: Session, what: str) -> None:
        if what != "online" or session.control or self._started:
            return
        self._started = True
        if self.script.protocol and session.protocol:
            self._ids.setdefault(self.script.protocol, session.protocol)
        self._play(session, self.script.spontaneous, self.script.anchor)

    def _play(self, session: Session, events: List[Timed], since: float) -> None:
        """Send ``events`` one after the other, each after its recorded gap."""
        if not events:
            return
        scale = self._core.time_scale

        def step(index: int) -> None:
            while True:
                t, payload = events[index]
                params = remap(payload.get("params"), self._ids)
                self._core.send_event(session, str(payload.get("event_type")), params)
                index += 1
                if index == len(events):
                    return
                gap = max(0.0, events[index][0] - t) * scale
                if gap >= BURST:
                    break
            self._core.call_later(gap, lambda: step(index))

        self._core.call_later(max(0.0, events[0][0] - since) * scale, lambda: step(0))


def _one_line(params: Params, limit: int = 160) -> str:
    text = f"params {comparable(params)!r}"
    return text if len(text) <= limit else text[:limit] + "…"


__all__ = ["CLIENT_IDS", "RecordedRequest", "ReplayServer", "Script"]
