"""The base event class and the helpers every typed event uses.

:meth:`RelayEvent.from_payload` takes the outer ``params`` of a ``signalwire.event``
frame; :func:`common_fields` reads the fields every event shares, and each subclass's
own fields are read from the inner ``params`` by one reader compiled from their
declarations (:mod:`relaysync._field_readers`). Nothing here raises on a malformed
payload.
"""

from __future__ import annotations

import os
import threading
from math import isfinite
from sys import intern
from typing import Any, Dict, Mapping, Optional, Tuple, Type, TypeVar

import attrs

from relaysync._field_readers import Readers
from relaysync._util import as_code, as_number, is_mapping

E = TypeVar("E", bound="RelayEvent")

#: Keys whose values are hidden in the ``repr`` of an event's ``params``.
SECRET_KEYS = frozenset(
    {"authorization_state", "password", "token", "jwt_token", "authorization_bearer_token"}
)

_MASK_DEPTH = 8
_EMPTY: Mapping[str, Any] = {}
_SHARE_DEPTH = 8
_SHARE_MAX_CHARS = 256


def _mask(value: Any, depth: int = 0) -> Any:
    if depth >= _MASK_DEPTH:
        return value
    if is_mapping(value):
        return {
            key: "<hidden>" if key in SECRET_KEYS else _mask(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_mask(item, depth + 1) for item in value]
    return value


def _share(value: Any, depth: int) -> Any:
    """``value`` with its short strings interned; JSON dicts and lists copied likewise."""
    kind = type(value)
    if kind is str:
        return intern(value) if len(value) <= _SHARE_MAX_CHARS else value
    if kind is dict and depth:
        return {intern(k) if type(k) is str else k: _share(v, depth - 1) for k, v in value.items()}
    if kind is list and depth:
        return [_share(item, depth - 1) for item in value]
    return value


class _DeviceMemo:
    """The ``device`` dict last seen for each call, so its later events share it.

    Every state event of a call repeats the call's ``device`` (two nested dicts): an
    event whose ``device`` equals the one remembered for its call gets that same dict.
    Only the device of a state or receive event (one with a ``call_state``) is
    remembered. A call is forgotten at its ``ended`` state; at most ``limit`` calls are remembered
    (the oldest go first). Thread-safe (events are parsed on the reader thread, and by
    anyone calling :meth:`RelayEvent.from_payload`).
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._devices: Dict[str, Any] = {}

    def forget_all(self) -> None:
        """Start empty with a new lock (a forked child: the parent's may be held)."""
        self._lock = threading.Lock()
        self._devices = {}

    def share(self, inner: Dict[str, Any], call_id: Any) -> None:
        """Put the remembered equal ``device`` of ``call_id`` into ``inner``."""
        device = inner.get("device")
        if type(device) is not dict or type(call_id) is not str:
            return
        ended = inner.get("call_state") == "ended"
        with self._lock:
            devices = self._devices
            known = devices.pop(call_id, None) if ended else devices.get(call_id)
            if known is not None and known is not device and known == device:
                inner["device"] = known
            elif not ended and known is None and "call_state" in inner:
                # only a state or receive event's device is the call's own (a tap
                # event's is where the audio goes)
                if len(devices) >= self._limit:
                    del devices[next(iter(devices))]
                devices[call_id] = device


_devices = _DeviceMemo(2048)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_devices.forget_all)


def _params_repr(value: Any) -> str:
    return repr(_mask(value))


def first_str(*values: Any) -> Optional[str]:
    """Return the first non-empty string among ``values``, else ``None``."""
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


def common_fields(payload: Any, event_id: Any) -> Tuple[Any, ...]:
    """Read the fields every event shares from the outer ``params`` of a frame.

    Returns:
        Their values in the order :class:`RelayEvent` declares them (``event_type``,
        ``params``, ``call_id``, ``node_id``, ``control_id``, ``tag``, ``timestamp``,
        ``event_id``): positional arguments cost less than keywords on every event.
    """
    # Inlined (this runs for every event): the same rules as as_str, as_number,
    # first_str and as_code, with their function calls taken out of the common case.
    outer: Mapping[str, Any] = payload if is_mapping(payload) else _EMPTY
    raw = outer.get("params")
    # The copy shares one string object per distinct key and short string value (ids,
    # states, numbers), nested ones included, across events (each parsed frame brings
    # its own copies), and one device dict per call: a call's history keeps only what
    # differs from event to event. Shared nested values are read-only (params is a
    # Mapping).
    inner: Dict[str, Any] = (
        {intern(k) if type(k) is str else k: _share(v, _SHARE_DEPTH) for k, v in raw.items()}
        if is_mapping(raw)
        else {}
    )
    get = inner.get
    call_id = get("call_id")
    if "device" in inner:
        _devices.share(inner, call_id)
    timestamp = outer.get("timestamp")
    if type(timestamp) is not float or not isfinite(timestamp):
        timestamp = as_number(timestamp)
        if timestamp is None:
            timestamp = as_number(get("timestamp"))
    event_type = outer.get("event_type")
    if type(event_type) is str:
        event_type = intern(event_type)
    control_id, tag = get("control_id"), get("tag")
    node_id = get("node_id")
    if not (isinstance(node_id, str) and node_id):
        node_id = first_str(outer.get("node_id"))
    return (
        event_type if isinstance(event_type, str) and event_type else "",
        inner,
        call_id if isinstance(call_id, str) else None,
        node_id,
        control_id if isinstance(control_id, str) else None,
        tag if isinstance(tag, str) else None,
        timestamp if timestamp is not None else 0.0,
        event_id if isinstance(event_id, str) else as_code(event_id),
    )


@attrs.frozen
class RelayEvent:
    """One event delivered by RELAY (base class; unknown event types stay this class).

    Attributes:
        event_type: the ``event_type`` of the frame (``""`` if it had none).
        params: a plain ``dict`` copy of the inner event body (its nested values, such
            as the ``device`` every state event of a call repeats, may be shared with
            the call's other events: read them, do not change them).
        call_id: ``params.call_id``, if a string.
        node_id: ``params.node_id`` (else the outer ``node_id``), if a string.
        control_id: ``params.control_id`` of the operation this event belongs to.
        tag: ``params.tag`` (the client's dial/connect tag; may be ``""``).
        timestamp: epoch seconds: the outer ``timestamp`` if numeric, else the inner
            ``params.timestamp``, else ``0.0``.
        event_id: the JSON-RPC ``id`` of the ``signalwire.event`` frame, as a string.
    """

    event_type: str
    params: Mapping[str, Any] = attrs.field(factory=dict, repr=_params_repr)
    call_id: Optional[str] = None
    node_id: Optional[str] = None
    control_id: Optional[str] = None
    tag: Optional[str] = None
    timestamp: float = 0.0
    event_id: Optional[str] = None

    @classmethod
    def from_payload(cls: Type[E], payload: Any, event_id: Any = None) -> E:
        """Build this event class from the outer ``params`` of a ``signalwire.event``.

        Args:
            payload: ``{event_type, timestamp?, params: {...}}``; any other value gives
                an event with empty fields.
            event_id: the frame's JSON-RPC ``id`` (numbers are kept as strings).

        Returns:
            An instance of ``cls`` (whatever the payload's ``event_type`` says; use
            :func:`parse_event` to pick the class from it).
        """
        common = common_fields(payload, event_id)
        return cls(*common, *EVENT_READERS[cls](common[1]))


#: Each event class's reader of its own fields from the inner ``params``.
EVENT_READERS = Readers(RelayEvent)

__all__ = ["EVENT_READERS", "SECRET_KEYS", "RelayEvent", "common_fields", "first_str"]
