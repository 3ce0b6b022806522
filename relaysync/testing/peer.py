"""A bare RELAY client for socket-level tests of the simulator.

:class:`RawPeer` speaks the wire protocol itself (one socket, a reader thread that acks
every event and ping), so simulator tests do not depend on the client library::

    peer = RawPeer(sim, ["office"])
    answer = peer.call("calling.answer", {"node_id": ..., "call_id": ...})
    event = peer.wait_event("calling.call.state", lambda p: p["call_state"] == "answered")
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any, Callable, Dict, List, Optional

import websocket

from relaysync.constants import PROTOCOL_VERSION
from relaysync.testing.handle import SimCall
from relaysync.testing.simulator import RelaySimulator

Params = Dict[str, Any]


class RawPeer:
    """A bare RELAY client: one socket, a reader thread that acks every event.

    Args:
        sim: the simulator to connect to (``ws://`` only).
        contexts: the contexts to subscribe to.
    """

    def __init__(self, sim: RelaySimulator, contexts: List[str]) -> None:
        self.ws = websocket.create_connection(sim.url, timeout=5)
        self.events: List[Params] = []
        self._replies: Dict[str, Params] = {}
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="raw-peer", daemon=True)
        self._reader.start()
        reply = self.request(
            "signalwire.connect",
            {
                "version": PROTOCOL_VERSION,
                "agent": "x",
                "event_acks": True,
                "contexts": contexts,
                "authentication": {"project": sim.project, "token": sim.token},
            },
        )
        self.protocol: str = reply["result"]["protocol"]

    def _read(self) -> None:
        while True:
            try:
                frame = json.loads(self.ws.recv())
                method = frame.get("method")
                if method in ("signalwire.event", "signalwire.ping"):
                    self.ws.send(json.dumps({"jsonrpc": "2.0", "id": frame["id"], "result": {}}))
            except Exception:  # the socket closed: the test is over with it
                return
            with self._cond:
                if method == "signalwire.event":
                    self.events.append(frame["params"])
                elif method is None:
                    self._replies[frame["id"]] = frame
                self._cond.notify_all()

    def request(self, method: str, params: Params, timeout: float = 5.0) -> Params:
        """Send a request; return the whole response frame."""
        frame_id = str(uuid.uuid4())
        self.ws.send(
            json.dumps({"jsonrpc": "2.0", "id": frame_id, "method": method, "params": params})
        )
        with self._cond:
            assert self._cond.wait_for(lambda: frame_id in self._replies, timeout), method
            return self._replies.pop(frame_id)

    def call(self, method: str, params: Params) -> Params:
        """Send a request that must succeed at JSON-RPC level; return its result."""
        reply = self.request(method, params)
        assert "result" in reply, reply
        result: Params = reply["result"]
        return result

    def wait_event(
        self, event_type: str, pred: Callable[[Params], bool] = lambda p: True, timeout: float = 5.0
    ) -> Params:
        """Wait for an event of ``event_type`` whose inner params match; return them."""

        def find() -> Optional[Params]:
            for event in self.events:
                if event["event_type"] == event_type and pred(event["params"]):
                    inner: Params = event["params"]
                    return inner
            return None

        with self._cond:
            if not self._cond.wait_for(lambda: find() is not None, timeout):
                raise AssertionError(f"no {event_type} event; got {self.summary()}")
            found = find()
            assert found is not None
            return found

    def no_event(self, event_type: str, pred: Callable[[Params], bool], within: float) -> bool:
        """True if no matching event arrives within ``within`` seconds."""
        try:
            self.wait_event(event_type, pred, timeout=within)
        except AssertionError:
            return True
        return False

    def trail(self, call_id: str) -> List[str]:
        """The call's events as short strings, in arrival order."""
        with self._cond:
            out = []
            for event in self.events:
                p = event["params"]
                if p.get("call_id") != call_id:
                    continue
                what = p.get("call_state") or p.get("state") or p.get("connect_state") or "offer"
                out.append(f"{event['event_type'].split('.')[-1]}:{what}")
            return out

    def wait_trail(self, call_id: str, tail: List[str], timeout: float = 5.0) -> List[str]:
        """Wait until the call's trail ends with ``tail``; return the whole trail."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.trail(call_id)[-len(tail) :] == tail, timeout):
                raise AssertionError(f"trail {self.trail(call_id)} does not end with {tail}")
            return self.trail(call_id)

    def index(self, event_type: str, pred: Callable[[Params], bool]) -> int:
        """Position of the first matching event among all events received."""
        with self._cond:
            return next(
                i
                for i, e in enumerate(self.events)
                if e["event_type"] == event_type and pred(e["params"])
            )

    def summary(self) -> List[str]:
        """Every event received, as ``event_type:state`` strings."""
        return [
            f"{e['event_type']}:{e['params'].get('call_state') or e['params'].get('state')}"
            for e in self.events
        ]

    def answered_call(self, sim: RelaySimulator, from_: str = "+15550001111") -> SimCall:
        """Place an inbound call on ``office``, answer it from this peer; return its handle.

        Raises:
            AssertionError: the offer or the answer did not come within 5 s.
        """
        call = sim.inbound_call("office", from_=from_, ring_timeout=500)
        self.wait_event("calling.call.receive", lambda p: p["call_id"] == call.call_id)
        assert self.call("calling.answer", ids(call))["code"] == "200"
        call.wait_for_state("answered")
        return call

    def close(self) -> None:
        """Close the socket and join the reader thread."""
        self.ws.close()
        self._reader.join(5)


def ids(call: SimCall) -> Params:
    """The ``{call_id, node_id}`` of a simulated call, for request params."""
    return {"call_id": call.call_id, "node_id": call.node_id}


__all__ = ["RawPeer", "ids"]
