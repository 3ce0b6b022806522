"""Call methods that play or capture media: play, record, tap, stream, transcribe."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from . import constants as C
from . import operations as ops
from ._validate import check_choice, check_volume
from .actions import PlayAction, RecordAction, StreamAction, TapAction, TranscribeAction
from .devices import audio, normalize_media, ringtone, silence, tts
from .runner import Operations

Media = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]
Completion = Optional[Callable[[Any], Any]]
_UNSET: Any = object()


class CallMediaMixin:
    """play (and shorthands), record, tap, stream and transcribe."""

    operations: Operations

    def play(
        self,
        media: Media,
        *,
        volume: Optional[float] = None,
        direction: Optional[str] = None,
        loop: Optional[int] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        timeout: Any = _UNSET,
    ) -> PlayAction:
        """Start playing media and return the :class:`PlayAction` once accepted.

        Args:
            media: one media item or a list, e.g. ``tts("Hello")``, ``audio(url)``.
            volume: -40 to 40 dB.
            direction, loop, status_url: passed to RELAY (``loop=0`` repeats forever).
            on_completed: ``callback(action)`` on a worker thread when playback settles.
            request_timeout: seconds for the start request.
            timeout: the old name of ``request_timeout``; deprecated.

        Raises:
            ValueError: malformed media, volume out of range, or a bad timeout.
            CallEndedError: the call is gone.
        """
        if timeout is not _UNSET:
            warnings.warn(
                "play(timeout=...) is deprecated; use request_timeout=",
                DeprecationWarning,
                stacklevel=2,
            )
            if request_timeout is None:
                request_timeout = timeout
        items = normalize_media(media)
        return self.operations.start(
            ops.PLAY,
            PlayAction,
            {
                "play": items,
                "volume": check_volume("volume", volume),
                "direction": direction,
                "loop": loop,
                "status_url": status_url,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
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

    def record(
        self,
        audio: Optional[Mapping[str, Any]] = None,
        *,
        beep: Optional[bool] = None,
        format: Optional[str] = None,
        stereo: Optional[bool] = None,
        direction: Optional[str] = None,
        initial_timeout: Optional[float] = None,
        end_silence_timeout: Optional[float] = None,
        terminators: Optional[str] = None,
        input_sensitivity: Optional[float] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> RecordAction:
        """Start recording the call and return the :class:`RecordAction` once accepted.

        Args:
            audio: the wire ``record.audio`` object, e.g. ``{"beep": True, "format":
                "wav", "end_silence_timeout": 3, "terminators": "#"}``; the keyword
                options below are merged into it (and win).
            beep, format (mp3 | wav), stereo, direction (listen | speak | both),
                initial_timeout, end_silence_timeout, terminators, input_sensitivity:
                the ``record.audio`` options.
            status_url: URL for status callbacks.
            on_completed: ``callback(action)`` on a worker thread when it settles.
            request_timeout: seconds for the start request.

        Returns:
            The action; ``wait()`` gives a :class:`~relaysync.results.RecordResult`
            (``finished``, ``no_input`` or ``error``, with url, duration, size).

        Raises:
            ValueError: an unknown format or direction, or a bad timeout.
            CallEndedError: the call is gone.
        """
        if audio is not None and not isinstance(audio, Mapping):
            raise TypeError(f"audio must be a dict of record options, got {audio!r}")
        check_choice("format", format, ("mp3", "wav"))
        check_choice("direction", direction, C.TAP_DIRECTIONS)
        settings = {
            **dict(audio or {}),
            **{
                key: value
                for key, value in {
                    "beep": beep,
                    "format": format,
                    "stereo": stereo,
                    "direction": direction,
                    "initial_timeout": initial_timeout,
                    "end_silence_timeout": end_silence_timeout,
                    "terminators": terminators,
                    "input_sensitivity": input_sensitivity,
                }.items()
                if value is not None
            },
        }
        return self.operations.start(
            ops.RECORD,
            RecordAction,
            {"record": {"audio": settings}, "status_url": status_url},
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def tap(
        self,
        tap: Mapping[str, Any],
        device: Mapping[str, Any],
        *,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> TapAction:
        """Copy the call's media to an RTP or WebSocket endpoint (``calling.tap``).

        Args:
            tap: what to tap, e.g. ``{"type": "audio", "params": {"direction": "both"}}``.
            device: where to send it: ``{"type": "rtp", "params": {"addr", "port"}}``
                or ``{"type": "ws", "params": {"uri"}}``.
            status_url, on_completed, request_timeout: as for :meth:`record`.

        Raises:
            ValueError: ``tap`` or ``device`` missing (nothing is sent).
        """
        return self.operations.start(
            ops.TAP,
            TapAction,
            {"tap": tap or None, "device": device or None, "status_url": status_url},
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def stream(
        self,
        url: str,
        *,
        name: Optional[str] = None,
        codec: Optional[str] = None,
        track: Optional[str] = None,
        status_url: Optional[str] = None,
        status_url_method: Optional[str] = None,
        authorization_bearer_token: Optional[str] = None,
        custom_parameters: Optional[Mapping[str, Any]] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> StreamAction:
        """Stream the call's audio to a ``wss://`` URL (``calling.stream``).

        Args:
            url: the WebSocket URL.
            track: ``inbound_track``, ``outbound_track`` or ``both_tracks``.
            name, codec, status_url, status_url_method: passed to RELAY.
            authorization_bearer_token, custom_parameters: passed to RELAY.

        Raises:
            ValueError: no ``url``, or an unknown ``track`` (nothing is sent).
        """
        if not isinstance(url, str) or not url:
            raise ValueError(f"stream url must be a non-empty string, got {url!r}")
        check_choice("track", track, C.STREAM_TRACKS)
        return self.operations.start(
            ops.STREAM,
            StreamAction,
            {
                "url": url,
                "name": name,
                "codec": codec,
                "track": track,
                "status_url": status_url,
                "status_url_method": status_url_method,
                "authorization_bearer_token": authorization_bearer_token,
                "custom_parameters": custom_parameters,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
        )

    def transcribe(
        self,
        *,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> TranscribeAction:
        """Transcribe the call until stopped (``calling.transcribe``).

        Raises:
            RelayError: 409 if a transcription is already running on the call.
        """
        return self.operations.start(
            ops.TRANSCRIBE,
            TranscribeAction,
            {"status_url": status_url},
            on_completed=on_completed,
            request_timeout=request_timeout,
        )


__all__ = ["CallMediaMixin"]
