"""``calling.play`` and its sub-commands (stop, pause, resume, volume).

Runs on the simulator loop thread. A play emits ``playing`` and, once its media has
played, ``finished``. Media lengths (before ``time_scale``): tts 0.08 s per character of
``text`` (at least 0.5 s); audio 2 s unless set with ``sim.set_media_duration(url, s)``;
silence its ``duration``; ringtone its ``duration`` or 3 s; items add up and ``loop: n``
multiplies the total (``loop: 0`` plays until stopped). A play with nothing playable (an
empty list, an unknown media type, an audio URL that is not http(s), tts without text)
emits ``playing`` then ``error``. A paused play keeps its remaining time. When the call
ends, its plays end ``finished``, as a media server stopping playback would report.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from relaysync.constants import EVENT_CALL_PLAY
from relaysync.testing.replies import invalid_params, require_str, result

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.calls import CallEngine
    from relaysync.testing.core import Session
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.scripts import Scripts

TTS_SECONDS_PER_CHAR = 0.08
TTS_MIN_SECONDS = 0.5
RINGTONE_SECONDS = 3.0


def _seconds(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


def media_seconds(item: Any, scripts: Scripts) -> Optional[float]:
    """Return how long one media item plays (unscaled), or ``None`` if it cannot play.

    Args:
        item: a wire media item ``{"type": ..., "params": {...}}``.
        scripts: where scripted audio lengths are kept.
    """
    if not isinstance(item, dict) or not isinstance(item.get("params"), dict):
        return None
    kind, params = item.get("type"), item["params"]
    if kind == "tts":
        text = params.get("text")
        if not isinstance(text, str) or not text:
            return None
        return max(TTS_MIN_SECONDS, TTS_SECONDS_PER_CHAR * len(text))
    if kind == "audio":
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return None
        return scripts.audio_duration(url)
    if kind == "silence":
        return _seconds(params.get("duration"))
    if kind == "ringtone":
        return _seconds(params.get("duration", RINGTONE_SECONDS))
    return None


def play_seconds(items: List[Any], loop: int, scripts: Scripts) -> Optional[float]:
    """Return the unscaled length of a play, ``inf`` for ``loop == 0``, ``None`` if broken."""
    lengths = [media_seconds(item, scripts) for item in items]
    if not lengths or any(length is None for length in lengths):
        return None
    total = sum(length for length in lengths if length is not None)
    return float("inf") if loop == 0 else total * loop


class _Play:
    """One running play (loop thread only)."""

    def __init__(self, call: CallRecord, control_id: str, remaining: Optional[float]) -> None:
        self.call = call
        self.control_id = control_id
        self.remaining = remaining  # real seconds left; inf = until stopped; None = broken
        self.state = "new"
        self.since = time.monotonic()
        self.timer: Any = None
        self.volume: float = 0.0

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class MediaPlayer:
    """Plays media on calls (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: CallEngine) -> None:
        self._engine = engine
        self._plays: Dict[str, Dict[str, _Play]] = {}  # call_id -> control_id -> play
        engine.on_ending(self._call_ending)

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        return {
            "calling.play": wrap(self._play),
            "calling.play.stop": wrap(self._stop),
            "calling.play.pause": wrap(self._pause),
            "calling.play.resume": wrap(self._resume),
            "calling.play.volume": wrap(self._volume),
        }

    def _emit(self, play: _Play, state: str) -> None:
        play.state = state
        self._engine.emit(
            play.call,
            EVENT_CALL_PLAY,
            {
                "node_id": play.call.node_id,
                "call_id": play.call.call_id,
                "control_id": play.control_id,
                "state": state,
            },
        )

    def _arm(self, play: _Play) -> None:
        play.since = time.monotonic()
        if play.remaining is not None and play.remaining != float("inf"):
            play.timer = self._engine.core.call_later(
                play.remaining, lambda: self._finish(play, "finished")
            )

    def _finish(self, play: _Play, state: str) -> None:
        play.cancel_timer()
        plays = self._plays.get(play.call.call_id, {})
        if plays.get(play.control_id) is not play:
            return
        del plays[play.control_id]
        if not plays:
            self._plays.pop(play.call.call_id, None)
        self._emit(play, state)

    def _play(self, session: Session, call: CallRecord, params: Params) -> Params:
        control_id = require_str(params, "control_id")
        items = params.get("play")
        if not isinstance(items, list):
            raise invalid_params("play must be a list of media items")
        loop = params.get("loop", 1)
        if isinstance(loop, bool) or not isinstance(loop, int) or loop < 0:
            raise invalid_params("loop must be an integer >= 0 (0 plays until stopped)")
        volume = params.get("volume", 0.0)
        if isinstance(volume, bool) or not isinstance(volume, (int, float)):
            raise invalid_params("volume must be a number (dB)")
        plays = self._plays.setdefault(call.call_id, {})
        if control_id in plays:
            return result(
                "409", "control_id is already in use", call_id=call.call_id, control_id=control_id
            )
        seconds = play_seconds(items, loop, self._engine.scripts)
        play = _Play(
            call, control_id, None if seconds is None else self._engine.core.scale(seconds)
        )
        play.volume = float(volume)
        plays[control_id] = play

        def start() -> None:
            if play.state != "new" or plays.get(control_id) is not play:
                return
            self._emit(play, "playing")
            if play.remaining is None:
                self._finish(play, "error")
            else:
                self._arm(play)

        self._engine.after_reply(start)
        return result("200", "Playing", call_id=call.call_id, control_id=control_id)

    def _control(self, call: CallRecord, params: Params) -> Optional[_Play]:
        control_id = require_str(params, "control_id")
        return self._plays.get(call.call_id, {}).get(control_id)

    @staticmethod
    def _not_found(call: CallRecord, params: Params) -> Params:
        return result(
            "404", "Control not found", call_id=call.call_id, control_id=params["control_id"]
        )

    def _sub_command(
        self, call: CallRecord, params: Params, message: str, effect: Callable[[_Play], None]
    ) -> Params:
        """Find the play by ``control_id`` (404 if unknown); apply ``effect`` after the reply."""
        play = self._control(call, params)
        if play is None:
            return self._not_found(call, params)
        self._engine.after_reply(lambda: effect(play))
        return result("200", message, call_id=call.call_id, control_id=play.control_id)

    def _stop(self, session: Session, call: CallRecord, params: Params) -> Params:
        return self._sub_command(
            call, params, "Stopped", lambda play: self._finish(play, "finished")
        )

    def _pause(self, session: Session, call: CallRecord, params: Params) -> Params:
        return self._sub_command(call, params, "Paused", self._pause_now)

    def _resume(self, session: Session, call: CallRecord, params: Params) -> Params:
        return self._sub_command(call, params, "Resumed", self._resume_now)

    def _pause_now(self, play: _Play) -> None:
        if play.state != "playing":
            return
        play.cancel_timer()
        if play.remaining is not None:
            play.remaining = max(0.0, play.remaining - (time.monotonic() - play.since))
        self._emit(play, "paused")

    def _resume_now(self, play: _Play) -> None:
        if play.state == "paused":
            self._emit(play, "playing")
            self._arm(play)

    def _volume(self, session: Session, call: CallRecord, params: Params) -> Params:
        play = self._control(call, params)
        if play is None:
            return self._not_found(call, params)
        volume = params.get("volume")
        if isinstance(volume, bool) or not isinstance(volume, (int, float)):
            raise invalid_params("volume must be a number (dB)")
        play.volume = float(volume)
        return result("200", "Volume set", call_id=call.call_id, control_id=play.control_id)

    def _call_ending(self, call: CallRecord) -> None:
        for play in list(self._plays.get(call.call_id, {}).values()):
            self._finish(play, "finished")
