"""Call methods that play media."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence, Union

from .actions import PlayAction
from .call_base import CallBase
from .devices import audio, normalize_media, ringtone, silence, tts

if TYPE_CHECKING:
    from .call import Call  # noqa: F401

Media = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]


class CallMediaMixin(CallBase):
    """play and its shorthands; mixed into :class:`~relaysync.call.Call`."""

    def play(
        self,
        media: Media,
        *,
        volume: Optional[float] = None,
        direction: Optional[str] = None,
        loop: Optional[int] = None,
        status_url: Optional[str] = None,
        on_completed: Optional[Callable[[Any], Any]] = None,
        timeout: Optional[float] = None,
    ) -> PlayAction:
        """Start playing media and return the :class:`PlayAction` once accepted.

        Args:
            media: one media item or a list, e.g. ``tts("Hello")``, ``audio(url)``.
            volume: -40 to 40 dB.
            direction, loop, status_url: passed to RELAY (``loop=0`` repeats forever).
            on_completed: ``callback(action)`` on a worker thread when playback settles.
            timeout: seconds for the start request.

        Raises:
            ValueError: malformed media or volume out of range.
            CallEndedError: the call is gone.
        """
        items = normalize_media(media)
        if volume is not None and not -40.0 <= float(volume) <= 40.0:
            raise ValueError(f"volume must be between -40 and 40 dB, got {volume!r}")
        return self._start(
            PlayAction,
            {
                "play": items,
                "volume": volume,
                "direction": direction,
                "loop": loop,
                "status_url": status_url,
            },
            on_completed=on_completed,
            timeout=timeout,
        )

    def play_tts(
        self,
        text: str,
        *,
        language: Optional[str] = None,
        gender: Optional[str] = None,
        voice: Optional[str] = None,
        **kwargs: Any,
    ) -> PlayAction:
        """Speak ``text``. Other keyword arguments as for :meth:`play`."""
        return self.play(tts(text, language=language, gender=gender, voice=voice), **kwargs)

    def play_audio(self, url: str, **kwargs: Any) -> PlayAction:
        """Play the audio file at ``url``. Other keyword arguments as for :meth:`play`."""
        return self.play(audio(url), **kwargs)

    def play_silence(self, duration: float, **kwargs: Any) -> PlayAction:
        """Play ``duration`` seconds of silence. Other keyword arguments as for :meth:`play`."""
        return self.play(silence(duration), **kwargs)

    def play_ringtone(
        self, name: str = "us", *, duration: Optional[float] = None, **kwargs: Any
    ) -> PlayAction:
        """Play a country's ringtone. Other keyword arguments as for :meth:`play`."""
        return self.play(ringtone(name, duration=duration), **kwargs)
