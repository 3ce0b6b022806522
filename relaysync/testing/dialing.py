"""Outbound legs: ``calling.dial``, ``calling.connect`` and ``calling.disconnect``.

Runs on the simulator loop thread. A device plan is a list of groups tried in series;
the devices of one group ring in parallel. Each leg emits ``created`` and ``ringing``
and then meets the outcome scripted with ``sim.on_dial(to, ...)`` (answer after 0.5 s by
default). The first leg of a group to answer wins and the other legs of the group end
``cancel``; when no leg of a group answers, the next group rings. The same scripting
table drives dial legs and connect (peer) legs.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Set

from relaysync.constants import (
    CALL_ANSWERED,
    CALL_CREATED,
    CALL_RINGING,
    EVENT_CALL_CONNECT,
    EVENT_CALL_DIAL,
)
from relaysync.testing.callmodel import device_target
from relaysync.testing.replies import invalid_params, require_str, result

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.scripts import DialScript
    from relaysync.testing.sessions import Session

log = logging.getLogger("relaysync.simulator.calls")

Device = Dict[str, Any]


def parse_devices(value: Any) -> List[List[Device]]:
    """Validate a wire device plan and return a copy of it.

    Args:
        value: ``devices`` from the request: a non-empty list of non-empty lists of
            phone (``params.to_number``), sip or webrtc (``params.to``) devices.

    Returns:
        The plan with each device copied (so later changes by the caller do not leak).

    Raises:
        RpcFault: ``INVALID_PARAMS`` saying which entry is wrong.
    """
    if not isinstance(value, list) or not value:
        raise invalid_params("devices must be a non-empty list of lists of devices")
    plan: List[List[Device]] = []
    for i, group in enumerate(value):
        if not isinstance(group, list) or not group:
            raise invalid_params(f"devices[{i}] must be a non-empty list of devices")
        plan.append([])
        for j, device in enumerate(group):
            if not isinstance(device, dict) or device_target(device) is None:
                raise invalid_params(
                    f"devices[{i}][{j}] must be a phone device with params.to_number or a "
                    "sip/webrtc device with params.to"
                )
            plan[-1].append({"type": device["type"], "params": dict(device["params"])})
    return plan


class LegPlan:
    """Rings one device plan for a dial or a connect (loop thread only).

    Args:
        engine: the call engine.
        session: where the legs' events go.
        groups: the validated device plan.
        tag: the tag every leg carries.
        created_by: ``dial`` or ``connect``.
        on_answered: ``fn(leg)`` after the winner answered and the losers ended.
        on_failed: ``fn(reason)`` after every group failed; ``reason`` is the
            ``end_reason`` of the last leg.
        parent: for connect, the call the legs are connected to (it becomes their peer).
        track: ``fn(leg, plan)`` run for every leg as it is created.
    """

    def __init__(
        self,
        engine: EngineApi,
        session: Optional[Session],
        groups: List[List[Device]],
        *,
        tag: str,
        created_by: str,
        on_answered: Callable[[CallRecord], None],
        on_failed: Callable[[str], None],
        parent: Optional[CallRecord] = None,
        track: Optional[Callable[[CallRecord, LegPlan], None]] = None,
    ) -> None:
        self.session = session
        self.done = False
        self._engine = engine
        self._groups = groups
        self._tag = tag
        self._created_by = created_by
        self._parent = parent
        self._on_answered = on_answered
        self._on_failed = on_failed
        self._group = -1
        self._pending: Dict[str, CallRecord] = {}
        self._timers: Dict[str, Any] = {}
        self._last_reason = "noAnswer"
        self._track = track

    def start(self) -> None:
        """Ring the first group."""
        self._next_group()

    def cancel(self) -> None:
        """Stop ringing: pending legs end ``cancel``; neither callback runs."""
        if self.done:
            return
        self.done = True
        for leg in list(self._pending.values()):
            self._drop(leg)
            self._engine.end_call(leg, "cancel", via_ending=False)

    def leg_ended(self, leg: CallRecord) -> None:
        """A leg of this plan ended (after its ``ended`` event): move on if it was the last."""
        if leg.call_id not in self._pending:
            return
        self._drop(leg)
        if self.done:
            return
        self._last_reason = leg.end_reason or self._last_reason
        if not self._pending:
            self._next_group()

    def _drop(self, leg: CallRecord) -> None:
        self._pending.pop(leg.call_id, None)
        timer = self._timers.pop(leg.call_id, None)
        if timer is not None:
            timer.cancel()

    def _next_group(self) -> None:
        engine = self._engine
        self._group += 1
        if self._group >= len(self._groups):
            self.done = True
            self._on_failed(self._last_reason)
            return
        for device in self._groups[self._group]:
            leg = engine.new_call(
                direction="outbound",
                device=device,
                tag=self._tag,
                session=self.session,
                created_by=self._created_by,
                parent=self._parent,
            )
            if self._track is not None:
                self._track(leg, self)
            self._pending[leg.call_id] = leg
            engine.set_state(leg, CALL_CREATED)
            engine.set_state(leg, CALL_RINGING)
            script = engine.scripts.dial_for(device_target(device))
            self._timers[leg.call_id] = engine.later(
                script.delay, functools.partial(self._outcome, leg, script)
            )

    def _outcome(self, leg: CallRecord, script: DialScript) -> None:
        self._timers.pop(leg.call_id, None)
        if self.done or not leg.live:
            return
        if script.end_reason is not None:
            self._engine.end_call(leg, script.end_reason, via_ending=False)
            return
        self.done = True
        self._pending.pop(leg.call_id, None)
        if self._parent is not None:
            with self._engine.cond:
                leg.peer, self._parent.peer = self._parent, leg
                self._parent.connect_owner = True
        self._engine.set_state(leg, CALL_ANSWERED)
        for loser in list(self._pending.values()):
            self._drop(loser)
            self._engine.end_call(loser, "cancel", via_ending=False)
        self._on_answered(leg)


class Dialer:
    """``calling.dial``, ``calling.connect`` and ``calling.disconnect`` (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self._by_leg: Dict[str, LegPlan] = {}  # ringing or winning leg -> its plan
        self._dials: Set[LegPlan] = set()  # dials still ringing
        self._connecting: Dict[str, LegPlan] = {}  # call_id of the connecting call -> plan
        engine.on_ending(self._call_ending)
        engine.on_ended(self._call_ended)

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        return {
            "calling.dial": self._dial,
            "calling.connect": self._engine.call_handler(self._connect),
            "calling.disconnect": self._engine.call_handler(self._disconnect),
        }

    def session_expired(self, session: Session) -> None:
        """Stop the dials of a session that will not come back."""
        for plan in [p for p in self._dials if p.session is session]:
            self._dials.discard(plan)
            plan.cancel()

    def _plan(
        self,
        session: Optional[Session],
        groups: List[List[Device]],
        tag: str,
        created_by: str,
        on_answered: Callable[[CallRecord], None],
        on_failed: Callable[[str], None],
        parent: Optional[CallRecord] = None,
    ) -> LegPlan:
        return LegPlan(
            self._engine,
            session,
            groups,
            tag=tag,
            created_by=created_by,
            on_answered=on_answered,
            on_failed=on_failed,
            parent=parent,
            track=self._track,
        )

    def _track(self, leg: CallRecord, plan: LegPlan) -> None:
        self._by_leg[leg.call_id] = plan

    def _send(self, session: Optional[Session], event_type: str, params: Params) -> None:
        if session is not None:
            self._engine.core.send_event(session, event_type, params)

    # -- calling.dial -------------------------------------------------------------------

    def _dial(self, session: Session, params: Params) -> Params:
        tag = require_str(params, "tag")
        groups = parse_devices(params.get("devices"))
        node_id = self._engine.core.node_id

        def answered(leg: CallRecord) -> None:
            self._dials.discard(plan)
            call = {
                **leg.short(),
                "call_state": leg.state,
                "direction": leg.direction,
                "dial_winner": True,
            }
            self._engine.emit(
                leg,
                EVENT_CALL_DIAL,
                {"node_id": node_id, "tag": tag, "dial_state": "answered", "call": call},
            )

        def failed(reason: str) -> None:
            self._dials.discard(plan)
            self._send(
                plan.session,
                EVENT_CALL_DIAL,
                {
                    "node_id": node_id,
                    "tag": tag,
                    "dial_state": "failed",
                    "reason": reason,
                    "call": {},
                },
            )

        plan = self._plan(session, groups, tag, "dial", answered, failed)
        self._dials.add(plan)

        def start() -> None:
            if plan.done:
                return
            self._send(
                plan.session,
                EVENT_CALL_DIAL,
                {"node_id": node_id, "tag": tag, "dial_state": "dialing"},
            )
            plan.start()

        self._engine.after_reply(start)
        log.debug("dial tag=%s with %d group(s)", tag, len(groups))
        return result("200", "Dialing")

    # -- calling.connect / calling.disconnect -------------------------------------------

    @staticmethod
    def _connect_params(call: CallRecord, state: str, **extra: Any) -> Params:
        return {
            "node_id": call.node_id,
            "call_id": call.call_id,
            "tag": call.tag,
            "connect_state": state,
            **extra,
        }

    def _connect(self, session: Session, call: CallRecord, params: Params) -> Params:
        if call.state != CALL_ANSWERED:
            return result("409", "Call is not answered", call_id=call.call_id)
        if call.peer is not None or call.call_id in self._connecting:
            return result("409", "Call is already connected", call_id=call.call_id)
        groups = parse_devices(params.get("devices"))
        ringback = params.get("ringback")
        if ringback is not None and not isinstance(ringback, list):
            raise invalid_params("ringback must be a list of media items")
        tag = params.get("tag")
        tag = tag if isinstance(tag, str) and tag else self._engine.core.new_id()
        engine = self._engine

        def connected(peer: CallRecord) -> None:
            self._connecting.pop(call.call_id, None)
            engine.emit(
                call, EVENT_CALL_CONNECT, self._connect_params(call, "connected", peer=peer.short())
            )

        def failed(reason: str) -> None:
            self._connecting.pop(call.call_id, None)
            engine.emit(
                call, EVENT_CALL_CONNECT, self._connect_params(call, "failed", failed_reason=reason)
            )

        plan = self._plan(call.session, groups, tag, "connect", connected, failed, parent=call)
        self._connecting[call.call_id] = plan

        def start() -> None:
            if not plan.done and call.live:
                engine.emit(call, EVENT_CALL_CONNECT, self._connect_params(call, "connecting"))
                plan.start()

        engine.after_reply(start)
        return result("200", "connecting", call_id=call.call_id)

    def _disconnect(self, session: Session, call: CallRecord, params: Params) -> Params:
        if call.peer is None:
            return result("409", "Call is not connected", call_id=call.call_id)
        self._engine.after_reply(lambda: self.unbridge(call))
        return result("200", "Disconnecting", call_id=call.call_id)

    def unbridge(self, call: CallRecord) -> None:
        """Break the bridge ``call`` is in: the connecting call gets ``disconnected`` and
        the leg ``calling.connect`` created hangs up."""
        peer = call.peer
        if peer is None:
            return
        owner, leg = (call, peer) if call.connect_owner else (peer, call)
        with self._engine.cond:
            owner.peer = leg.peer = None
            owner.connect_owner = False
        self._engine.emit(
            owner, EVENT_CALL_CONNECT, self._connect_params(owner, "disconnected", peer=leg.short())
        )
        self._engine.end_call(leg, "hangup")

    def _call_ending(self, call: CallRecord) -> None:
        plan = self._connecting.pop(call.call_id, None)
        if plan is not None:
            plan.cancel()
            self._engine.emit(
                call,
                EVENT_CALL_CONNECT,
                self._connect_params(call, "failed", failed_reason="cancel"),
            )
        self.unbridge(call)

    def _call_ended(self, call: CallRecord) -> None:
        plan = self._by_leg.pop(call.call_id, None)
        if plan is not None:
            plan.leg_ended(call)
