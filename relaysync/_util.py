"""Small helpers shared by the request builders and the event parsers.

``compact``/``compact_kw`` are the one place where ``None`` values are dropped from
request parameters, recursively. The ``as_*`` coercers turn loosely typed wire values into the
types the public classes promise; they never raise.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping as _MappingABC
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Tuple

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+
    from typing_extensions import TypeGuard


def is_mapping(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    """Whether ``value`` is a mapping; a plain ``dict`` (every parsed JSON object) is
    recognised without the slower ``Mapping`` ABC check."""
    return type(value) is dict or isinstance(value, _MappingABC)


def compact(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``mapping`` without ``None`` values, at every depth.

    This is the one place where "``None`` means not sent" is applied: nested dicts are
    compacted too, and so are dicts inside lists (list items themselves are kept).

    Args:
        mapping: the parameters to filter; left unchanged.

    Returns:
        A new ``dict`` without the ``None`` values (falsy values such as ``0``, ``""``
        or ``False`` are kept).
    """
    return {key: _compact_value(value) for key, value in mapping.items() if value is not None}


_PLAIN = frozenset((str, int, float, bool))


def _compact_value(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # most values: no isinstance against the Mapping ABC
        return value
    if is_mapping(value):
        return compact(value)
    if isinstance(value, (list, tuple)):
        return [_compact_value(item) for item in value]
    return value


def compact_kw(**kw: Any) -> dict[str, Any]:
    """Return the keyword arguments whose value is not ``None``, as a new dict.

    Args:
        **kw: the parameters to filter.

    Returns:
        A ``dict`` without the ``None`` values.
    """
    return compact(kw)


def as_str(value: Any) -> Optional[str]:
    """Return ``value`` if it is a ``str``, else ``None``."""
    return value if isinstance(value, str) else None


def as_code(value: Any) -> Optional[str]:
    """Return a wire code (``"202"``) as a string, accepting numbers for it.

    Args:
        value: a string, an ``int`` or an integral ``float`` (``202.0`` → ``"202"``).

    Returns:
        The code as a ``str``, or ``None`` for any other type (booleans included).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else str(value)
    return None


def as_number(value: Any) -> Optional[float]:
    """Return a finite number (``int`` or ``float``, not ``bool``) as ``float``, else ``None``.

    Numeric strings such as ``"15.5"`` are accepted too.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def as_int(value: Any) -> Optional[int]:
    """Return an integral number (``3``, ``3.0`` or ``"3"``) as ``int``, else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = as_number(value)
    if number is None or not number.is_integer():
        return None
    return int(number)


def as_bool(value: Any) -> Optional[bool]:
    """Return ``value`` as a ``bool`` if it clearly is one, else ``None``.

    Accepts ``True``/``False``, the strings ``"true"``/``"false"`` (any case) and the
    integers ``1``/``0``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        return None
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def as_dict(value: Any) -> Optional[Dict[str, Any]]:
    """Return a shallow ``dict`` copy of a mapping, else ``None``."""
    return dict(value) if is_mapping(value) else None


def as_str_tuple(value: Any) -> Tuple[str, ...]:
    """Return the strings of a list or tuple as a tuple; anything else gives ``()``.

    Non-string items are skipped.
    """
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def adopt_method_names(cls: type) -> None:
    """Name the public methods ``cls`` takes from its bases ``<cls>.<method>``.

    Python's own argument errors name a method by its qualified name; for a class
    assembled from parts they would say ``CallMediaMixin.play_tts()`` where the user
    called ``Call.play_tts()``.
    """
    for base in cls.__mro__[1:-1]:
        for name, function in vars(base).items():
            if inspect.isfunction(function) and not name.startswith("_"):
                function.__qualname__ = f"{cls.__name__}.{name}"
                if hasattr(function.__code__, "co_qualname"):  # Python 3.11+
                    replace: Any = function.__code__.replace
                    function.__code__ = replace(co_qualname=function.__qualname__)


__all__ = [
    "adopt_method_names",
    "as_bool",
    "as_code",
    "as_dict",
    "as_int",
    "as_number",
    "as_str",
    "as_str_tuple",
    "compact",
    "compact_kw",
    "is_mapping",
]
