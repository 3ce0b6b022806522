"""Inbound calls: offering them round-robin to subscribed sessions, ``calling.pass``, ring timeout.

Runs on the simulator loop thread. An inbound call is offered to one online session
subscribed to its context (``calling.call.receive`` with ``call_state: created``, then a
``ringing`` state event); sessions of a context take turns. ``calling.pass`` moves the
offer to a subscribed session that has not had it yet. The call ends ``abandoned`` when
there is nobody (left) to offer it to and ``noAnswer`` when the ring timeout passes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, Optional

from relaysync.constants import CALL_ANSWERED, CALL_RINGING, EVENT_CALL_RECEIVE
from relaysync.testing.replies import result

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

log = logging.getLogger("relaysync.simulator.calls")

#: end_reason when no subscribed session is left to offer the call to.
NOBODY_LEFT = "abandoned"
#: end_reason when nobody answered within the ring timeout.
RING_TIMEOUT = "noAnswer"
#: Real seconds an inbound call rings when no ring timeout is given (not scaled: the
#: client must answer within it, however short the time_scale makes the media).
DEFAULT_RING_SECONDS = 30.0


class InboundOffers:
    """Offers inbound calls and tracks which are still ringing (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self._next: Dict[str, int] = {}  # context -> round-robin position
        self._ringing: Dict[str, Any] = {}  # call_id -> ring-timeout timer
        engine.on_ending(self._forget)

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements (``calling.pass``)."""
        return {"calling.pass": self._engine.call_handler(self._pass)}

    def start(self, context: str, from_: str, to: str, ring_timeout: Optional[float]) -> CallRecord:
        """Create an inbound call on ``context`` and offer it.

        Args:
            context: the context it arrives on.
            from_: caller number.
            to: called number.
            ring_timeout: unscaled seconds until an unanswered call ends ``noAnswer``
                (``None``: :data:`DEFAULT_RING_SECONDS` of real time).

        Returns:
            The call record (it may already have ended ``abandoned``).
        """
        engine = self._engine
        device = {"type": "phone", "params": {"from_number": from_, "to_number": to}}
        call = engine.new_call(
            direction="inbound",
            device=device,
            tag="",
            session=None,
            created_by="receive",
            context=context,
        )
        if ring_timeout is None:
            timer = engine.core.call_later(DEFAULT_RING_SECONDS, lambda: self._timed_out(call))
        else:
            timer = engine.later(ring_timeout, lambda: self._timed_out(call))
        self._ringing[call.call_id] = timer
        log.debug("inbound call %s on context %r from %s to %s", call.call_id, context, from_, to)
        self._offer_next(call)
        return call

    def claim(self, call: CallRecord, session: Session) -> None:
        """``session`` answers ``call``: stop the ring timer and make it the owner."""
        timer = self._ringing.pop(call.call_id, None)
        if timer is None:
            return
        timer.cancel()
        with self._engine.cond:
            call.session = session

    def reoffer_if_ringing(self, call: CallRecord) -> bool:
        """Offer a still-ringing inbound call to the next session (its holder went away).

        The caller has already detached the call from the departed session, so an
        ``abandoned`` end is reported to nobody.

        Returns:
            ``True`` if ``call`` was ringing and has been re-offered (or ended).
        """
        if call.call_id not in self._ringing:
            return False
        self._offer_next(call)
        return True

    def _pick(self, call: CallRecord) -> Optional[Session]:
        context = call.context or ""
        sessions = self._engine.core.sessions_for_context(context)
        start = self._next.get(context, 0)
        for i in range(len(sessions)):
            index = (start + i) % len(sessions)
            if sessions[index].id not in call.offered_to:
                self._next[context] = index + 1
                return sessions[index]
        return None

    def _offer_next(self, call: CallRecord) -> None:
        engine = self._engine
        session = self._pick(call)
        if session is None:
            log.info(
                "inbound call %s on context %r: no subscribed session left, ending it",
                call.call_id,
                call.context,
            )
            engine.end_call(call, NOBODY_LEFT, via_ending=False)
            return
        with engine.cond:
            call.session = session
            call.offered_to.append(session.id)
        engine.emit(
            call,
            EVENT_CALL_RECEIVE,
            {
                "call_id": call.call_id,
                "node_id": call.node_id,
                "tag": call.tag,
                "call_state": "created",
                "direction": call.direction,
                "context": call.context,
                "device": call.device,
                "project_id": engine.core.project,
            },
        )
        engine.set_state(call, CALL_RINGING)

    def _pass(self, session: Session, call: CallRecord, params: Params) -> Params:
        if call.call_id not in self._ringing or call.state == CALL_ANSWERED:
            return result("409", "Only a ringing inbound call can be passed", call_id=call.call_id)
        if call.session is not session:
            return result("409", "The call is not offered to this session", call_id=call.call_id)

        def passed() -> None:
            if call.live and call.session is session and call.call_id in self._ringing:
                self._offer_next(call)

        self._engine.after_reply(passed)
        return result("200", "Passing call", call_id=call.call_id)

    def _timed_out(self, call: CallRecord) -> None:
        if self._ringing.pop(call.call_id, None) is not None and call.live:
            self._engine.end_call(call, RING_TIMEOUT, via_ending=False)

    def _forget(self, call: CallRecord) -> None:
        timer = self._ringing.pop(call.call_id, None)
        if timer is not None:
            timer.cancel()
