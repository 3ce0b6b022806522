"""Routing events to calls and dials, and the registry of live calls.

:class:`Router.route` runs on the reader thread. It never runs user code: it updates
state under the owning object's lock and hands handlers and callbacks to the worker
pool.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional

from . import constants as C
from ._log import LimitedLog, logger
from .call import Call
from .draining import HandlerTracker
from .errors import CallEndedError, DialError, RelayError
from .events import CallReceiveEvent, DialEvent, RelayEvent, parse_event
from .failures import report_failure
from .host import CallHost
from .waiting import OneShot

CallFactory = Callable[..., Call]
CallHandler = Callable[[Call], Any]

ABANDONED_DIAL_TTL = 600.0
MAX_DIALS = 10_000


class DialWaiter:
    """One ``calling.dial`` waiting for its ``calling.call.dial`` outcome."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.created = time.monotonic()
        self._outcome: OneShot[Call] = OneShot()
        self.abandoned = False

    @property
    def done(self) -> bool:
        """True once answered or failed."""
        return self._outcome.done

    @property
    def winner(self) -> Optional[Call]:
        """The answered call, once there is one."""
        return self._outcome.value

    def resolve(self, call: Call) -> bool:
        """Record the winner; returns True if nobody waits for it any more."""
        with self._outcome.guard:
            self._outcome.resolve_locked(call)
            return self.abandoned

    def fail(self, error: RelayError) -> None:
        """Record a failure and wake the waiter."""
        self._outcome.set_error(error)

    def abandon(self) -> None:
        """Nobody waits any more; a late winner gets hung up."""
        with self._outcome.guard:
            self.abandoned = True

    def wait(self, timeout: Optional[float], what: str) -> Call:
        """Block for the winner; on timeout the dial is marked abandoned.

        Raises:
            DialError: the dial failed.
            RelayTimeoutError: no outcome within ``timeout``.
        """
        try:
            return self._outcome.wait(timeout, what)
        except TimeoutError:
            with self._outcome.guard:
                self.abandoned = True
            raise


class CallRegistry:
    """Live calls by call_id, watched tags and pending dials. Thread-safe."""

    def __init__(self, make_call: CallFactory) -> None:
        self._make_call = make_call
        self._lock = threading.Lock()
        self._calls: Dict[str, Call] = {}
        self._tags: Dict[str, int] = {}
        self._dials: Dict[str, DialWaiter] = {}

    def new_call(self, call_id: str, node_id: Optional[str], **options: Any) -> Call:
        """Build (but do not register) a Call for this client."""
        return self._make_call(call_id, node_id, **options)

    def get(self, call_id: Optional[str]) -> Optional[Call]:
        """The live call with this id, if any."""
        if call_id is None:
            return None
        with self._lock:
            return self._calls.get(call_id)

    def all(self) -> List[Call]:
        """A snapshot of the live calls."""
        with self._lock:
            return list(self._calls.values())

    def add(self, call: Call) -> None:
        """Register a call."""
        with self._lock:
            self._calls[call.call_id] = call

    def remove(self, call: Call) -> None:
        """Forget a call (it ended)."""
        with self._lock:
            if self._calls.get(call.call_id) is call:
                del self._calls[call.call_id]

    def sizes(self) -> Dict[str, int]:
        """How many calls, tags and dials are tracked (for leak checks)."""
        with self._lock:
            return {"calls": len(self._calls), "tags": len(self._tags), "dials": len(self._dials)}

    def watch_tag(self, tag: str) -> None:
        """Create Call objects for legs whose state events carry ``tag``."""
        with self._lock:
            self._tags[tag] = self._tags.get(tag, 0) + 1

    def unwatch_tag(self, tag: str) -> None:
        """Undo one :meth:`watch_tag`."""
        with self._lock:
            count = self._tags.get(tag, 0) - 1
            if count > 0:
                self._tags[tag] = count
            else:
                self._tags.pop(tag, None)

    def watched(self, tag: Optional[str]) -> bool:
        """Whether legs with this tag become Call objects."""
        if not tag:
            return False
        with self._lock:
            return tag in self._tags

    def start_dial(self, tag: str) -> DialWaiter:
        """Register a dial before its request is sent.

        Raises:
            ValueError: a dial with this tag is already pending.
        """
        now = time.monotonic()
        with self._lock:
            if tag in self._dials:
                raise ValueError(f"a dial with tag {tag!r} is already in progress")
            if len(self._dials) >= MAX_DIALS:
                for old_tag, old in list(self._dials.items()):
                    if old.abandoned and now - old.created > ABANDONED_DIAL_TTL:
                        del self._dials[old_tag]
                        self._tags.pop(old_tag, None)
            waiter = DialWaiter(tag)
            self._dials[tag] = waiter
            self._tags[tag] = self._tags.get(tag, 0) + 1
        return waiter

    def end_dial(self, tag: str) -> Optional[DialWaiter]:
        """Forget a dial; returns its waiter if it was pending."""
        with self._lock:
            waiter = self._dials.pop(tag, None)
            if waiter is not None:
                self._tags.pop(tag, None)
            return waiter

    def adopt_peer(self, peer: Mapping[str, Any]) -> Optional[Call]:
        """The Call for a peer description ``{call_id, node_id, tag?, device?}``."""
        call_id = peer.get("call_id")
        if not isinstance(call_id, str) or not call_id:
            return None
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                node = peer.get("node_id")
                tag = peer.get("tag")
                device = peer.get("device")
                call = self._make_call(
                    call_id,
                    node if isinstance(node, str) else None,
                    direction="outbound",
                    device=device if isinstance(device, dict) else None,
                    tag=tag if isinstance(tag, str) else None,
                    state=C.CALL_ANSWERED,
                )
                self._calls[call_id] = call
        return call

    def detach_all(self, error: RelayError) -> None:
        """The client is gone: release every wait on every call."""
        with self._lock:
            calls = list(self._calls.values())
            dials = list(self._dials.values())
            self._calls.clear()
            self._dials.clear()
            self._tags.clear()
        for call in calls:
            call.detach(error)
        for dial in dials:
            dial.fail(error)


class Router:
    """Turns event payloads into typed events and delivers them (reader thread)."""

    def __init__(
        self,
        host: CallHost,
        registry: CallRegistry,
        *,
        call_handler: Callable[[], Optional[CallHandler]],
        busy_policy: str,
        on_messaging: Callable[[RelayEvent], None],
        on_event: Optional[Callable[[RelayEvent, Dict[str, Any]], None]] = None,
        handlers: Optional[HandlerTracker] = None,
        hangup_on_error: bool = True,
    ) -> None:
        self._host = host
        self._handlers = handlers if handlers is not None else HandlerTracker()
        self._hangup_on_error = hangup_on_error
        self._on_event = on_event
        self._registry = registry
        self._call_handler = call_handler
        self._busy_policy = busy_policy
        self._on_messaging = on_messaging
        self._log = LimitedLog()

    def route(self, payload: Dict[str, Any], event_id: Optional[str]) -> None:
        """Deliver one event payload; never raises for unknown or partial payloads."""
        event = parse_event(payload, event_id)
        if self._on_event is not None:
            self._on_event(event, payload)  # queues the event listeners, runs none
        kind = event.event_type
        if not kind:
            logger.debug("relaysync: dropped an event without event_type")
        elif isinstance(event, CallReceiveEvent):
            self._offer(event)
        elif isinstance(event, DialEvent):
            self._dial(event)
        elif kind.startswith("messaging."):
            self._on_messaging(event)
        else:
            self._to_call(event)

    def _to_call(self, event: RelayEvent) -> None:
        """Route by call_id; a tagged leg of a watched dial/connect becomes a Call."""
        registry = self._registry
        call = registry.get(event.call_id)
        if (
            call is None
            and event.event_type == C.EVENT_CALL_STATE
            and event.call_id
            and registry.watched(event.tag)
        ):
            device = event.params.get("device")
            call = registry.new_call(
                event.call_id,
                event.node_id,
                direction="outbound",
                device=device if isinstance(device, dict) else None,
                tag=event.tag,
            )
            registry.add(call)
        if call is None:
            logger.debug(
                "relaysync: %s for unknown call %s dropped", event.event_type, event.call_id
            )
            return
        if call.apply_event(event):
            registry.remove(call)

    def _offer(self, event: CallReceiveEvent) -> None:
        """An inbound call: register it and hand it to the on_call handler."""
        if not event.call_id:
            self._log.warning(
                "receive-without-call-id", "relaysync: calling.call.receive without call_id dropped"
            )
            return
        pool = self._host.pool
        call = self._registry.new_call(
            event.call_id,
            event.node_id,
            direction="inbound",
            device=event.device,
            tag=event.tag or None,
            context=event.context,
            state=event.call_state or C.CALL_CREATED,
        )
        self._registry.add(call)
        call.apply_event(event)
        handler = self._call_handler()
        if self._handlers.draining:
            logger.info("relaysync: draining; passing inbound call %s", call.call_id)
        elif handler is None:
            logger.warning(
                "relaysync: inbound call %s on %r but no on_call handler; passing it",
                call.call_id,
                event.context,
            )
        elif self._busy_policy == "pass" and pool.saturated():
            logger.info(
                "relaysync: all %d workers busy; passing inbound call %s",
                pool.max_workers,
                call.call_id,
            )
        elif self._handlers.submit(
            pool, lambda: self._run_handler(handler, call), f"on_call for {call!r}"
        ):
            return
        else:
            logger.error("relaysync: worker queue full; passing inbound call %s", call.call_id)
        self._pass(call)

    def _run_handler(self, handler: CallHandler, call: Call) -> None:
        """Run an on_call handler (worker thread); report a failure and hang up.

        A call still up when its handler raised is hung up, so no caller is left in
        silence by a bug (unless ``hangup_on_handler_error=False``).
        """
        try:
            handler(call)
        except Exception as exc:
            hang_up = self._hangup_on_error and self._still_up(call)
            report_failure(
                exc,
                "on_call handler",
                handler,
                call,
                "; hanging up the call" if hang_up else "",
                client_closed=self._handlers.closed,
            )
            if hang_up:
                try:
                    call.hangup()
                except RelayError as error:
                    logger.warning(
                        "relaysync: could not hang up call %s after its handler failed: %s",
                        call.call_id,
                        error,
                    )

    def _still_up(self, call: Call) -> bool:
        """Whether ``call`` is still tracked (not passed, not detached) and not ended."""
        return self._registry.get(call.call_id) is call and not call.ended

    def _pass(self, call: Call) -> None:
        """Pass an offer on without waiting, and stop tracking the call."""
        self._registry.remove(call)
        call.detach(CallEndedError(-1, f"call {call.call_id} was passed to another consumer"))
        self._send_nowait("calling.pass", call)

    def _dial(self, event: DialEvent) -> None:
        """The outcome of a dial, correlated by tag."""
        registry = self._registry
        if event.dial_state not in (C.DIAL_ANSWERED, C.DIAL_FAILED):
            return
        waiter = registry.end_dial(event.tag) if event.tag else None
        info = event.call if isinstance(event.call, dict) else {}
        if waiter is None:
            known = registry.get(
                info.get("call_id") if isinstance(info.get("call_id"), str) else None
            )
            if known is not None and known.apply_event(event):
                registry.remove(known)
            return
        if event.dial_state == C.DIAL_FAILED:
            waiter.fail(
                DialError(
                    -1, f"dial {event.tag} failed{': ' + event.reason if event.reason else ''}"
                )
            )
            return
        call = registry.adopt_peer(info)
        if call is None:
            waiter.fail(DialError(-1, f"dial {event.tag} answered without a call id"))
            return
        if call.apply_event(event):
            registry.remove(call)
        if waiter.resolve(call):
            logger.warning(
                "relaysync: dial %s was answered after its caller gave up; hanging up call %s",
                event.tag,
                call.call_id,
            )
            self._send_nowait("calling.end", call, reason="hangup")

    def _send_nowait(self, method: str, call: Call, **params: Any) -> None:
        """Send a call method without waiting (usable on the reader thread)."""
        self._host.send_nowait(method, {"node_id": call.node_id, "call_id": call.call_id, **params})
