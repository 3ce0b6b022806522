"""Shared plumbing of the device and media builders: splitting flat or wire-form items,
secret-free error text, number checks."""

from __future__ import annotations

import math
from collections.abc import Mapping as _MappingABC
from typing import Any, Dict, Mapping, Tuple

from relaysync._util import compact

#: Device ``params`` keys whose values :func:`redact_device` masks.
SECRET_DEVICE_KEYS = frozenset({"password", "authorization_bearer_token"})
_MASK = "***"


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


def show_value(value: Any) -> str:
    """Return a short, secret-free ``repr`` of ``value`` for an error message."""
    text = repr(redact_device(value)) if isinstance(value, _MappingABC) else repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def split_item(item: Any, what: str) -> Tuple[str, Dict[str, Any]]:
    """Return ``(type, params)`` of a flat or wire-form item, dropping ``None`` values.

    Keys other than ``type`` and ``params`` move into ``params``.
    """
    if not isinstance(item, _MappingABC):
        raise ValueError(f"{what} must be a dict, got {type(item).__name__}: {show_value(item)}")
    kind = item.get("type")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{what} needs a non-empty string 'type', got {show_value(item)}")
    raw = item.get("params")
    if raw is not None and not isinstance(raw, _MappingABC):
        raise ValueError(
            f"{what} 'params' must be a dict, got {type(raw).__name__}: {show_value(item)}"
        )
    params: Dict[str, Any] = dict(raw or {})
    for key, value in item.items():
        if key in ("type", "params") or value is None:
            continue
        if params.get(key, value) != value:
            raise ValueError(
                f"{what} gives {key!r} both at the top level and in 'params', with "
                f"different values: {show_value(item)}"
            )
        params[key] = value
    return kind, compact(params)


def check_number(value: Any, name: str, *, minimum: float = 0.0) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite number >= ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < minimum
    ):
        raise ValueError(f"{name} must be a number >= {minimum:g}, got {value!r}")


__all__ = ["SECRET_DEVICE_KEYS", "check_number", "redact_device", "show_value", "split_item"]
