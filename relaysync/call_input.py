"""Call methods that listen to the caller: collect, prompts, detect, send_digits."""

from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

from . import constants as C
from . import operations as ops
from ._validate import check_timeout, check_volume
from .actions import CollectAction, DetectAction, SendDigitsAction
from .devices import audio, normalize_media, tts
from .results import SendDigitsResult
from .runner import Operations

Media = Union[str, Mapping[str, Any], Sequence[Mapping[str, Any]]]
Completion = Optional[Callable[[Any], Any]]


def _gather(
    digits: Optional[Mapping[str, Any]],
    speech: Optional[Mapping[str, Any]],
    **options: Any,
) -> Dict[str, Any]:
    """The collect object: digits and/or speech (one is required), plus options."""
    if digits is None and speech is None:
        raise ValueError("collect needs digits or speech (or both); neither was given")
    for name, value in (("digits", digits), ("speech", speech)):
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict of options, got {value!r}")
    return {"digits": digits, "speech": speech, **options}


def _prompt_media(media: Media) -> Any:
    """A plain string is a URL when it looks like one, else text to speak."""
    if isinstance(media, str):
        media = audio(media) if media.startswith(("http://", "https://")) else tts(media)
    return normalize_media(media)


class CallInputMixin:
    """collect, play_and_collect (and prompts), detect (and shorthands), send_digits."""

    operations: Operations
    call_id: str

    def collect(
        self,
        digits: Optional[Mapping[str, Any]] = None,
        speech: Optional[Mapping[str, Any]] = None,
        *,
        initial_timeout: Optional[float] = None,
        partial_results: Optional[bool] = None,
        continuous: Optional[bool] = None,
        send_start_of_input: Optional[bool] = None,
        start_input_timers: Optional[bool] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> CollectAction:
        """Collect digits and/or speech without a prompt (``calling.collect``).

        Args:
            digits: ``{"max": 4, "terminators": "#", "digit_timeout": 5}``.
            speech: ``{"end_silence_timeout": 1, "hints": ["billing"], ...}``.
            initial_timeout, partial_results, continuous: sent at the top level.
            send_start_of_input, start_input_timers: sent at the top level too.
            status_url, on_completed, request_timeout: as for every action.

        Returns:
            A :class:`CollectAction`; ``wait()`` gives a
            :class:`~relaysync.results.CollectResult`. Partial and ``start_of_input``
            events never settle it; with ``continuous=True`` it settles on
            ``state: finished`` and ``action.results`` holds every result.

        Raises:
            ValueError: neither ``digits`` nor ``speech``, or a bad timeout.
        """
        params = _gather(
            digits,
            speech,
            initial_timeout=initial_timeout,
            partial_results=partial_results,
            continuous=continuous,
            send_start_of_input=send_start_of_input,
            start_input_timers=start_input_timers,
            status_url=status_url,
        )
        return self.operations.start(
            ops.COLLECT,
            CollectAction,
            params,
            on_completed=on_completed,
            request_timeout=request_timeout,
            options={"continuous": bool(continuous)},
        )

    def play_and_collect(
        self,
        media: Media,
        collect: Mapping[str, Any],
        *,
        volume: Optional[float] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> CollectAction:
        """Play a prompt while collecting input (``calling.play_and_collect``).

        Args:
            media: media item(s), or a string (a URL plays it, other text is spoken).
            collect: the wire collect object: ``{"digits": {...}, "speech": {...},
                "initial_timeout": 5, "partial_results": ..., ...}``.
            volume: prompt volume, -40 to 40 dB.

        Returns:
            A :class:`CollectAction` that settles on ``calling.call.collect`` only,
            never on the prompt's play events.

        Raises:
            ValueError: malformed media, a collect without digits or speech, volume out
                of range, or a bad timeout (nothing is sent).
        """
        if not isinstance(collect, Mapping):
            raise TypeError(f"collect must be a dict, got {collect!r}")
        body = dict(collect)
        gathered = _gather(body.pop("digits", None), body.pop("speech", None), **body)
        return self.operations.start(
            ops.PLAY_AND_COLLECT,
            CollectAction,
            {
                "play": _prompt_media(media),
                "collect": gathered,
                "volume": check_volume("volume", volume),
                "status_url": status_url,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
            options={"continuous": bool(gathered.get("continuous"))},
        )

    def prompt_tts(
        self,
        text: str,
        *,
        digits: Optional[Mapping[str, Any]] = None,
        speech: Optional[Mapping[str, Any]] = None,
        language: Optional[str] = None,
        gender: Optional[str] = None,
        voice: Optional[str] = None,
        initial_timeout: Optional[float] = None,
        partial_results: Optional[bool] = None,
        send_start_of_input: Optional[bool] = None,
        start_input_timers: Optional[bool] = None,
        **kwargs: Any,
    ) -> CollectAction:
        """Speak ``text`` and collect the answer. See :meth:`play_and_collect`.

        The collect options go inside the wire's ``collect`` object.
        """
        return self.play_and_collect(
            tts(text, language=language, gender=gender, voice=voice),
            _gather(
                digits,
                speech,
                initial_timeout=initial_timeout,
                partial_results=partial_results,
                send_start_of_input=send_start_of_input,
                start_input_timers=start_input_timers,
            ),
            **kwargs,
        )

    def prompt_audio(
        self,
        url: str,
        *,
        digits: Optional[Mapping[str, Any]] = None,
        speech: Optional[Mapping[str, Any]] = None,
        initial_timeout: Optional[float] = None,
        partial_results: Optional[bool] = None,
        send_start_of_input: Optional[bool] = None,
        start_input_timers: Optional[bool] = None,
        **kwargs: Any,
    ) -> CollectAction:
        """Play the audio at ``url`` and collect the answer. See :meth:`play_and_collect`."""
        return self.play_and_collect(
            audio(url),
            _gather(
                digits,
                speech,
                initial_timeout=initial_timeout,
                partial_results=partial_results,
                send_start_of_input=send_start_of_input,
                start_input_timers=start_input_timers,
            ),
            **kwargs,
        )

    def detect(
        self,
        detect: Mapping[str, Any],
        *,
        timeout: Optional[float] = 30.0,
        wait_for_beep: bool = False,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
    ) -> DetectAction:
        """Start a detector (``calling.detect``) and return its :class:`DetectAction`.

        Args:
            detect: ``{"type": "machine" | "fax" | "digit", "params": {...}}``.
            timeout: the wire's own ``timeout``: seconds the detector runs.
            wait_for_beep: a client option, not sent: after ``MACHINE`` settle on the
                ``READY`` that follows (result ``MACHINE``, ``beep`` True).

        Returns:
            The action; it settles on the first conclusive result, or on
            finished/error. Settling does not stop the detector; ``stop()`` does.

        Raises:
            ValueError: no detect ``type``, or a bad timeout (nothing is sent).
        """
        if not isinstance(detect, Mapping) or not detect.get("type"):
            raise ValueError(f"detect needs a 'type' (machine, fax or digit), got {detect!r}")
        check_timeout("timeout", timeout)
        return self.operations.start(
            ops.DETECT,
            DetectAction,
            {
                "detect": {"type": detect["type"], "params": dict(detect.get("params") or {})},
                "timeout": timeout,
                "status_url": status_url,
            },
            on_completed=on_completed,
            request_timeout=request_timeout,
            options={"wait_for_beep": bool(wait_for_beep)},
        )

    def detect_answering_machine(
        self,
        *,
        initial_timeout: Optional[float] = None,
        end_silence_timeout: Optional[float] = None,
        machine_ready_timeout: Optional[float] = None,
        machine_voice_threshold: Optional[float] = None,
        machine_words_threshold: Optional[int] = None,
        detect_interruptions: Optional[bool] = None,
        detect_message_end: Optional[bool] = None,
        wait_for_beep: bool = False,
        timeout: Optional[float] = 30.0,
        **kwargs: Any,
    ) -> DetectAction:
        """Detect a human or an answering machine. See :meth:`detect`."""
        params = {
            "initial_timeout": initial_timeout,
            "end_silence_timeout": end_silence_timeout,
            "machine_ready_timeout": machine_ready_timeout,
            "machine_voice_threshold": machine_voice_threshold,
            "machine_words_threshold": machine_words_threshold,
            "detect_interruptions": detect_interruptions,
            "detect_message_end": detect_message_end,
        }
        return self.detect(
            {"type": C.DETECT_MACHINE, "params": params},
            timeout=timeout,
            wait_for_beep=wait_for_beep,
            **kwargs,
        )

    def detect_fax(
        self, *, tone: Optional[str] = None, timeout: Optional[float] = 30.0, **kwargs: Any
    ) -> DetectAction:
        """Detect a fax tone (``tone``: ``CED`` or ``CNG``). See :meth:`detect`."""
        if tone is not None and tone not in (C.DETECT_CED, C.DETECT_CNG):
            raise ValueError(f"tone must be 'CED' or 'CNG', got {tone!r}")
        return self.detect(
            {"type": C.DETECT_FAX, "params": {"tone": tone}}, timeout=timeout, **kwargs
        )

    def detect_digit(
        self, *, digits: Optional[str] = None, timeout: Optional[float] = 30.0, **kwargs: Any
    ) -> DetectAction:
        """Detect DTMF digits (``digits``: which ones, e.g. ``"123#"``). See :meth:`detect`."""
        if digits is not None and (
            not isinstance(digits, str) or not digits or set(digits) - set(C.DETECT_DIGITS)
        ):
            raise ValueError(f"digits must be made of {C.DETECT_DIGITS!r}, got {digits!r}")
        return self.detect(
            {"type": C.DETECT_DIGIT, "params": {"digits": digits}}, timeout=timeout, **kwargs
        )

    def send_digits(self, digits: str, *, timeout: Optional[float] = None) -> SendDigitsResult:
        """Send DTMF digits to the call and block until they are sent.

        Args:
            digits: ``0-9 # * A-D``; ``w`` pauses 0.5 s, ``W`` 1 s.
            timeout: seconds for the whole operation; ``None`` waits as long as the call
                lives.

        Returns:
            :class:`~relaysync.results.SendDigitsResult` (``state`` finished).

        Raises:
            ValueError: empty or invalid digits, or a bad timeout (nothing is sent).
            CallEndedError: the call ended first.
            RelayTimeoutError: not finished within ``timeout``.
        """
        if not isinstance(digits, str) or not digits or set(digits) - set(C.SEND_DIGITS_ALPHABET):
            raise ValueError(
                f"digits must be a non-empty string of {C.SEND_DIGITS_ALPHABET!r}, got {digits!r}"
            )
        result: SendDigitsResult = self.operations.run(
            ops.SEND_DIGITS,
            SendDigitsAction,
            {"digits": digits},
            timeout=timeout,
            what=f"send_digits on call {self.call_id}",
        )
        return result


__all__ = ["CallInputMixin"]
