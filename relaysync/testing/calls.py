"""The simulator's call engine: call legs, their states, and the scripting API for tests.

:class:`CallEngine` implements RELAY's ``calling.*`` methods on the simulator loop thread
(inbound offers in :mod:`~relaysync.testing.inbound`, dial and connect in
:mod:`~relaysync.testing.dialing`, play in :mod:`~relaysync.testing.playback`, SIP REFER in
:mod:`~relaysync.testing.refer`, the rest of the methods in the parts listed in
:attr:`CallEngine.parts`, written against :class:`~relaysync.testing.engine_api.EngineApi`).
``RelaySimulator``'s public, thread-safe scripting methods marshal onto it;
:class:`SimCall` is the handle a test holds for one call leg, and also scripts its far
end (:mod:`~relaysync.testing.caller`).

Scripting API (all delays are multiplied by the simulator's ``time_scale``)::

    call = sim.inbound_call("office", from_="+15550001111", to="+15550002222",
                            ring_timeout=30.0)        # -> SimCall
    call.wait_for_state("answered")                   # Condition-based, raises on timeout
    call.hangup()                                     # the caller hangs up
    sim.on_dial("+15553334444", "busy", delay=0.5)    # dial *and* connect legs to that number
    sim.on_refer("sip:busy@example.com", state="busy")
    sim.set_media_duration("https://example.com/a.mp3", 4.0)
    sim.calls; sim.get_call(call_id); sim.wait_for_call(lambda c: c.direction == "outbound")
    call.press("1234#"); call.say("billing please", confidence=0.9); call.stay_silent()
    call.leave_message(5.0, end="hangup"); call.answer_as("machine", greeting=4.0)
    sim.caller("+15553334444").answer_as("fax")     # calls to/from a number, ahead of time
    sim.conference_participants("sales"); sim.dequeue("support")

Behaviour worth knowing (choices where RELAY leaves room):

* Inbound calls are offered (``calling.call.receive`` with ``call_state: created``, then a
  ``ringing`` state event) to one online session subscribed to the context, round-robin
  per context. ``calling.pass`` re-offers to a subscribed session that has not had the
  call yet. When there is nobody (left) to offer to, the call ends with ``end_reason``
  ``abandoned``; when nobody answers within ``ring_timeout`` it ends with ``noAnswer``.
* Methods on an unknown ``call_id`` answer ``{"code": "404", "message": "Call not
  found"}``; on a call that has ended (or is ending) ``{"code": "410", "message": "Call
  is gone"}``. Missing ``call_id``/``node_id`` is a JSON-RPC error ``-32602`` with
  ``data.signalwire_error_code == "INVALID_PARAMS"``.
* A hang-up asked for (``calling.end``, :meth:`SimCall.hangup`, successful REFER)
  goes ``ending`` → ``ended``; a leg that fails, is cancelled or is not answered goes
  straight to ``ended``. Ending a call first finishes its plays (``finished``),
  cancels a REFER in progress (``cancel``, 202/487) and tears down its bridge.
* ``sim.on_dial(to, ...)`` scripts both ``calling.dial`` and ``calling.connect`` legs
  (keyed by a phone device's ``to_number`` or a sip/webrtc device's ``to``); unscripted
  legs answer after 0.5 s. Outcomes map to end reasons: busy → ``busy``, no-answer →
  ``noAnswer``, decline → ``decline``, fail → ``error``; parallel losers end ``cancel``.
  A failed dial's ``reason`` (and a failed connect's ``failed_reason``) is the end reason
  of the last leg tried.
* ``sim.on_refer(target, state)`` default codes (REFER/NOTIFY): success 202/200, busy
  202/486, noAnswer 202/480, cancel 202/487, error 202/503; unscripted targets succeed
  after 0.3 s.
* Media lengths: tts 0.08 s per character (at least 0.5 s), audio 2 s unless set with
  ``set_media_duration``, silence its ``duration``, ringtone its ``duration`` or 3 s.
  Unplayable media emits ``playing`` then ``error``; a call that ends finishes its plays.
* ``409`` answers: ``calling.refer``/``calling.connect`` on a call that is not answered,
  ``calling.connect`` on a call already connected, ``calling.disconnect`` on one that is
  not, ``calling.pass`` on a call that is not ringing or not offered to the sender,
  ``calling.answer`` on a ringing outbound leg (the far end answers it, see ``on_dial``),
  a second REFER while one is in progress, a ``control_id`` already playing.
* ``calling.answer`` on an answered call answers 200 again and emits nothing.
* ``calling.transfer`` answers 200 and sends nothing after it: no RELAY document says
  what follows a transfer. A test that wants the call to end scripts it
  (``SimCall.hangup()``).
* When a session expires (gone longer than the resume window), its ringing inbound
  calls are offered to the next session, its dials stop, and its other calls end
  (``hangup`` if answered, else ``cancel``).
* Ended calls leave the live table at once; the last ``history_size`` (1000) stay
  inspectable and answer 410.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from relaysync.constants import (
    CALL_ANSWERED,
    CALL_ENDED,
    CALL_ENDING,
    EVENT_CALL_STATE,
)
from relaysync.testing.caller import Caller
from relaysync.testing.callmodel import CallRecord, now_ms
from relaysync.testing.collect import Collector
from relaysync.testing.detect import Detector
from relaysync.testing.dialing import Dialer
from relaysync.testing.faxpay import FaxAndPay
from relaysync.testing.handle import SimCall
from relaysync.testing.inbound import InboundOffers
from relaysync.testing.methods import checked
from relaysync.testing.playback import MediaPlayer
from relaysync.testing.record import Recorder
from relaysync.testing.refer import Referrer
from relaysync.testing.replies import (
    CallHandler,
    Handler,
    Params,
    invalid_params,
    require_str,
    result,
)
from relaysync.testing.rooms import Rooms
from relaysync.testing.scripts import Scripts
from relaysync.testing.services import Services
from relaysync.testing.streams import Streams

if TYPE_CHECKING:
    from relaysync.testing.core import SimCore
    from relaysync.testing.sessions import Session

log = logging.getLogger("relaysync.simulator.calls")


class CallEngine:
    """Every call leg of one simulator and the ``calling.*`` methods acting on them.

    All methods except the read paths of the handles and the facade run on the loop thread.

    Args:
        core: the simulator core (sessions, events, timers).
        history_size: how many ended calls stay inspectable (and answer 410).
    """

    def __init__(self, core: SimCore, *, history_size: int = 1000) -> None:
        self.core = core
        self.scripts = Scripts()
        #: Guards what handles read; notified on every change (``version`` bumps).
        self.cond = threading.Condition(threading.RLock())
        self.version = 0
        self._live: Dict[str, CallRecord] = {}
        self._gone: OrderedDict[str, CallRecord] = OrderedDict()
        self._history_size = history_size
        self._seq = itertools.count()
        self._on_ending: List[Callable[[CallRecord], None]] = []
        self._on_ended: List[Callable[[CallRecord], None]] = []
        self.inbound = InboundOffers(self)
        self.dialer = Dialer(self)
        self.media = MediaPlayer(self)
        self.referrer = Referrer(self)
        self.rooms = Rooms(self)
        self.services = Services(self)
        self.parts: List[Any] = [
            self.inbound,
            self.dialer,
            self.media,
            self.referrer,
            Recorder(self),
            Collector(self),
            Detector(self),
            Streams(self),
            FaxAndPay(self),
            self.rooms,
            self.services,
        ]

    # -- wiring -------------------------------------------------------------------------

    def install(self) -> None:
        """Register every ``calling.*`` handler of the engine with the core."""
        methods: Dict[str, Handler] = {
            "calling.answer": self.call_handler(self._answer),
            "calling.end": self.call_handler(self._end),
            "calling.transfer": self.call_handler(self._transfer),
        }
        for part in self.parts:
            methods.update(part.methods())
        for method, handler in methods.items():
            self.core.register_method(
                method, checked(method, handler, self._is_live, self.core.lint)
            )
        self.core.add_session_listener(self._session_changed)

    def on_ending(self, hook: Callable[[CallRecord], None]) -> None:
        """Run ``hook(call)`` when a call starts ending, before its ``ended`` event."""
        self._on_ending.append(hook)

    def on_ended(self, hook: Callable[[CallRecord], None]) -> None:
        """Run ``hook(call)`` after a call's ``ended`` event went out."""
        self._on_ended.append(hook)

    def caller(self, call: CallRecord) -> Caller:
        """The scripted far end of ``call`` (created on first use, loop thread)."""
        if call.caller is None:
            call.caller = self.scripts.new_caller(call.far_end)
        caller: Caller = call.caller
        return caller

    def _is_live(self, params: Params) -> bool:
        call = self._live.get(params.get("call_id"))  # type: ignore[arg-type]
        return call is not None and call.live

    def call_handler(self, fn: CallHandler) -> Handler:
        """Wrap a per-call method: check ``call_id``/``node_id``, answer 404/410 itself.

        Args:
            fn: ``fn(session, call, params)`` run only for a live call.

        Returns:
            A ``handler(session, params)`` for :meth:`SimCore.register_method`.
        """

        def handler(session: Session, params: Params) -> Params:
            call_id = require_str(params, "call_id")
            require_str(params, "node_id")
            call = self._live.get(call_id)
            if call is None or not call.live:
                if call is not None or call_id in self._gone:
                    return result("410", "Call is gone", call_id=call_id)
                return result("404", "Call not found")
            return fn(session, call, params)

        return handler

    # -- timers -------------------------------------------------------------------------

    def after_reply(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop once the current method's result has been sent."""
        self.core.call_later(0.0, fn)

    def later(self, seconds: float, fn: Callable[[], None]) -> Any:
        """Run ``fn`` after ``seconds`` of simulated time (scaled); returns the timer."""
        return self.core.call_later(self.core.scale(seconds), fn)

    # -- the call table -----------------------------------------------------------------

    def new_call(
        self,
        *,
        direction: str,
        device: Dict[str, Any],
        tag: str,
        session: Optional[Session],
        created_by: str,
        context: Optional[str] = None,
        parent: Optional[CallRecord] = None,
    ) -> CallRecord:
        """Create and register a call leg in state ``created`` (no event is emitted)."""
        call = CallRecord(
            call_id=self.core.new_id(),
            node_id=self.core.node_id,
            tag=tag,
            direction=direction,
            device=device,
            context=context,
            session=session,
            created_by=created_by,
            parent=parent,
            seq=next(self._seq),
        )
        call.visited.add(call.state)
        with self.cond:
            self._live[call.call_id] = call
            self.changed()
        return call

    def find(self, call_id: str) -> Optional[CallRecord]:
        """Return the live or remembered call with ``call_id`` (any thread)."""
        with self.cond:
            return self._live.get(call_id) or self._gone.get(call_id)

    def records(self) -> List[CallRecord]:
        """Return live and remembered calls in creation order (any thread)."""
        with self.cond:
            return sorted([*self._live.values(), *self._gone.values()], key=lambda c: c.seq)

    def live_calls(self) -> List[CallRecord]:
        """Return the live calls (loop thread)."""
        return list(self._live.values())

    def handle(self, call: CallRecord) -> SimCall:
        """Return the public handle of ``call`` (any thread)."""
        with self.cond:
            if call.handle is None:
                call.handle = SimCall(self, call)
            handle: SimCall = call.handle
            return handle

    def wait_for_call(
        self, predicate: Optional[Callable[[SimCall], bool]], timeout: float
    ) -> Optional[SimCall]:
        """The oldest live or remembered call whose handle matches ``predicate`` (any
        thread but the loop's), waiting up to ``timeout`` seconds; ``None`` if none came.

        ``predicate`` is called outside :attr:`cond`; ``None`` matches any call.
        """
        end = time.monotonic() + timeout
        while True:
            with self.cond:
                seen = self.version
            for handle in [self.handle(record) for record in self.records()]:
                if predicate is None or predicate(handle):
                    return handle

            def moved(seen: int = seen) -> bool:
                return self.version != seen

            with self.cond:
                remaining = end - time.monotonic()
                if remaining <= 0 or not self.cond.wait_for(moved, remaining):
                    return None

    def changed(self) -> None:
        """Note a change handles may wait for (call with :attr:`cond` held)."""
        self.version += 1
        self.cond.notify_all()

    # -- events and states --------------------------------------------------------------

    def emit(self, call: CallRecord, event_type: str, params: Params) -> None:
        """Send ``event_type`` for ``call`` to its session and keep it in its history."""
        with self.cond:
            call.events.append({"event_type": event_type, "params": params})
            self.changed()
        if call.session is not None:
            self.core.send_event(call.session, event_type, params)

    def state_params(self, call: CallRecord) -> Params:
        """Build the ``calling.call.state`` body for the call's current state."""
        body: Params = {
            "node_id": call.node_id,
            "call_id": call.call_id,
            "tag": call.tag,
            "call_state": call.state,
            "direction": call.direction,
            "device": call.device,
            "created_by": call.created_by,
            "start_time": call.start_time,
        }
        if call.context is not None:
            body["context"] = call.context
        if call.parent is not None:
            body["parent"] = {
                "device_type": call.parent.device.get("type"),
                "node_id": call.parent.node_id,
                "call_id": call.parent.call_id,
            }
        if call.peer is not None:
            body["peer"] = {"node_id": call.peer.node_id, "call_id": call.peer.call_id}
        if call.answer_time is not None:
            body["answer_time"] = call.answer_time
        if call.end_time is not None:
            body["end_time"] = call.end_time
        if call.end_reason is not None:
            body["end_reason"] = call.end_reason
        return body

    def emit_state(self, call: CallRecord) -> None:
        """Emit ``calling.call.state`` with the call's current state."""
        self.emit(call, EVENT_CALL_STATE, self.state_params(call))

    def set_state(self, call: CallRecord, state: str, end_reason: Optional[str] = None) -> None:
        """Move ``call`` to ``state`` and emit the state event."""
        with self.cond:
            call.state = state
            call.visited.add(state)
            if state == CALL_ANSWERED:
                call.answer_time = now_ms()
            elif state == CALL_ENDED:
                call.end_time = now_ms()
                call.end_reason = end_reason or "hangup"
            self.changed()
        self.emit_state(call)

    def end_call(
        self, call: CallRecord, reason: str = "hangup", *, via_ending: bool = True
    ) -> None:
        """End ``call`` once: optional ``ending``, teardown hooks, ``ended``, forget it.

        Args:
            call: the leg to end; a call already ending or ended is left alone.
            reason: the ``end_reason``.
            via_ending: emit ``ending`` first (a hang-up); ``False`` for legs that fail,
                are cancelled or are never answered.
        """
        if call.closing or call.state == CALL_ENDED:
            return
        call.closing = True
        if via_ending:
            self.set_state(call, CALL_ENDING)
        for hook in self._on_ending:
            self._run_hook(hook, call)
        self.set_state(call, CALL_ENDED, reason)
        with self.cond:
            self._live.pop(call.call_id, None)
            self._gone[call.call_id] = call
            while len(self._gone) > self._history_size:
                self._gone.popitem(last=False)
            self.changed()
        for hook in self._on_ended:
            self._run_hook(hook, call)

    @staticmethod
    def _run_hook(hook: Callable[[CallRecord], None], call: CallRecord) -> None:
        try:
            hook(call)
        except Exception:  # a broken hook must not leave the call half-ended
            log.exception("call engine hook %r failed for call %s", hook, call.call_id)

    def hangup(self, call: CallRecord, reason: str) -> None:
        """The far end hangs up ``call`` (loop thread; used by :meth:`SimCall.hangup`)."""
        self.end_call(call, reason, via_ending=True)

    def finish_ai(self, call: CallRecord, state: str) -> str:
        """End the ``calling.ai`` session of ``call`` with ``state``; return its control_id.

        Raises:
            ValueError: a bad ``state``, or no ``calling.ai`` session runs on the call.
        """
        return self.services.finish_ai(call, state)

    def _session_changed(self, session: Session, what: str) -> None:
        if what != "expired":
            return
        owned = [call for call in self.live_calls() if call.session is session]
        for call in owned:
            with self.cond:
                call.session = None
        for call in owned:
            self.inbound.reoffer_if_ringing(call)
        self.dialer.session_expired(session)
        for call in owned:
            if call.live and call.session is None:
                self.end_call(call, "hangup" if call.state == CALL_ANSWERED else "cancel")

    # -- answer, end, transfer ----------------------------------------------------------

    def _answer(self, session: Session, call: CallRecord, params: Params) -> Params:
        if call.direction == "outbound" and call.state != CALL_ANSWERED:
            return result("409", "An outbound leg is answered by the far end", call_id=call.call_id)
        if call.state != CALL_ANSWERED:
            self.inbound.claim(call, session)

            def answer() -> None:
                if call.live and call.state != CALL_ANSWERED:
                    self.set_state(call, CALL_ANSWERED)

            self.after_reply(answer)
        return result("200", "Answered", call_id=call.call_id)

    def _end(self, session: Session, call: CallRecord, params: Params) -> Params:
        reason = params.get("reason", "hangup")
        if not isinstance(reason, str) or not reason:
            raise invalid_params("reason must be a non-empty string")
        self.after_reply(lambda: self.end_call(call, reason))
        return result("200", "Disconnecting call", call_id=call.call_id)

    def _transfer(self, session: Session, call: CallRecord, params: Params) -> Params:
        dest = params.get("dest")
        if not isinstance(dest, str) or not dest:
            raise invalid_params("dest is required (a URL, SWML or 'context:<name>')")
        return result("200", "Transferring", call_id=call.call_id)


__all__ = ["CallEngine", "SimCall"]
