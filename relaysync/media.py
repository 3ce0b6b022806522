"""Builders and normalisers for the media items RELAY plays (``calling.play`` and prompts).

Every function returns new wire-form dicts (``{"type": ..., "params": {...}}``) and raises
:class:`ValueError` naming the problem before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping as _MappingABC
from typing import Any, Dict, List, Optional, Union

from relaysync._util import compact_kw
from relaysync._wireform import check_number, show_value, split_item

#: The media item types RELAY plays.
MEDIA_TYPES = ("audio", "tts", "silence", "ringtone")
_MEDIA_REQUIRED = {"audio": "url", "tts": "text", "silence": "duration", "ringtone": "name"}

Number = Union[int, float]


def _media_item(item: Any, what: str) -> Dict[str, Any]:
    kind, params = split_item(item, what)
    if kind not in _MEDIA_REQUIRED:
        raise ValueError(f"{what} type must be one of {', '.join(MEDIA_TYPES)}; got {kind!r}")
    key = _MEDIA_REQUIRED[kind]
    value = params.get(key)
    if kind == "silence" or (kind == "ringtone" and "duration" in params):
        check_number(params.get("duration"), f"{kind} media 'duration'")
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
            f"{show_value(items)}"
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


__all__ = ["MEDIA_TYPES", "audio", "normalize_media", "ringtone", "silence", "tts"]
