"""Builders and normalisers for the device objects RELAY methods take.

The media builders (:func:`tts`, :func:`audio`, ...) live in :mod:`relaysync.media` and
are re-exported here.

Every function returns new wire-form dicts (``{"type": ..., "params": {...}}``), never
changes its input, and raises :class:`ValueError` naming the problem and the offending
value before anything is sent. A SIP ``password`` is never shown in an error message;
use :func:`redact_device` before logging a device.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as _MappingABC
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from relaysync._util import compact_kw
from relaysync._validate import check_e164
from relaysync._wireform import (
    SECRET_DEVICE_KEYS,
    check_number,
    redact_device,
    show_value,
    split_item,
)
from relaysync.media import MEDIA_TYPES, Number, audio, normalize_media, ringtone, silence, tts

_SIP_URI = re.compile(r"(?i)sips?:\S")

Headers = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]


def _rename(params: Dict[str, Any], old: str, new: str, what: str) -> None:
    """Move ``params[old]`` to ``params[new]``; both present and different is an error."""
    if old not in params:
        return
    value = params.pop(old)
    if params.get(new, value) != value:
        raise ValueError(
            f"{what} gives both {old!r} ({value!r}) and {new!r} ({params[new]!r}); give one"
        )
    params[new] = value


def _require_str(params: Mapping[str, Any], key: str, what: str, device: Any) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"{what} needs a non-empty string {key!r}, got {value!r} in {show_value(device)}"
        )
    return value


def _headers(value: Any, what: str) -> List[Dict[str, str]]:
    """Return SIP headers as ``[{name, value}]`` from a dict or a list of such dicts."""
    if isinstance(value, _MappingABC):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)):
        pairs = []
        for header in value:
            if not isinstance(header, _MappingABC) or "name" not in header:
                raise ValueError(f"{what} header must be a dict {{name, value}}, got {header!r}")
            pairs.append((header.get("name"), header.get("value")))
    else:
        raise ValueError(
            f"{what} headers must be a dict or a list of {{name, value}} dicts, got {value!r}"
        )
    out = []
    for name, header_value in pairs:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{what} header name must be a non-empty string, got {name!r}")
        if isinstance(header_value, bool) or not isinstance(header_value, (str, int, float)):
            raise ValueError(
                f"{what} header {name!r} must have a string value, got {header_value!r}"
            )
        out.append({"name": name, "value": str(header_value)})
    return out


def _codecs(value: Any, what: str) -> List[str]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(codec, str) and codec for codec in value
    ):
        raise ValueError(f"{what} codecs must be a list of codec names, got {value!r}")
    return list(value)


def _check_secret(params: Mapping[str, Any], key: str, what: str) -> None:
    if key in params and not isinstance(params[key], str):
        # the value itself may be a secret: name only its type
        raise ValueError(f"{what} {key!r} must be a string, got {type(params[key]).__name__}")


def normalize_device(device: Any) -> Dict[str, Any]:
    """Return ``device`` in RELAY's wire form ``{"type": ..., "params": {...}}``.

    Accepts the wire form, or the flat form in which the params sit beside ``type``:
    ``{"type": "phone", "to": ..., "from": ...}`` becomes
    ``{"type": "phone", "params": {"to_number": ..., "from_number": ...}}`` (``to``,
    ``from`` and ``from_`` are renamed for phone devices); for a SIP device ``from_``
    becomes ``from`` and a headers dict becomes ``[{name, value}]``. Other keys move
    into ``params`` unchanged; ``None`` values are dropped.

    Args:
        device: the device dict.

    Returns:
        A new wire-form dict.

    Raises:
        ValueError: not a dict; ``type`` missing or not a non-empty string; ``params``
            not a dict; a key given twice with different values; a phone device
            without E.164 string ``to_number``/``from_number``; a SIP device without a
            string ``to``; malformed SIP headers or codecs.
    """
    kind, params = split_item(device, "device")
    what = f"{kind} device"
    if kind == "phone":
        for old, new in (("to", "to_number"), ("from", "from_number"), ("from_", "from_number")):
            _rename(params, old, new, what)
        for key in ("to_number", "from_number"):
            check_e164(f"{what} {key}", _require_str(params, key, what, device))
    elif kind == "sip":
        _rename(params, "from_", "from", what)
        _require_str(params, "to", what, device)
        _check_secret(params, "password", what)
        if "headers" in params:
            params["headers"] = _headers(params["headers"], what)
        if "codecs" in params:
            params["codecs"] = _codecs(params["codecs"], what)
    return {"type": kind, "params": params}


def normalize_devices(devices: Any) -> List[List[Dict[str, Any]]]:
    """Return a dial plan in RELAY's wire form: a list of lists of wire-form devices.

    The outer list is tried in series, each inner list is rung in parallel.

    * a single device dict becomes ``[[device]]``;
    * a flat list of devices ``[d1, d2]`` becomes ``[[d1], [d2]]``: the devices are
      tried **one after another**, never rung at once (to ring several phones in
      parallel, put them in one inner list: ``[[d1, d2]]``);
    * a list of lists passes through; a list mixing dicts and lists treats each dict
      as a group of its own.

    Every device goes through :func:`normalize_device`.

    Args:
        devices: a device dict, a list of devices, or a list of lists of devices.

    Returns:
        A new ``list[list[dict]]``.

    Raises:
        ValueError: the plan or one of its groups is empty, an entry is neither a
            dict nor a list, or a device is invalid (the message names its position).
    """
    if isinstance(devices, _MappingABC):
        return [[normalize_device(devices)]]
    if not isinstance(devices, (list, tuple)):
        raise ValueError(
            "devices must be a device dict, a list of devices or a list of lists of "
            f"devices, got {type(devices).__name__}: {show_value(devices)}"
        )
    if not devices:
        raise ValueError("devices is empty: give at least one device")
    plan: List[List[Dict[str, Any]]] = []
    for i, entry in enumerate(devices):
        if isinstance(entry, _MappingABC):
            plan.append([_at(entry, f"devices[{i}]")])
        elif isinstance(entry, (list, tuple)):
            if not entry:
                raise ValueError(f"devices[{i}] is an empty group: give at least one device")
            plan.append([_at(device, f"devices[{i}][{j}]") for j, device in enumerate(entry)])
        else:
            raise ValueError(
                f"devices[{i}] must be a device dict or a list of devices, got "
                f"{type(entry).__name__}: {show_value(entry)}"
            )
    return plan


def _at(device: Any, position: str) -> Dict[str, Any]:
    try:
        return normalize_device(device)
    except ValueError as exc:
        raise ValueError(f"{position}: {exc}") from None


def _check_sip_uri(value: str, what: str) -> None:
    if _SIP_URI.match(value):
        return
    if value.lower().startswith(("sip:", "sips:")):
        raise ValueError(f"{what} {value!r} has no user/host part after the scheme")
    raise ValueError(f"{what} {value!r} is not a SIP URI: it must start with 'sip:' or 'sips:'")


def normalize_refer_device(target: Any) -> Tuple[Dict[str, Any], bool]:
    """Return the SIP device to send with ``calling.refer``, and whether ``uri`` was used.

    Accepts a URI string (``"sip:alice@example.com"`` or ``"sips:..."``), a flat device
    ``{"type": "sip", "to" | "uri": ..., "username"?, "password"?, "headers"?}`` or a wire
    device ``{"type": "sip", "params": {"to" | "uri": ..., ...}}``. The public docs'
    ``uri`` spelling is sent as ``to``.

    Args:
        target: the refer target.

    Returns:
        ``(device, used_uri)``: the wire device ``{"type": "sip", "params": {"to": ...}}``
        and ``True`` if the target was given under ``uri``.

    Raises:
        ValueError: a string that is not a ``sip:``/``sips:`` URI; a dict whose type is
            not ``sip``; no target; a target that is not a string or not a SIP URI;
            ``to`` and ``uri`` both given with different values; ``username`` or
            ``password`` not strings; malformed headers; any other type of ``target``.
    """
    what = "refer device"
    if isinstance(target, str):
        _check_sip_uri(target, "refer target")
        return {"type": "sip", "params": {"to": target}}, False
    if not isinstance(target, _MappingABC):
        raise ValueError(
            "refer target must be a 'sip:'/'sips:' URI string or a SIP device dict, got "
            f"{type(target).__name__}: {show_value(target)}"
        )
    kind, params = split_item(target, what)
    if kind != "sip":
        raise ValueError(f"{what} type must be 'sip', got {kind!r}")
    used_uri = "uri" in params
    _rename(params, "uri", "to", what)
    to = params.get("to")
    if to is None:
        raise ValueError(
            f"{what} has no SIP target: set params 'to' (or 'uri'), got {show_value(target)}"
        )
    if not isinstance(to, str):
        raise ValueError(f"refer target must be a string, got {type(to).__name__}: {to!r}")
    _check_sip_uri(to, "refer target")
    _check_secret(params, "username", what)
    _check_secret(params, "password", what)
    if "headers" in params:
        params["headers"] = _headers(params["headers"], what)
    params = {"to": to, **{key: value for key, value in params.items() if key != "to"}}
    return {"type": "sip", "params": params}, used_uri


def _check_durations(timeout: Optional[Number], max_duration: Optional[Number]) -> None:
    for name, value in (("timeout", timeout), ("max_duration", max_duration)):
        if value is not None:
            check_number(value, name)


def phone_device(
    to: str,
    from_: str,
    *,
    timeout: Optional[Number] = None,
    max_duration: Optional[Number] = None,
) -> Dict[str, Any]:
    """Build a phone device.

    Args:
        to: the number to call (E.164, e.g. ``"+15551234567"``).
        from_: the caller id number.
        timeout: seconds to let it ring before giving up.
        max_duration: longest the call may last.

    Returns:
        ``{"type": "phone", "params": {"to_number": ..., "from_number": ..., ...}}``.

    Raises:
        ValueError: ``to``/``from_`` not non-empty strings, or a negative/non-number
            ``timeout``/``max_duration``.
    """
    _check_durations(timeout, max_duration)
    return normalize_device(
        {
            "type": "phone",
            "params": compact_kw(
                to_number=to, from_number=from_, timeout=timeout, max_duration=max_duration
            ),
        }
    )


def sip_device(
    to: str,
    from_: str,
    *,
    from_name: Optional[str] = None,
    headers: Optional[Headers] = None,
    codecs: Optional[Sequence[str]] = None,
    timeout: Optional[Number] = None,
    max_duration: Optional[Number] = None,
) -> Dict[str, Any]:
    """Build a SIP device.

    Args:
        to: the SIP URI to call (``"sip:alice@example.com"``).
        from_: the caller's SIP URI.
        from_name: display name of the caller.
        headers: extra SIP headers, as a dict or a list of ``{name, value}`` dicts
            (sent as the list).
        codecs: codec names, e.g. ``["PCMU", "OPUS"]``.
        timeout: seconds to let it ring before giving up.
        max_duration: longest the call may last.

    Returns:
        ``{"type": "sip", "params": {"to": ..., "from": ..., ...}}``.

    Raises:
        ValueError: ``to``/``from_`` not non-empty strings, malformed headers or codecs,
            or a negative/non-number ``timeout``/``max_duration``.
    """
    _check_durations(timeout, max_duration)
    if not isinstance(from_, str) or not from_.strip():
        raise ValueError(f"sip device needs a non-empty string 'from', got {from_!r}")
    params = compact_kw(
        to=to,
        from_name=from_name,
        headers=headers,
        codecs=codecs,
        timeout=timeout,
        max_duration=max_duration,
    )
    params["from"] = from_
    return normalize_device({"type": "sip", "params": params})


__all__ = [
    "MEDIA_TYPES",
    "SECRET_DEVICE_KEYS",
    "audio",
    "normalize_device",
    "normalize_devices",
    "normalize_media",
    "normalize_refer_device",
    "phone_device",
    "redact_device",
    "ringtone",
    "silence",
    "sip_device",
    "tts",
]
