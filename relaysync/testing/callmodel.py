"""Records the call engine of the simulator keeps for each call leg and each SIP REFER.

:class:`CallRecord` is engine-internal: it is created and changed only on the simulator
loop thread, and the fields the public :class:`~relaysync.testing.calls.SimCall` handle
reads (``state``, ``end_reason``, ``events``, ``refers``, ``peer``, ``session``) are
changed under the engine's lock. :class:`ReferRecord` is a frozen snapshot of one
``calling.refer``; the engine replaces it (``attrs.evolve``) as the REFER progresses.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any, Deque, Dict, List, Optional, Set

import attrs

from relaysync.constants import CALL_STATES

if TYPE_CHECKING:
    from relaysync.testing.sessions import Session

#: How many events one call keeps for inspection; older ones are dropped.
MAX_EVENTS_PER_CALL = 500

#: Device types that can be dialled or connected, and the key naming their target.
TARGET_KEYS: Dict[str, str] = {"phone": "to_number", "sip": "to", "webrtc": "to"}


def now_ms() -> int:
    """Return the current wall-clock time in milliseconds since the epoch."""
    return int(time.time() * 1000)


def state_index(state: str) -> int:
    """Return the position of ``state`` in the call life cycle (``created`` is 0)."""
    return CALL_STATES.index(state)


def device_target(device: Dict[str, Any]) -> Optional[str]:
    """Return the number or URI a wire-form device points at.

    Args:
        device: ``{"type": ..., "params": {...}}``.

    Returns:
        ``params.to_number`` for phone devices, ``params.to`` for sip and webrtc ones,
        or ``None`` when the device has no usable target.
    """
    key = TARGET_KEYS.get(str(device.get("type")))
    params = device.get("params")
    if key is None or not isinstance(params, dict):
        return None
    target = params.get(key)
    return target if isinstance(target, str) and target else None


@attrs.frozen
class ReferRecord:
    """One SIP REFER the simulator received, as it stands now.

    Attributes:
        target: the SIP URI the call was referred to (``sip_refer_to``).
        state: ``inProgress`` until the outcome, then ``success``, ``busy``,
            ``noAnswer``, ``cancel`` or ``error``.
        used_uri_alias: ``True`` when the client named the target ``params.uri``
            instead of ``params.to``.
        username: ``params.username`` if the client sent one.
        has_password: whether ``params.password`` was sent (the value is not kept).
        status_url: the request's ``status_url``, if any.
        sip_refer_response_code: response to the REFER itself, once final.
        sip_notify_response_code: final NOTIFY code, once final.
        device: the ``device`` object exactly as the client sent it, password removed.
    """

    target: str
    state: str
    used_uri_alias: bool = False
    username: Optional[str] = None
    has_password: bool = False
    status_url: Optional[str] = None
    sip_refer_response_code: Optional[str] = None
    sip_notify_response_code: Optional[str] = None
    device: Dict[str, Any] = attrs.field(factory=dict)


@attrs.define(eq=False)
class CallRecord:
    """Everything the engine knows about one call leg (loop thread only).

    Attributes:
        call_id: uuid4 of the leg.
        node_id: the simulator's node id.
        tag: the dial/connect tag, ``""`` for inbound calls.
        direction: ``inbound`` or ``outbound``.
        device: the wire-form device of the leg.
        context: the context an inbound call arrived on, else ``None``.
        session: the session that receives the call's events, if any.
        created_by: ``receive``, ``dial`` or ``connect``.
        parent: the call that created this leg through ``calling.connect``.
        seq: creation order, used to list calls in a stable order.
        state: the current call state.
        end_reason: set when the call has ended.
        peer: the call this one is bridged with.
        connect_owner: ``True`` on the leg that issued ``calling.connect``.
        closing: set as soon as the engine starts ending the call.
        visited: every state the call has been in.
        events: the last :data:`MAX_EVENTS_PER_CALL` events emitted for the call.
        refers: snapshots of the REFERs received for the call, oldest first.
        offered_to: ids of the sessions an inbound call was offered to, in order.
        start_time: creation time (ms).
        answer_time: answer time (ms), once answered.
        end_time: end time (ms), once ended.
        handle: the public handle, created on first use.
        caller: the scripted far end (a :class:`~relaysync.testing.caller.Caller`),
            created on first use.
    """

    call_id: str
    node_id: str
    tag: str
    direction: str
    device: Dict[str, Any]
    context: Optional[str] = None
    session: Optional[Session] = None
    created_by: str = "dial"
    parent: Optional[CallRecord] = None
    seq: int = 0
    state: str = "created"
    end_reason: Optional[str] = None
    peer: Optional[CallRecord] = None
    connect_owner: bool = False
    closing: bool = False
    visited: Set[str] = attrs.field(factory=set)
    events: Deque[Dict[str, Any]] = attrs.field(factory=lambda: deque(maxlen=MAX_EVENTS_PER_CALL))
    refers: List[ReferRecord] = attrs.field(factory=list)
    offered_to: List[str] = attrs.field(factory=list)
    start_time: int = attrs.field(factory=now_ms)
    answer_time: Optional[int] = None
    end_time: Optional[int] = None
    handle: Any = None
    caller: Any = None

    @property
    def live(self) -> bool:
        """Whether the call can still be controlled (not ending, not ended)."""
        return not self.closing and self.state not in ("ending", "ended")

    @property
    def far_end(self) -> Optional[str]:
        """The number or URI of the party at the other end of the leg."""
        if self.direction == "inbound":
            params = self.device.get("params")
            value = (
                params.get("from_number") or params.get("from")
                if isinstance(params, dict)
                else None
            )
            return value if isinstance(value, str) else None
        return device_target(self.device)

    def short(self) -> Dict[str, Any]:
        """Return the ``{call_id, node_id, tag, device}`` object used for peers."""
        return {
            "call_id": self.call_id,
            "node_id": self.node_id,
            "tag": self.tag,
            "device": self.device,
        }
