"""The media items RELAY plays (``calling.play``, prompts, ringback): their declared
shape and the builders.

:data:`MEDIA` is the one declaration of a media list, used by the declarations of
:mod:`relaysync.operations` and by the functions here. Every function returns new
wire-form dicts (``{"type": ..., "params": {...}}``) and raises before anything is sent:
``ValueError`` naming the problem, ``TypeError`` for an unknown key.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from . import constants as C
from .shapes import ListOf, Obj, Str, Tagged, refused_as, seconds

#: The media item types RELAY plays.
MEDIA_TYPES = ("audio", "tts", "silence", "ringtone")

_TEXT = Str(nonempty=True)
#: One media item; the flat form (``{"type": "tts", "text": "Hi"}``) is nested.
MEDIA_ITEM = Tagged(
    flat=True,
    audio=Obj(("url",), url=_TEXT),
    tts=Obj(("text",), text=_TEXT, language=Str(), gender=Str(), voice=Str()),
    silence=Obj(("duration",), duration=seconds()),
    ringtone=Obj(("name",), name=Str(*C.RINGTONE_NAMES), duration=seconds()),
)
#: A media list; a lone item is a list of one.
MEDIA = ListOf(MEDIA_ITEM, nonempty=True, single=True)

Number = Union[int, float]


def _item(api: str, kind: str, **params: Any) -> Dict[str, Any]:
    item: Dict[str, Any] = refused_as(api, MEDIA_ITEM.check, {"type": kind, "params": params})
    return item


def normalize_media(items: Any) -> List[Dict[str, Any]]:
    """Return a media list in wire form ``[{"type": ..., "params": {...}}, ...]``.

    Accepts one item or a list of items, each in wire form or flat form
    (``{"type": "tts", "text": "Hello"}`` becomes
    ``{"type": "tts", "params": {"text": "Hello"}}``); ``None`` values are dropped.

    Args:
        items: a media item dict, or a list of them.

    Returns:
        A new list of wire-form items.

    Raises:
        ValueError: an empty list; an item that is not a dict; a type other than
            audio, tts, silence, ringtone; a missing or wrongly typed ``url``
            (audio), ``text`` (tts), ``duration`` (silence) or ``name`` (ringtone);
            a key given both flat and in ``params`` with different values.
        TypeError: a key the item's type does not take.
    """
    media: List[Dict[str, Any]] = refused_as("normalize_media()", MEDIA.check, items, "media")
    return media


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
    return _item("tts()", "tts", text=text, language=language, gender=gender, voice=voice)


def audio(url: str) -> Dict[str, Any]:
    """Build an audio-file media item.

    Args:
        url: the audio file's URL.

    Returns:
        ``{"type": "audio", "params": {"url": ...}}``.

    Raises:
        ValueError: ``url`` is not a non-empty string.
    """
    return _item("audio()", "audio", url=url)


def silence(duration: Number) -> Dict[str, Any]:
    """Build a silence media item.

    Args:
        duration: seconds of silence.

    Returns:
        ``{"type": "silence", "params": {"duration": ...}}``.

    Raises:
        ValueError: ``duration`` is not a number >= 0.
    """
    return _item("silence()", "silence", duration=duration)


def ringtone(name: str = "us", *, duration: Optional[Number] = None) -> Dict[str, Any]:
    """Build a ringtone media item.

    Args:
        name: the country's ringtone (``"us"``, ``"uk"``, ``"de"``, ...; RELAY's list).
        duration: seconds to play it; ``None`` plays it until stopped.

    Returns:
        ``{"type": "ringtone", "params": {"name": ..., "duration"?: ...}}``.

    Raises:
        ValueError: ``name`` is not one of RELAY's ringtones or ``duration`` is not a
            number >= 0.
    """
    return _item("ringtone()", "ringtone", name=name, duration=duration)


__all__ = [
    "MEDIA",
    "MEDIA_ITEM",
    "MEDIA_TYPES",
    "audio",
    "normalize_media",
    "ringtone",
    "silence",
    "tts",
]
