"""Call methods that play or capture media: play, record, tap, stream, transcribe.

Each wrapper passes its arguments straight on (``locals()``) to the runner, which
checks them against the method's declaration in :mod:`relaysync.operations`.
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Optional, Sequence, Union

from . import operations as ops
from .actions import PlayAction, RecordAction, StreamAction, TapAction, TranscribeAction
from .call_operations import Completion, Extra, Operations

Media = Union[Mapping[str, Any], Sequence[Mapping[str, Any]]]
_UNSET: Any = object()


def _start_timeout(api: str, timeout: Any, request_timeout: Optional[float]) -> Any:
    """``request_timeout``, or the deprecated ``timeout=`` of the play methods."""
    if timeout is _UNSET:
        return request_timeout
    warnings.warn(
        f"Call.{api}(timeout=...) is deprecated; use request_timeout=",
        DeprecationWarning,
        stacklevel=4,
    )
    return timeout if request_timeout is None else request_timeout


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
        extra_params: Extra = None,
        timeout: Any = _UNSET,
    ) -> PlayAction:
        """Start playing media and return the :class:`PlayAction` once accepted.

        Args:
            media: one media item or a list, e.g. ``tts("Hello")``, ``audio(url)``
                (sent as ``play``; flat items such as ``{"type": "tts", "text": ...}``
                are nested under ``params``).
            volume: -40 to 40 dB.
            direction, loop, status_url: passed to RELAY (``loop=0`` repeats forever).
            on_completed: ``callback(action)`` on a worker thread when playback settles.
            request_timeout: seconds for the start request.
            extra_params: params RELAY takes that this release does not know, merged
                into the request as given, unchecked.
            timeout: the old name of ``request_timeout``; deprecated.

        Raises:
            ValueError: malformed media, a volume out of range, a wrong type, or a bad
                timeout (nothing is sent).
            TypeError: an unknown key in a media item.
            CallEndedError: the call is gone.
        """
        play = media
        return self._play("play", locals())

    def play_tts(
        self,
        text: str,
        *,
        language: Optional[str] = None,
        gender: Optional[str] = None,
        voice: Optional[str] = None,
        volume: Optional[float] = None,
        direction: Optional[str] = None,
        loop: Optional[int] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
        timeout: Any = _UNSET,
    ) -> PlayAction:
        """Speak ``text`` (``language``, ``gender``, ``voice`` as for :func:`tts`).
        The other keyword arguments are those of :meth:`play`."""
        params = {"text": text, "language": language, "gender": gender, "voice": voice}
        play = {"type": "tts", "params": params}
        return self._play("play_tts", locals())

    def play_audio(
        self,
        url: str,
        *,
        volume: Optional[float] = None,
        direction: Optional[str] = None,
        loop: Optional[int] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
        timeout: Any = _UNSET,
    ) -> PlayAction:
        """Play the audio file at ``url``. The keyword arguments are those of :meth:`play`."""
        play = {"type": "audio", "params": {"url": url}}
        return self._play("play_audio", locals())

    def play_silence(
        self,
        duration: float,
        *,
        volume: Optional[float] = None,
        direction: Optional[str] = None,
        loop: Optional[int] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
        timeout: Any = _UNSET,
    ) -> PlayAction:
        """Play ``duration`` seconds of silence. The keyword arguments are those of
        :meth:`play`."""
        play = {"type": "silence", "params": {"duration": duration}}
        return self._play("play_silence", locals())

    def play_ringtone(
        self,
        name: str = "us",
        *,
        duration: Optional[float] = None,
        volume: Optional[float] = None,
        direction: Optional[str] = None,
        loop: Optional[int] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
        timeout: Any = _UNSET,
    ) -> PlayAction:
        """Play a country's ringtone (``duration`` seconds; ``None`` until stopped).
        The other keyword arguments are those of :meth:`play`."""
        play = {"type": "ringtone", "params": {"name": name, "duration": duration}}
        return self._play("play_ringtone", locals())

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
        extra_params: Extra = None,
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
            extra_params: params sent as given, unchecked (see :meth:`play`).

        Returns:
            The action; ``wait()`` gives a :class:`~relaysync.results.RecordResult`
            (``finished``, ``no_input`` or ``error``, with url, duration, size).

        Raises:
            TypeError: an unknown key in ``audio``.
            ValueError: an unknown format or direction, a wrong type, or a bad timeout.
            CallEndedError: the call is gone.
        """
        args = locals()
        keywords = {key: args[key] for key in ops.RECORD_AUDIO.members if args[key] is not None}
        if isinstance(audio, Mapping):
            keywords = {**audio, **keywords}
        record = {"audio": keywords if audio is None or isinstance(audio, Mapping) else audio}
        return self.operations.start(ops.RECORD, RecordAction, "record", locals())

    def tap(
        self,
        tap: Mapping[str, Any],
        device: Mapping[str, Any],
        *,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> TapAction:
        """Copy the call's media to an RTP or WebSocket endpoint (``calling.tap``).

        Args:
            tap: what to tap, e.g. ``{"type": "audio", "params": {"direction": "both"}}``.
            device: where to send it: ``{"type": "rtp", "params": {"addr", "port"}}``
                or ``{"type": "ws", "params": {"uri"}}``.
            status_url, on_completed, request_timeout, extra_params: as for
                :meth:`record`.

        Raises:
            ValueError: ``tap`` or ``device`` missing or malformed (nothing is sent).
            TypeError: an unknown key in them.
        """
        return self.operations.start(ops.TAP, TapAction, "tap", locals())

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
        extra_params: Extra = None,
    ) -> StreamAction:
        """Stream the call's audio to a ``wss://`` URL (``calling.stream``).

        Args:
            url: the WebSocket URL.
            track: ``inbound_track``, ``outbound_track`` or ``both_tracks``.
            name, codec, status_url, status_url_method: passed to RELAY.
            authorization_bearer_token, custom_parameters: passed to RELAY.
            on_completed, request_timeout, extra_params: as for :meth:`record`.

        Raises:
            ValueError: no ``url``, or an unknown ``track`` (nothing is sent).
        """
        return self.operations.start(ops.STREAM, StreamAction, "stream", locals())

    def transcribe(
        self,
        *,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> TranscribeAction:
        """Transcribe the call until stopped (``calling.transcribe``).

        Raises:
            RelayError: 409 if a transcription is already running on the call.
        """
        return self.operations.start(ops.TRANSCRIBE, TranscribeAction, "transcribe", locals())

    def _play(self, api: str, args: Mapping[str, Any]) -> PlayAction:
        """Start ``calling.play`` (``args["play"]`` the media), honouring ``timeout=``."""
        request_timeout = _start_timeout(api, args["timeout"], args["request_timeout"])
        args = {**args, "request_timeout": request_timeout}
        return self.operations.start(ops.PLAY, PlayAction, api, args)


__all__ = ["CallMediaMixin"]
