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
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from relaysync.constants import EVENT_CALL_PLAY
from relaysync.testing.replies import invalid_params, require_str
from relaysync.testing.running_ops import OperationTable, RunningOperation

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.scripts import Scripts
    from relaysync.testing.sessions import Session

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


class _Play(RunningOperation):
    """One running play (loop thread only)."""

    def __init__(self, call: CallRecord, control_id: str, remaining: Optional[float]) -> None:
        super().__init__(call, control_id)
        self.remaining = remaining  # real seconds left; inf = until stopped; None = broken
        self.state = "new"
        self.since = time.monotonic()
        self.volume: float = 0.0


class MediaPlayer:
    """Plays media on calls (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self.table: OperationTable[_Play] = OperationTable(
            engine, EVENT_CALL_PLAY, lambda play: self._finish(play, "finished")
        )

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        table = self.table
        return {
            "calling.play": wrap(self._play),
            "calling.play.stop": wrap(
                table.command("Stopped", lambda play: self._finish(play, "finished"))
            ),
            "calling.play.pause": wrap(table.command("Paused", self._pause_now)),
            "calling.play.resume": wrap(table.command("Resumed", self._resume_now)),
            "calling.play.volume": wrap(self._volume),
        }

    def _emit(self, play: _Play, state: str) -> None:
        play.state = state
        self.table.emit(play, {"state": state})

    def _arm(self, play: _Play) -> None:
        play.since = time.monotonic()
        if play.remaining is not None and play.remaining != float("inf"):
            play.keep(
                self._engine.core.call_later(play.remaining, lambda: self._finish(play, "finished"))
            )

    def _finish(self, play: _Play, state: str) -> None:
        if self.table.finish(play):
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
        seconds = play_seconds(items, loop, self._engine.scripts)
        play = _Play(
            call, control_id, None if seconds is None else self._engine.core.scale(seconds)
        )
        play.volume = float(volume)

        def start() -> None:
            if play.state != "new":
                return
            self._emit(play, "playing")
            if play.remaining is None:
                self._finish(play, "error")
            else:
                self._arm(play)

        return self.table.start(play, "Playing", start)

    def _pause_now(self, play: _Play) -> None:
        if play.state != "playing":
            return
        play.cancel_timers()
        if play.remaining is not None:
            play.remaining = max(0.0, play.remaining - (time.monotonic() - play.since))
        self._emit(play, "paused")

    def _resume_now(self, play: _Play) -> None:
        if play.state == "paused":
            self._emit(play, "playing")
            self._arm(play)

    def _volume(self, session: Session, call: CallRecord, params: Params) -> Params:
        volume = params.get("volume")
        if isinstance(volume, bool) or not isinstance(volume, (int, float)):
            raise invalid_params("volume must be a number (dB)")

        def apply(play: _Play) -> None:
            play.volume = float(volume)

        return self.table.sub_command(call, params, "Volume set", apply)
