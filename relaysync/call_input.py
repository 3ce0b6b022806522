"""Call methods that listen to the caller: collect, prompts, detect, send_digits.

Each wrapper passes its arguments straight on (``locals()``) to the runner, which
checks them against the method's declaration in :mod:`relaysync.operations`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

from . import constants as C
from . import operations as ops
from .actions import CollectAction, DetectAction, SendDigitsAction
from .call_operations import Completion, Extra, Operations
from .operations import Operation
from .results import SendDigitsResult

Media = Union[str, Mapping[str, Any], Sequence[Mapping[str, Any]]]


def _prompt_media(media: Media) -> Any:
    """A plain string is a URL when it looks like one, else text to speak."""
    if isinstance(media, str):
        if media.startswith(("http://", "https://")):
            return {"type": "audio", "params": {"url": media}}
        return {"type": "tts", "params": {"text": media}}
    return media


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
        extra_params: Extra = None,
    ) -> CollectAction:
        """Collect digits and/or speech without a prompt (``calling.collect``).

        Args:
            digits: ``{"max": 4, "terminators": "#", "digit_timeout": 5}``.
            speech: ``{"end_silence_timeout": 1, "speech_timeout": 5, "language":
                "en-US", "hints": ["billing"], "engine": ...}``.
            initial_timeout, partial_results, continuous: sent at the top level.
            send_start_of_input, start_input_timers: sent at the top level too.
            status_url, on_completed, request_timeout: as for every action.
            extra_params: params sent as given, unchecked (RELAY's ``continue``, for
                one, which is a Python keyword).

        Returns:
            A :class:`CollectAction`; ``wait()`` gives a
            :class:`~relaysync.results.CollectResult`. Partial and ``start_of_input``
            events never settle it; with ``continuous=True`` it settles on
            ``state: finished`` and ``action.results`` holds every result.

        Raises:
            ValueError: neither ``digits`` nor ``speech``, a wrong type or value, or a
                bad timeout (nothing is sent).
            TypeError: an unknown key in ``digits`` or ``speech``.
        """
        return self._collecting(ops.COLLECT, "collect", locals())

    def play_and_collect(
        self,
        media: Media,
        collect: Mapping[str, Any],
        *,
        volume: Optional[float] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> CollectAction:
        """Play a prompt while collecting input (``calling.play_and_collect``).

        Args:
            media: media item(s), or a string (a URL plays it, other text is spoken);
                sent as ``play``.
            collect: the wire collect object: ``{"digits": {...}, "speech": {...},
                "initial_timeout": 5, "partial_results": ..., ...}``.
            volume: prompt volume, -40 to 40 dB.
            status_url, on_completed, request_timeout, extra_params: as for
                :meth:`collect`.

        Returns:
            A :class:`CollectAction` that settles on ``calling.call.collect`` only,
            never on the prompt's play events.

        Raises:
            ValueError: malformed media, a collect without digits or speech, a volume
                out of range, a wrong type, or a bad timeout (nothing is sent).
            TypeError: an unknown key in ``collect`` or in a media item.
        """
        play = _prompt_media(media)
        continuous = isinstance(collect, Mapping) and collect.get("continuous")
        return self._collecting(ops.PLAY_AND_COLLECT, "play_and_collect", locals())

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
        continuous: Optional[bool] = None,
        send_start_of_input: Optional[bool] = None,
        start_input_timers: Optional[bool] = None,
        volume: Optional[float] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> CollectAction:
        """Speak ``text`` and collect the answer. See :meth:`play_and_collect`.

        ``language``, ``gender`` and ``voice`` are the speech's; ``digits``, ``speech``
        and the other collect options go inside the wire's ``collect`` object.
        """
        params = {"text": text, "language": language, "gender": gender, "voice": voice}
        return self._prompt("prompt_tts", {"type": "tts", "params": params}, locals())

    def prompt_audio(
        self,
        url: str,
        *,
        digits: Optional[Mapping[str, Any]] = None,
        speech: Optional[Mapping[str, Any]] = None,
        initial_timeout: Optional[float] = None,
        partial_results: Optional[bool] = None,
        continuous: Optional[bool] = None,
        send_start_of_input: Optional[bool] = None,
        start_input_timers: Optional[bool] = None,
        volume: Optional[float] = None,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> CollectAction:
        """Play the audio at ``url`` and collect the answer. See :meth:`prompt_tts`."""
        return self._prompt("prompt_audio", {"type": "audio", "params": {"url": url}}, locals())

    def detect(
        self,
        detect: Mapping[str, Any],
        *,
        timeout: Optional[float] = 30.0,
        wait_for_beep: bool = False,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> DetectAction:
        """Start a detector (``calling.detect``) and return its :class:`DetectAction`.

        Args:
            detect: ``{"type": "machine" | "fax" | "digit", "params": {...}}``.
            timeout: the wire's own ``timeout``: seconds the detector runs.
            wait_for_beep: a client option, not sent: after ``MACHINE`` settle on the
                ``READY`` that follows (result ``MACHINE``, ``beep`` True).
            status_url, on_completed, request_timeout, extra_params: as for
                :meth:`collect`.

        Returns:
            The action; it settles on the first conclusive result, or on
            finished/error. Settling does not stop the detector; ``stop()`` does.

        Raises:
            ValueError: no detect ``type``, a wrong type or value, or a bad timeout
                (nothing is sent).
            TypeError: an unknown key in the detector's params.
        """
        return self._detecting("detect", locals())

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
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> DetectAction:
        """Detect a human or an answering machine; the keyword arguments before
        ``wait_for_beep`` are the detector's params. See :meth:`detect`."""
        args = locals()
        params = {key: args[key] for key in ops.DETECTORS[C.DETECT_MACHINE].members}
        detect = {"type": C.DETECT_MACHINE, "params": params}
        return self._detecting("detect_answering_machine", locals())

    def detect_fax(
        self,
        *,
        tone: Optional[str] = None,
        timeout: Optional[float] = 30.0,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> DetectAction:
        """Detect a fax tone (``tone``: ``CED`` or ``CNG``). See :meth:`detect`."""
        detect = {"type": C.DETECT_FAX, "params": {"tone": tone}}
        return self._detecting("detect_fax", locals())

    def detect_digit(
        self,
        *,
        digits: Optional[str] = None,
        timeout: Optional[float] = 30.0,
        status_url: Optional[str] = None,
        on_completed: Completion = None,
        request_timeout: Optional[float] = None,
        extra_params: Extra = None,
    ) -> DetectAction:
        """Detect DTMF digits (``digits``: which ones, e.g. ``"123#"``). See :meth:`detect`."""
        detect = {"type": C.DETECT_DIGIT, "params": {"digits": digits}}
        return self._detecting("detect_digit", locals())

    def send_digits(
        self, digits: str, *, timeout: Optional[float] = None, extra_params: Extra = None
    ) -> SendDigitsResult:
        """Send DTMF digits to the call and block until they are sent.

        Args:
            digits: ``0-9 # * A-D``; ``w`` pauses 0.5 s, ``W`` 1 s.
            timeout: seconds for the whole operation; ``None`` waits as long as the call
                lives.
            extra_params: params sent as given, unchecked.

        Returns:
            :class:`~relaysync.results.SendDigitsResult` (``state`` finished).

        Raises:
            ValueError: empty or invalid digits, or a bad timeout (nothing is sent).
            CallEndedError: the call ended first.
            RelayTimeoutError: not finished within ``timeout``.
        """
        result: SendDigitsResult = self.operations.run(
            ops.SEND_DIGITS,
            SendDigitsAction,
            "send_digits",
            locals(),
            timeout=timeout,
            what=f"send_digits on call {self.call_id}",
        )
        return result

    def _collecting(self, op: Operation, api: str, args: Mapping[str, Any]) -> CollectAction:
        """Start a collect; ``args["continuous"]`` also tells the action when it settles."""
        options = {"continuous": bool(args["continuous"])}
        return self.operations.start(op, CollectAction, api, args, options=options)

    def _prompt(self, api: str, play: Any, args: Mapping[str, Any]) -> CollectAction:
        """A prompt shorthand: its collect keywords go inside the wire's ``collect``."""
        collect = {key: args[key] for key in ops.COLLECT_KEYS if key in args}
        args = {**args, "play": play, "collect": collect}
        return self._collecting(ops.PLAY_AND_COLLECT, api, args)

    def _detecting(self, api: str, args: Mapping[str, Any]) -> DetectAction:
        """Start a detector; ``wait_for_beep`` (not sent) tells the action when it settles."""
        options = {"wait_for_beep": bool(args.get("wait_for_beep"))}
        return self.operations.start(ops.DETECT, DetectAction, api, args, options=options)


__all__ = ["CallInputMixin"]
