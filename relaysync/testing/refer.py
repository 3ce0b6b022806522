"""``calling.refer``: SIP REFER with scripted outcomes.

Runs on the simulator loop thread. A REFER needs an answered call (else ``409``) and a
``device`` of type ``sip`` whose ``params.to`` names a ``sip:``/``sips:`` URI (else
``400`` saying what is wrong); ``params.uri`` is accepted as an alias of ``to`` and the
call's :class:`~relaysync.testing.callmodel.ReferRecord` notes ``used_uri_alias``. One
REFER at a time per call (a second one while the first is in progress gets ``409``).

Events: ``calling.call.refer`` ``inProgress`` (with ``sip_refer_to``), then after the
scripted delay the final state with ``sip_refer_response_code`` and
``sip_notify_response_code`` (strings). After ``success`` the call ends (``ending`` →
``ended``, ``hangup``). When the call ends while a REFER is in progress, the REFER ends
``cancel`` (202/487) before the call's ``ended`` event.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union

import attrs

from relaysync.constants import CALL_ANSWERED, EVENT_CALL_REFER, REFER_IN_PROGRESS
from relaysync.testing.callmodel import ReferRecord
from relaysync.testing.replies import result
from relaysync.testing.scripts import REFER_DEFAULT_CODES, ReferScript

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

log = logging.getLogger("relaysync.simulator.calls")


def parse_refer_device(device: Any) -> Union[str, Tuple[str, bool, Dict[str, Any]]]:
    """Check the ``device`` of a ``calling.refer``.

    Args:
        device: the request's ``device``.

    Returns:
        ``(target, used_uri_alias, params)`` when usable, else the text of the 400 result
        saying what is wrong.
    """
    if not isinstance(device, dict):
        return "device is required: {type: 'sip', params: {to: <SIP URI>}}"
    if device.get("type") != "sip":
        return f"device.type must be 'sip' for a REFER, got {device.get('type')!r}"
    params = device.get("params")
    if not isinstance(params, dict):
        return "device.params is required and must hold 'to' (the SIP URI to refer to)"
    to, uri = params.get("to"), params.get("uri")
    if isinstance(to, str) and to:
        target, alias = to, False
    elif isinstance(uri, str) and uri:
        target, alias = uri, True
    else:
        return "device.params.to (the SIP URI to refer to) is missing"
    if not target.lower().startswith(("sip:", "sips:")):
        return f"device.params.to must be a sip: or sips: URI, got {target!r}"
    return target, alias, params


class _Refer:
    """The REFER in progress on one call (loop thread only)."""

    def __init__(self, call: CallRecord, index: int, script: ReferScript) -> None:
        self.call = call
        self.index = index
        self.script = script
        self.timer: Any = None


class Referrer:
    """Handles ``calling.refer`` (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self._active: Dict[str, _Refer] = {}  # call_id -> REFER in progress
        engine.on_ending(self._call_ending)

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements (``calling.refer``)."""
        return {"calling.refer": self._engine.call_handler(self._refer)}

    def _refer(self, session: Session, call: CallRecord, params: Params) -> Params:
        parsed = parse_refer_device(params.get("device"))
        if isinstance(parsed, str):
            return result("400", parsed, call_id=call.call_id)
        target, alias, dev_params = parsed
        if call.state != CALL_ANSWERED:
            return result("409", "Call is not answered", call_id=call.call_id)
        if call.call_id in self._active:
            return result(
                "409", "A REFER is already in progress on this call", call_id=call.call_id
            )
        if alias:
            log.info(
                "calling.refer on call %s named its target device.params.uri; "
                "treated as device.params.to",
                call.call_id,
            )
        status_url = params.get("status_url")
        username = dev_params.get("username")
        record = ReferRecord(
            target=target,
            state=REFER_IN_PROGRESS,
            used_uri_alias=alias,
            username=username if isinstance(username, str) else None,
            has_password="password" in dev_params,
            status_url=status_url if isinstance(status_url, str) else None,
            device={
                "type": "sip",
                "params": {k: v for k, v in dev_params.items() if k != "password"},
            },
        )
        with self._engine.cond:
            call.refers.append(record)
            self._engine.changed()
        refer = _Refer(call, len(call.refers) - 1, self._engine.scripts.refer_for(target))
        self._active[call.call_id] = refer
        self._engine.after_reply(lambda: self._start(refer))
        return result("200", "Starting SIP REFER", call_id=call.call_id)

    def _body(self, refer: _Refer, state: str, **codes: Optional[str]) -> Params:
        call = refer.call
        body: Params = {
            "node_id": call.node_id,
            "call_id": call.call_id,
            "state": state,
            "sip_refer_to": call.refers[refer.index].target,
        }
        body.update({k: v for k, v in codes.items() if v is not None})
        return body

    def _start(self, refer: _Refer) -> None:
        if self._active.get(refer.call.call_id) is not refer:
            return
        self._engine.emit(refer.call, EVENT_CALL_REFER, self._body(refer, REFER_IN_PROGRESS))
        script = refer.script
        refer.timer = self._engine.later(
            script.delay,
            lambda: self._finish(
                refer, script.state, script.sip_refer_response_code, script.sip_notify_response_code
            ),
        )

    def _finish(self, refer: _Refer, state: str, refer_code: str, notify_code: str) -> None:
        call = refer.call
        if self._active.get(call.call_id) is not refer:
            return
        del self._active[call.call_id]
        if refer.timer is not None:
            refer.timer.cancel()
        with self._engine.cond:
            call.refers[refer.index] = attrs.evolve(
                call.refers[refer.index],
                state=state,
                sip_refer_response_code=refer_code,
                sip_notify_response_code=notify_code,
            )
        self._engine.emit(
            call,
            EVENT_CALL_REFER,
            self._body(
                refer,
                state,
                sip_refer_response_code=refer_code,
                sip_notify_response_code=notify_code,
            ),
        )
        if state == "success" and call.live:
            self._engine.end_call(call, "hangup")

    def _call_ending(self, call: CallRecord) -> None:
        refer = self._active.get(call.call_id)
        if refer is not None:
            self._finish(refer, "cancel", *REFER_DEFAULT_CODES["cancel"])
