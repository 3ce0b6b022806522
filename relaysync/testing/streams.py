"""``calling.tap``, ``calling.stream`` and ``calling.transcribe``: media that runs until
stopped.

Runs on the simulator loop thread. Each emits its running state (``tapping``,
``streaming``, ``transcribing``) after the start result and ``finished`` on its
``.stop`` sub-command or when the call ends (before the call's ``ended``).

* tap: ``tap`` is ``{type: "audio", params: {direction: listen|speak|both}}``;
  ``device`` is ``{type: "rtp", params: {addr, port}}`` or ``{type: "ws", params:
  {uri}}``. The start result carries the simulator's ``source_device`` (rtp); events
  echo ``tap`` and ``device``.
* stream: ``url`` must be ``ws://`` or ``wss://``; ``track`` is ``inbound_track``,
  ``outbound_track`` or ``both_tracks``. Events carry ``url`` and ``name``.
* transcribe: one per call (a second one answers ``409``); ``finished`` describes the
  recording: ``url``, ``recording_id``, ``duration``, ``size``, ``start_time``,
  ``end_time`` (epoch seconds).
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from relaysync.constants import EVENT_CALL_STREAM, EVENT_CALL_TAP, EVENT_CALL_TRANSCRIBE
from relaysync.testing.replies import invalid_params, require_str, result
from relaysync.testing.running_ops import OperationTable, RunningOperation

if TYPE_CHECKING:
    from relaysync.testing.callmodel import CallRecord
    from relaysync.testing.engine_api import EngineApi
    from relaysync.testing.replies import Handler, Params
    from relaysync.testing.sessions import Session

STREAM_TRACKS = ("inbound_track", "outbound_track", "both_tracks")
TRANSCRIPT_URL = "https://sim.relaysync.invalid/api/v1/recordings/{id}.wav"
_ports = itertools.count(40_000, 2)


class _Running(RunningOperation):
    """One tap, stream or transcription (loop thread only)."""

    def __init__(self, call: CallRecord, control_id: str, body: Params) -> None:
        super().__init__(call, control_id)
        self.body = body
        self.wall_start = time.time()


def _check_tap(tap: Any, device: Any) -> None:
    if not isinstance(tap, dict) or tap.get("type") != "audio":
        raise invalid_params("tap must be {type: 'audio', params: {direction}}")
    params = tap.get("params")
    if not isinstance(params, dict) or params.get("direction") not in ("listen", "speak", "both"):
        raise invalid_params("tap.params.direction must be listen, speak or both")
    if not isinstance(device, dict) or not isinstance(device.get("params"), dict):
        raise invalid_params("device must be {type: 'rtp'|'ws', params: {...}}")
    kind, dparams = device.get("type"), device["params"]
    if kind == "rtp":
        if not isinstance(dparams.get("addr"), str) or not isinstance(dparams.get("port"), int):
            raise invalid_params("an rtp device needs params.addr and params.port")
    elif kind == "ws":
        if not str(dparams.get("uri", "")).startswith(("ws://", "wss://")):
            raise invalid_params("a ws device needs params.uri (ws:// or wss://)")
    else:
        raise invalid_params("device.type must be rtp or ws")


class Streams:
    """Handles tap, stream and transcribe (loop thread only).

    Args:
        engine: the call engine this belongs to.
    """

    def __init__(self, engine: EngineApi) -> None:
        self._engine = engine
        self.tables: Dict[str, OperationTable[_Running]] = {}
        for name, event in (
            ("tap", EVENT_CALL_TAP),
            ("stream", EVENT_CALL_STREAM),
            ("transcribe", EVENT_CALL_TRANSCRIBE),
        ):
            self.tables[name] = OperationTable(engine, event, self._stopper(name))

    def methods(self) -> Dict[str, Handler]:
        """Return the handlers this part implements."""
        wrap = self._engine.call_handler
        handlers: Dict[str, Handler] = {
            "calling.tap": wrap(self._tap),
            "calling.stream": wrap(self._stream),
            "calling.transcribe": wrap(self._transcribe),
        }
        for name, table in self.tables.items():
            handlers[f"calling.{name}.stop"] = wrap(table.command("Stopped", self._stopper(name)))
        return handlers

    def _stopper(self, name: str) -> Callable[[_Running], None]:
        def stop(op: _Running) -> None:
            body = dict(op.body, state="finished")
            if name == "transcribe":
                end = time.time()
                duration = round(end - op.wall_start, 2)
                body.update(duration=duration, size=int(duration * 16_000), end_time=end)
            self.tables[name].finish(op, body)

        return stop

    def _start(
        self, name: str, state: str, call: CallRecord, params: Params, body: Params, **extra: Any
    ) -> Params:
        table = self.tables[name]
        op = _Running(call, require_str(params, "control_id"), body)
        answer = table.start(op, "OK", lambda: table.emit(op, dict(op.body, state=state)))
        if answer["code"] == "200":
            answer.update(extra)
        return answer

    def _tap(self, session: Session, call: CallRecord, params: Params) -> Params:
        tap, device = params.get("tap"), params.get("device")
        _check_tap(tap, device)
        source = {
            "type": "rtp",
            "params": {"addr": "127.0.0.1", "port": next(_ports), "codec": "PCMU", "ptime": 20},
        }
        return self._start(
            "tap", "tapping", call, params, {"tap": tap, "device": device}, source_device=source
        )

    def _stream(self, session: Session, call: CallRecord, params: Params) -> Params:
        url = params.get("url")
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise invalid_params("url must be a ws:// or wss:// URL")
        track = params.get("track")
        if track is not None and track not in STREAM_TRACKS:
            raise invalid_params(f"track must be one of {list(STREAM_TRACKS)}")
        name: Optional[str] = params.get("name")
        return self._start("stream", "streaming", call, params, {"url": url, "name": name})

    def _transcribe(self, session: Session, call: CallRecord, params: Params) -> Params:
        table = self.tables["transcribe"]
        if table.running(call):
            return result("409", "A transcription is already active", call_id=call.call_id)
        recording_id = str(uuid.uuid4())
        body = {
            "url": TRANSCRIPT_URL.format(id=recording_id),
            "recording_id": recording_id,
            "start_time": time.time(),
        }
        return self._start("transcribe", "transcribing", call, params, body)


__all__: List[str] = ["Streams"]
