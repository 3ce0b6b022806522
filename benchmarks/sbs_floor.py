"""The floors the clients are measured against, both on websocket-client.

- ``raw``: one socket, no threads, no objects: what a synchronous client does at the
  least. It applies to W1, W2 (32 requests kept in flight by one loop) and W4.
- ``threaded``: the same socket with one reader thread that hands each reply to the
  thread waiting for it (a dict of waiters and one lock per request): the least any
  client built on a reader thread, as relaysync is, does. It applies to W1 and W2 (32
  caller threads), where the hand-off between threads is the cost being measured, and
  to W3 and W7, run by 64 worker threads that wait for each step's event on the
  call's Condition.
"""

from __future__ import annotations

import json
import queue
import ssl
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

from sbs_run import REFER_TARGET, RING_TIMEOUT, Channel, Span, parallel, result, sequential

WORKERS = 64  # a fixed pool (relaysync's default before its pool grew with demand)


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """A client TLS context that trusts the simulator's CA."""
    return ssl.create_default_context(cafile=ca_file)


def _connect(config: Dict[str, Any], multithread: bool) -> Any:
    import websocket

    return websocket.create_connection(
        config["url"],
        sslopt={"context": ssl_context(config["ca_file"])},
        skip_utf8_validation=True,
        enable_multithread=multithread,
    )


def _request_text(method: str, params: Dict[str, Any]) -> tuple[str, str]:
    """A fresh request id and the request's JSON text."""
    request_id = str(uuid.uuid4())
    frame = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    return request_id, json.dumps(frame, separators=(",", ":"))


def _connect_params(config: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "version": {"major": 2, "minor": 0, "revision": 0},
        "event_acks": True,
        "authentication": {"project": config["project"], "token": config["token"]},
    }


def _ack_text(request_id: Any) -> str:
    return '{"jsonrpc":"2.0","id":' + json.dumps(request_id) + ',"result":{}}'


# -- the raw floor ----------------------------------------------------------------------


class RawLoop:
    """The least a synchronous client does: websocket-client, no threads, no objects.

    One socket; requests are JSON text; every server request (event, ping) is acked
    with prebuilt text as it is read.
    """

    def __init__(self, config: Dict[str, Any]) -> None:
        self._ws = _connect(config, multithread=False)
        self.request("signalwire.connect", _connect_params(config))

    def send(self, method: str, params: Dict[str, Any]) -> str:
        """Write one request; return its id."""
        request_id, text = _request_text(method, params)
        self._ws.send(text)
        return request_id

    def next_frame(self) -> Dict[str, Any]:
        """Read one frame, acking it if it is a server request."""
        frame: Dict[str, Any] = json.loads(self._ws.recv())
        if "method" in frame and "id" in frame:
            self._ws.send(_ack_text(frame["id"]))
        return frame

    def request(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """One blocking round trip."""
        request_id = self.send(method, params)
        while True:
            frame = self.next_frame()
            if frame.get("id") == request_id and "method" not in frame:
                return frame

    def close(self) -> None:
        """Close the socket."""
        self._ws.close()


def raw_w1(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W1 floor: sequential pings."""
    raw = RawLoop(config)
    try:
        return sequential(lambda: raw.request("signalwire.ping", {}), config["n"])
    finally:
        raw.close()


def raw_w2(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W2 floor: ``width`` pings kept in flight on one socket (what 32 workers ask)."""
    raw = RawLoop(config)
    n, width = config["n"], config["width"]
    sent_at: Dict[str, float] = {}
    latencies: List[float] = []
    span = Span()
    sent = 0
    while sent < min(width, n):
        sent_at[raw.send("signalwire.ping", {})] = time.monotonic()
        sent += 1
    while len(latencies) < n:
        frame = raw.next_frame()
        began = sent_at.pop(str(frame.get("id")), None) if "method" not in frame else None
        if began is None:
            continue
        latencies.append(time.monotonic() - began)
        if sent < n:
            sent_at[raw.send("signalwire.ping", {})] = time.monotonic()
            sent += 1
    span.stop()
    raw.close()
    return result(n, span, latencies)


def raw_w4(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W4 floor: read, ack and parse each event until the last one."""
    raw = RawLoop(config)
    span = Span()
    channel.send({"want": "push", "call_id": "raw-call", "node_id": "raw-node", "n": config["n"]})
    seen = 0
    while True:
        frame = raw.next_frame()
        if frame.get("method") != "signalwire.event":
            continue
        seen += 1
        if frame["params"]["params"].get("state") == "finished":
            break
    span.stop()
    channel.receive()
    raw.close()
    return result(seen, span)


# -- the threaded floor -----------------------------------------------------------------


class ThreadedLoop:
    """The raw loop with one reader thread that wakes each request's waiting thread.

    Each request registers a lock (held) under its id before it is written; the reader
    pops it and releases it with the reply. websocket-client's own lock serialises the
    writes of the caller threads and the reader's acks.
    """

    def __init__(
        self,
        config: Dict[str, Any],
        on_event: Optional[Callable[[Dict[str, Any]], None]] = None,
        contexts: Optional[List[str]] = None,
    ) -> None:
        self._ws = _connect(config, multithread=True)
        self._waiting: Dict[str, List[Any]] = {}
        self._lock = threading.Lock()
        self._on_event = on_event
        self._reader = threading.Thread(target=self._read, name="floor-reader", daemon=True)
        self._reader.start()
        params = _connect_params(config)
        if contexts:
            params["contexts"] = contexts
        self.request("signalwire.connect", params)

    def _read(self) -> None:
        while True:
            try:
                data = self._ws.recv()
            except Exception:  # closed: the run is over
                return
            if not data:
                return
            frame = json.loads(data)
            if "method" in frame:
                if "id" in frame:
                    self._ws.send(_ack_text(frame["id"]))
                if self._on_event is not None and frame["method"] == "signalwire.event":
                    self._on_event(frame["params"])
                continue
            with self._lock:
                waiter = self._waiting.pop(frame.get("id"), None)
            if waiter is not None:
                waiter[1] = frame
                waiter[0].release()

    def request(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """One blocking round trip, woken by the reader thread."""
        request_id, text = _request_text(method, params)
        wake = threading.Lock()
        wake.acquire()
        waiter: List[Any] = [wake, None]
        with self._lock:
            self._waiting[request_id] = waiter
        self._ws.send(text)
        if not wake.acquire(timeout=30.0):
            raise TimeoutError(f"no reply to {method}")
        reply: Dict[str, Any] = waiter[1]
        return reply

    def close(self) -> None:
        """Close the socket and join the reader."""
        sock: Optional[Any] = self._ws.sock
        if sock is not None:
            sock.shutdown(2)  # wakes the reader out of its recv
        self._reader.join(10.0)
        self._ws.close()


def threaded_w1(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W1 threaded floor: sequential pings, each woken by the reader thread."""
    loop = ThreadedLoop(config)
    try:
        return sequential(lambda: loop.request("signalwire.ping", {}), config["n"])
    finally:
        loop.close()


def threaded_w2(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W2 threaded floor: ``width`` caller threads, each ``n / width`` pings."""
    loop = ThreadedLoop(config)
    try:
        return parallel(lambda: loop.request("signalwire.ping", {}), config["n"], config["width"])
    finally:
        loop.close()


class FloorCall:
    """One inbound call of the W3 floor: what its events said, behind a Condition."""

    def __init__(self, params: Dict[str, Any]) -> None:
        self.ids = {"node_id": params["node_id"], "call_id": params["call_id"]}
        self.cond = threading.Condition()
        self.state = params.get("call_state", "created")
        self.play: Dict[str, str] = {}
        self.refer = ""

    def wait(self, ready: Callable[[], bool]) -> None:
        """Block until ``ready()`` holds (under the lock), 30 s at most."""
        with self.cond:
            if not self.cond.wait_for(ready, 30.0):
                raise TimeoutError("a W3 floor flow step timed out")


def threaded_w3(config: Dict[str, Any], channel: Channel) -> Dict[str, Any]:
    """W3 threaded floor: the flows on one reader thread and 64 worker threads.

    The reader acks every event, keeps each call's state, play states and REFER state
    under the call's Condition, and queues each new call for a worker. A worker runs
    the flow with a blocking request per step and a wait for the event that ends it:
    what relaysync's flow does, with nothing else (no typed events, no history, no
    validation, no recorder).
    """
    n = config["n"]
    calls: Dict[str, FloorCall] = {}
    offers: queue.Queue[Optional[FloorCall]] = queue.Queue()
    latencies: List[float] = []
    failures: List[str] = []
    done = threading.Event()
    last = [0.0]
    tally = threading.Lock()

    def on_event(outer: Dict[str, Any]) -> None:
        kind, params = outer.get("event_type"), outer.get("params") or {}
        if kind == "calling.call.receive":
            call = calls[params["call_id"]] = FloorCall(params)
            offers.put(call)
            return
        found = calls.get(params.get("call_id", ""))
        if found is None:
            return
        call = found
        with call.cond:
            if kind == "calling.call.state":
                call.state = params.get("call_state", call.state)
            elif kind == "calling.call.play":
                call.play[params.get("control_id", "")] = params.get("state", "")
            elif kind == "calling.call.refer":
                call.refer = params.get("state", "")
            call.cond.notify_all()

    loop = ThreadedLoop(config, on_event=on_event, contexts=["office"])

    def flow(call: FloorCall) -> None:
        began = time.monotonic()
        failure = ""
        try:
            loop.request("calling.answer", dict(call.ids))
            call.wait(lambda: call.state in ("answered", "ending", "ended"))
            control_id = str(uuid.uuid4())
            silence = [{"type": "silence", "params": {"duration": 1.0}}]
            loop.request("calling.play", {**call.ids, "control_id": control_id, "play": silence})
            call.wait(lambda: call.play.get(control_id) in ("finished", "error"))
            device = {"type": "sip", "params": {"to": REFER_TARGET}}
            loop.request("calling.refer", {**call.ids, "device": device})
            call.wait(lambda: call.refer in ("success", "busy", "noAnswer", "cancel", "error"))
            if call.refer != "success":
                failure = f"refer ended {call.refer}"
            call.wait(lambda: call.state == "ended")
        except Exception as exc:
            failure = repr(exc)
        now = time.monotonic()
        with tally:
            latencies.append(now - began)
            if failure:
                failures.append(failure)
            last[0] = max(last[0], now)
            if len(latencies) >= n:
                done.set()

    def worker() -> None:
        while True:
            call = offers.get()
            if call is None:
                return
            flow(call)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    for thread in workers:
        thread.start()
    try:
        span = Span()
        channel.ask("place", count=n, ring_timeout=RING_TIMEOUT)
        if not done.wait(120.0):
            raise RuntimeError(f"{n - len(latencies)} flows did not finish")
        span.stop(last[0])
    finally:
        for _ in workers:
            offers.put(None)
        for thread in workers:
            thread.join(10.0)
        loop.close()
    return result(n, span, latencies, failures=len(failures), start=span.start)


Runner = Callable[[Dict[str, Any], Channel], Dict[str, Any]]

#: The floor runners by client and workload.
FLOORS: Dict[str, Dict[str, Runner]] = {
    "raw": {"W1": raw_w1, "W2": raw_w2, "W4": raw_w4},
    "threaded": {"W1": threaded_w1, "W2": threaded_w2, "W3": threaded_w3, "W7": threaded_w3},
}
