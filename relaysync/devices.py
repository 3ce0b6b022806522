"""Builders and normalisers for the device and media objects RELAY methods take.

Every function returns new wire-form dicts (``{"type": ..., "params": {...}}``), never
changes its input, and raises :class:`ValueError` naming the problem and the offending
value before anything is sent. A SIP ``password`` is never shown in an error message;
use :func:`redact_device` before logging a device.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping as _MappingABC
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from relaysync._util import compact, compact_kw
from relaysync._validate import check_e164

#: Device ``params`` keys whose values :func:`redact_device` masks.
SECRET_DEVICE_KEYS = frozenset({"password", "authorization_bearer_token"})
#: The media item types RELAY plays.
MEDIA_TYPES = ("audio", "tts", "silence", "ringtone")
_MEDIA_REQUIRED = {"audio": "url", "tts": "text", "silence": "duration", "ringtone": "name"}
_MASK = "***"
_SIP_URI = re.compile(r"(?i)sips?:\S")

Number = Union[int, float]
Headers = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]


def redact_device(device: Mapping[str, Any]) -> Dict[str, Any]:
    """Return a copy of ``device`` that is safe to log: secrets are replaced by ``"***"``.

    Masks ``password`` and ``authorization_bearer_token`` both at the top level (flat
    form) and inside ``params`` (wire form).

    Args:
        device: a device dict in any accepted form.

    Returns:
        A new dict; the input is left unchanged.
    """
    out = {key: _MASK if key in SECRET_DEVICE_KEYS else value for key, value in device.items()}
    params = out.get("params")
    if isinstance(params, _MappingABC):
        out["params"] = {
            key: _MASK if key in SECRET_DEVICE_KEYS else value for key, value in params.items()
        }
    return out


def _show(value: Any) -> str:
    """Return a short, secret-free ``repr`` of ``value`` for an error message."""
    text = repr(redact_device(value)) if isinstance(value, _MappingABC) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _split(item: Any, what: str) -> Tuple[str, Dict[str, Any]]:
    """Return ``(type, params)`` of a flat or wire-form item, dropping ``None`` values.

    Keys other than ``type`` and ``params`` move into ``params``.
    """
    if not isinstance(item, _MappingABC):
        raise ValueError(f"{what} must be a dict, got {type(item).__name__}: {_show(item)}")
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{what} needs a non-empty string 'type', got {_show(item)}")
    raw = item.get("params")
    if raw is not None and not isinstance(raw, _MappingABC):
        raise ValueError(f"{what} 'params' must be a dict, got {type(raw).__name__}: {_show(item)}")
    params: Dict[str, Any] = dict(raw or {})
    for key, value in item.items():
        if key in ("type", "params") or value is None:
            continue
        if params.get(key, value) != value:
            raise ValueError(
                f"{what} gives {key!r} both at the top level and in 'params', with "
                f"different values: {_show(item)}"
            )
        params[key] = value
    return kind, compact(params)


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
            f"{what} needs a non-empty string {key!r}, got {value!r} in {_show(device)}"
        )
    return value


def _check_number(value: Any, name: str, *, minimum: float = 0.0) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < minimum
    ):
        raise ValueError(f"{name} must be a number >= {minimum:g}, got {value!r}")


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
    kind, params = _split(device, "device")
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
            f"devices, got {type(devices).__name__}: {_show(devices)}"
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
                f"{type(entry).__name__}: {_show(entry)}"
            )
    return plan


def _at(device: Any, position: str) -> Dict[str, Any]:
    try:
        return normalize_device(device)
    except ValueError as exc:
        raise ValueError(f"{position}: {exc}") from None


def _check_sip_uri(value: str, what: str) -> None:
    if not _SIP_URI.match(value):
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
            f"{type(target).__name__}: {_show(target)}"
        )
    kind, params = _split(target, what)
    if kind != "sip":
        raise ValueError(f"{what} type must be 'sip', got {kind!r}")
    used_uri = "uri" in params
    _rename(params, "uri", "to", what)
    to = params.get("to")
    if to is None:
        raise ValueError(
            f"{what} has no SIP target: set params 'to' (or 'uri'), got {_show(target)}"
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
    for name, value in (("timeout", timeout), ("max_duration", max_duration)):
        if value is not None:
            _check_number(value, name)
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
    for name, value in (("timeout", timeout), ("max_duration", max_duration)):
        if value is not None:
            _check_number(value, name)
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


def _media_item(item: Any, what: str) -> Dict[str, Any]:
    kind, params = _split(item, what)
    if kind not in _MEDIA_REQUIRED:
        raise ValueError(f"{what} type must be one of {', '.join(MEDIA_TYPES)}; got {kind!r}")
    key = _MEDIA_REQUIRED[kind]
    value = params.get(key)
    if kind == "silence" or (kind == "ringtone" and "duration" in params):
        _check_number(params.get("duration"), f"{kind} media 'duration'")
    if kind != "silence" and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{kind} media needs a non-empty string {key!r}, got {value!r}")
    return {"type": kind, "params": params}


def normalize_media(items: Any) -> List[Dict[str, Any]]:
    """Return a media list in wire form ``[{"type": ..., "params": {...}}, ...]``.

    Accepts one item or a list of items, each in wire form or flat form
    (``{"type": "tts", "text": "Hello"}`` becomes
    ``{"type": "tts", "params": {"text": "Hello"}}``).

    Args:
        items: a media item dict, or a list of them.

    Returns:
        A new list of wire-form items.

    Raises:
        ValueError: empty list; an item that is not a dict; a type other than
            audio, tts, silence, ringtone; a missing or wrongly typed ``url``
            (audio), ``text`` (tts), ``duration`` (silence) or ``name`` (ringtone).
    """
    if isinstance(items, _MappingABC):
        return [_media_item(items, "media")]
    if not isinstance(items, (list, tuple)):
        raise ValueError(
            f"media must be a media dict or a list of them, got {type(items).__name__}: "
            f"{_show(items)}"
        )
    if not items:
        raise ValueError("media list is empty: give at least one item")
    return [_media_item(item, f"media[{i}]") for i, item in enumerate(items)]


def tts(
    text: str,
    *,
    language: Optional[str] = None,
    gender: Optional[str] = None,
    voice: Optional[str] = None,
) -> Dict[str, Any]:
    """Build a text-to-speech media item.

    Args:
        text: what to say (SSML allowed).
        language: e.g. ``"en-US"``.
        gender: ``"male"`` or ``"female"``.
        voice: a voice name.

    Returns:
        ``{"type": "tts", "params": {"text": ..., ...}}``.

    Raises:
        ValueError: ``text`` is not a non-empty string.
    """
    return _media_item(
        {
            "type": "tts",
            "params": compact_kw(text=text, language=language, gender=gender, voice=voice),
        },
        "media",
    )


def audio(url: str) -> Dict[str, Any]:
    """Build an audio-file media item.

    Args:
        url: the audio file's URL.

    Returns:
        ``{"type": "audio", "params": {"url": ...}}``.

    Raises:
        ValueError: ``url`` is not a non-empty string.
    """
    return _media_item({"type": "audio", "params": {"url": url}}, "media")


def silence(duration: Number) -> Dict[str, Any]:
    """Build a silence media item.

    Args:
        duration: seconds of silence.

    Returns:
        ``{"type": "silence", "params": {"duration": ...}}``.

    Raises:
        ValueError: ``duration`` is not a number >= 0.
    """
    return _media_item({"type": "silence", "params": {"duration": duration}}, "media")


def ringtone(name: str = "us", *, duration: Optional[Number] = None) -> Dict[str, Any]:
    """Build a ringtone media item.

    Args:
        name: the country's ringtone (``"us"``, ``"uk"``, ``"de"``, ...).
        duration: seconds to play it; ``None`` plays it until stopped.

    Returns:
        ``{"type": "ringtone", "params": {"name": ..., "duration"?: ...}}``.

    Raises:
        ValueError: ``name`` is not a non-empty string or ``duration`` is not a
            number >= 0.
    """
    return _media_item(
        {"type": "ringtone", "params": compact_kw(name=name, duration=duration)}, "media"
    )


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
