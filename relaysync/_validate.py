"""Argument checks shared by every public entry point.

Each check raises ``ValueError`` (or ``TypeError`` for a value of the wrong kind) whose
message names the argument, so a bad call fails before anything is sent.
"""

from __future__ import annotations

import math
import re
from typing import Any, List, Optional, Sequence
from urllib.parse import urlsplit

_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


def check_timeout(name: str, value: Any, *, allow_none: bool = True) -> Optional[float]:
    """Return ``value`` as a float if it is a usable timeout, else raise.

    Args:
        name: the argument's name, used in the error message.
        value: ``None`` (wait without bound, where ``allow_none``) or a positive,
            finite number of seconds.
        allow_none: whether ``None`` is accepted.

    Returns:
        The timeout in seconds, or ``None``.

    Raises:
        TypeError: ``value`` is not a number (booleans are refused too).
        ValueError: ``value`` is zero, negative, NaN or infinite, or ``None`` where
            ``allow_none`` is false.
    """
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"{name} must be a positive number of seconds, not None")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return seconds


def require_timeout(name: str, value: Any) -> float:
    """Like :func:`check_timeout`, for a timeout that must be given (``None`` refused)."""
    seconds = check_timeout(name, value, allow_none=False)
    assert seconds is not None
    return seconds


def check_delay(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a usable delay (zero allowed), else raise.

    Raises:
        TypeError: ``value`` is not a number (booleans are refused too).
        ValueError: ``value`` is negative, NaN or infinite.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return seconds


def check_count(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an int of at least ``minimum``, else raise.

    Raises:
        TypeError: ``value`` is not an int (booleans are refused too).
        ValueError: ``value`` is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return value


def check_names(name: str, value: Any) -> List[str]:
    """Return ``value`` as a list if it is a list, tuple or set of non-empty strings.

    Used for lists of names such as contexts; a lone string or a mapping is refused
    rather than read character by character or key by key.

    Raises:
        TypeError: ``value`` is not a list, tuple or set, or holds a non-string.
        ValueError: ``value`` is a lone string, or holds an empty or blank string, or
            one with CR, LF or NUL.
    """
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be a list of strings, got the string {value!r}")
    if not isinstance(value, (list, tuple, set, frozenset)):
        raise TypeError(f"{name} must be a list of strings, not {type(value).__name__}")
    items = list(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"each of {name} must be a string, not {type(item).__name__}")
        check_line(f"each of {name}", item)
    return items


def check_line(name: str, value: Any) -> str:
    """Return ``value`` if it is a non-empty string without CR, LF or NUL, else raise.

    Used for values that end up in SIP headers or URIs, where a line break would let a
    caller inject a header.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is empty or holds CR, LF or NUL.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{name} must not contain CR, LF or NUL characters: {value!r}")
    return value


def check_e164(name: str, value: Any) -> str:
    """Return ``value`` if it looks like an E.164 number (``+`` and 2 to 15 digits).

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: ``value`` is not ``+`` followed by 2 to 15 digits, the first not 0.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not _E164.match(value):
        raise ValueError(
            f"{name} must be an E.164 number such as +15551234567 "
            f"('+' and 2 to 15 digits), got {value!r}"
        )
    return value


def check_http_url(name: str, value: Any) -> str:
    """Return ``value`` if it is an absolute ``http://`` or ``https://`` URL with a host.

    Raises:
        TypeError: ``value`` is not a string.
        ValueError: another scheme, no host, or whitespace in the URL.
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{name} must be an http:// or https:// URL, got {value!r}")
    if any(ch.isspace() for ch in value):
        raise ValueError(f"{name} must not contain whitespace: {value!r}")
    return value


def check_str_list(name: str, value: Any) -> List[str]:
    """Return ``value`` as a list if it is a list or tuple of non-empty strings.

    Raises:
        TypeError: ``value`` is a bare string, not a sequence, or holds a non-string.
        ValueError: an item is empty.
    """
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list of strings, not {type(value).__name__}")
    items: Sequence[Any] = value
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{index}] must be a string, not {type(item).__name__}")
        if not item:
            raise ValueError(f"{name}[{index}] must not be empty")
    return list(items)


__all__ = [
    "check_count",
    "check_delay",
    "check_e164",
    "check_http_url",
    "check_line",
    "check_names",
    "check_str_list",
    "check_timeout",
    "require_timeout",
]
