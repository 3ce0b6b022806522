"""RelaySimulator's session layer, journal and faults, driven by a raw WebSocket client."""

from __future__ import annotations

import json
import os
import re
import ssl
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import websocket

from relaysync.testing import Journal, RelaySimulator, RpcFault
from relaysync.testing.plugin import relay_client, relay_simulator  # noqa: F401

pytestmark = pytest.mark.timeout(15)

Frame = Dict[str, Any]
BLOB = re.compile(r"^[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$")


class Raw:
    """A raw RELAY client over websocket-client, for driving the simulator by hand."""

    def __init__(self, sim: RelaySimulator, **options: Any) -> None:
        self.ws = websocket.create_connection(sim.url, timeout=3, **options)
        self.sim = sim
        self.next_id = 0

    def send(self, frame: Any) -> None:
        self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def request(self, method: str, params: Optional[Frame] = None) -> str:
        self.next_id += 1
        frame_id = f"req-{self.next_id}"
        self.send(
            {
                "jsonrpc": "2.0",
                "id": frame_id,
                "method": method,
                "params": {} if params is None else params,
            }
        )
        return frame_id

    def recv(self, timeout: float = 3.0) -> Frame:
        self.ws.settimeout(timeout)
        frame = json.loads(self.ws.recv())
        assert isinstance(frame, dict)
        return frame

    def recv_until(self, predicate: Callable[[Frame], bool], timeout: float = 3.0) -> Frame:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(deadline - time.monotonic(), 0.01))
            if predicate(frame):
                return frame

    def response(self, frame_id: str) -> Frame:
        return self.recv_until(lambda f: f.get("id") == frame_id and "method" not in f)

    def call(self, method: str, params: Optional[Frame] = None) -> Frame:
        return self.response(self.request(method, params))

    def ack(self, frame: Frame) -> None:
        self.send({"jsonrpc": "2.0", "id": frame["id"], "result": {}})

    def connect(self, **params: Any) -> Frame:
        params.setdefault("authentication", {"project": self.sim.project, "token": self.sim.token})
        return self.call(
            "signalwire.connect",
            {
                "version": {"major": 2, "minor": 0, "revision": 0},
                "agent": "raw-test",
                "event_acks": True,
                **params,
            },
        )

    def session(self, contexts: Optional[List[str]] = None) -> tuple[str, str]:
        """Connect, read the authorization state; return (protocol, blob)."""
        result = self.connect(contexts=["office"] if contexts is None else contexts)["result"]
        event = self.next_event("signalwire.authorization.state")
        self.ack(event)
        return result["protocol"], event["params"]["params"]["authorization_state"]

    def next_event(self, event_type: str, timeout: float = 3.0) -> Frame:
        return self.recv_until(
            lambda f: (
                f.get("method") == "signalwire.event" and f["params"]["event_type"] == event_type
            ),
            timeout,
        )

    def expect_close_frame(self) -> None:
        self.ws.settimeout(3)
        opcode, _data = self.ws.recv_data(control_frame=True)
        while opcode != websocket.ABNF.OPCODE_CLOSE:
            opcode, _data = self.ws.recv_data(control_frame=True)
        self.ws.shutdown()  # type: ignore[no-untyped-call]  # the close handshake is done: drop TCP as a client would

    def expect_silence(self, seconds: float = 0.3) -> None:
        with pytest.raises(websocket.WebSocketTimeoutException):
            self.recv(seconds)

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def sim() -> Iterator[RelaySimulator]:
    with RelaySimulator(project="p-1", token="t-1", time_scale=0.01) as simulator:
        yield simulator


@pytest.fixture
def raw(sim: RelaySimulator) -> Iterator[Raw]:
    client = Raw(sim)
    yield client
    client.close()


def is_error(frame: Frame, code: int) -> bool:
    return "error" in frame and frame["error"]["code"] == code


# -- connect, auth, resume -----------------------------------------------------------------


def test_connect_result_and_authorization_state(sim: RelaySimulator, raw: Raw) -> None:
    result = raw.connect(contexts=["office"])["result"]
    assert re.match(r"^signalwire_[0-9a-f]+_[0-9a-f-]{36}$", result["protocol"])
    assert result["session_restored"] is False
    assert result["authorization"] == {"project_id": "p-1"}
    assert result["sessionid"] and result["identity"] and result["nodeid"]
    event = raw.next_event("signalwire.authorization.state")
    assert BLOB.match(event["params"]["params"]["authorization_state"])
    assert "event_channel" not in event["params"]
    infos = sim.wait_for_sessions(1)
    assert infos[0].protocol == result["protocol"] and infos[0].contexts == {"office"}
    assert sim.authentication_count == 1 and sim.connection_count == 1


def test_jwt_authentication(sim: RelaySimulator, raw: Raw) -> None:
    result = raw.connect(authentication={"jwt_token": sim.jwt_token})
    assert result["result"]["session_restored"] is False


@pytest.mark.parametrize(
    "auth",
    [{"project": "p-1", "token": "wrong"}, {}, None, {"jwt_token": "nope"}, {"project": "p-1"}],
)
def test_bad_credentials_rejected_and_closed(sim: RelaySimulator, raw: Raw, auth: Any) -> None:
    frame = raw.connect(authentication=auth)
    assert frame["error"] == {
        "code": -32002,
        "message": "Authentication failed",
        "data": {"signalwire_error_code": "AUTH_REQUIRED"},
    }
    raw.expect_close_frame()
    assert sim.authentication_count == 0


def test_first_frame_must_be_connect(sim: RelaySimulator, raw: Raw) -> None:
    frame = raw.call("signalwire.receive", {"contexts": ["x"]})
    assert is_error(frame, -32002)
    raw.expect_close_frame()


def test_resume_keeps_protocol_contexts_and_rotates_blob(sim: RelaySimulator, raw: Raw) -> None:
    protocol, blob = raw.session(["office"])
    raw.call("signalwire.receive", {"contexts": ["sales"]})
    raw.close()
    sim.wait_for_sessions(0)
    again = Raw(sim)
    result = again.connect(protocol=protocol, authorization_state=blob, contexts=["new"])
    assert result["result"]["protocol"] == protocol
    assert result["result"]["session_restored"] is True
    new_blob = again.next_event("signalwire.authorization.state")
    assert new_blob["params"]["params"]["authorization_state"] != blob
    assert sim.wait_for_sessions(1)[0].contexts == {"office", "sales", "new"}
    again.close()


def test_unacked_event_redelivered_after_resume_until_acked(sim: RelaySimulator, raw: Raw) -> None:
    protocol, blob = raw.session()
    [event_id] = sim.push_event("calling.call.state", {"call_id": "c-1", "call_state": "ringing"})
    first = raw.next_event("calling.call.state")
    assert first["id"] == event_id and first["params"]["event_channel"] == protocol
    sim.drop_connections()
    sim.wait_for_sessions(0)
    sim.push_event(
        "calling.call.state", {"call_id": "c-1", "call_state": "answered"}, session_id=protocol
    )  # queued while offline
    again = Raw(sim)
    again.connect(protocol=protocol, authorization_state=blob)
    auth = again.next_event("signalwire.authorization.state")
    redelivered = again.next_event("calling.call.state")
    queued = again.next_event("calling.call.state")
    assert redelivered == first
    assert queued["params"]["params"]["call_state"] == "answered"
    for frame in (auth, redelivered, queued):
        again.ack(frame)
    sim.journal.wait_for(
        lambda e: (
            e.direction == "in" and isinstance(e.frame, dict) and e.frame.get("id") == queued["id"]
        )
    )
    new_blob = auth["params"]["params"]["authorization_state"]
    again.close()
    sim.wait_for_sessions(0)
    third = Raw(sim)
    third.connect(protocol=protocol, authorization_state=new_blob)
    third.next_event("signalwire.authorization.state")
    third.expect_silence(0.2)  # everything was acked: nothing redelivered
    third.close()


def test_stale_authorization_state_rejected(sim: RelaySimulator, raw: Raw) -> None:
    protocol, _blob = raw.session()
    raw.close()
    again = Raw(sim)
    frame = again.connect(protocol=protocol, authorization_state="AAAA:BBBB")
    assert frame["error"] == {"code": -32003, "message": "Requester validation failed"}
    again.close()


def test_unknown_protocol_fresh_or_error() -> None:
    with RelaySimulator() as fresh, RelaySimulator(unknown_protocol="error") as strict:
        client = Raw(fresh)
        result = client.connect(protocol="signalwire_00_unknown")["result"]
        assert result["session_restored"] is False
        assert result["protocol"] != "signalwire_00_unknown"
        client.close()
        client = Raw(strict)
        frame = client.connect(protocol="signalwire_00_unknown")
        assert frame["error"]["data"] == {"signalwire_error_code": "AUTH_REQUIRED"}
        client.close()


def test_second_socket_takes_over_session(sim: RelaySimulator, raw: Raw) -> None:
    protocol, blob = raw.session()
    other = Raw(sim)
    assert (
        other.connect(protocol=protocol, authorization_state=blob)["result"]["session_restored"]
        is True
    )
    raw.expect_close_frame()
    sim.wait_until(lambda: sim.connection_count == 1)
    assert [s.online for s in sim.sessions] == [True]
    other.close()


def test_session_expires_after_resume_window() -> None:
    seen: List[str] = []
    done = threading.Event()
    with RelaySimulator(resume_window=0.1) as sim:

        def listener(_session: Any, what: str) -> None:
            seen.append(what)
            if what == "expired":
                done.set()

        sim._core.add_session_listener(listener)
        client = Raw(sim)
        protocol, blob = client.session()
        client.close()
        assert done.wait(10)
        assert seen == ["online", "offline", "expired"] and sim.sessions == []
        again = Raw(sim)
        result = again.connect(protocol=protocol, authorization_state=blob)["result"]
        assert result["session_restored"] is False
        again.close()


# -- session methods -----------------------------------------------------------------------


def test_receive_unreceive_and_validation(sim: RelaySimulator, raw: Raw) -> None:
    raw.session(["office"])
    assert raw.call("signalwire.receive", {"contexts": ["sales", "support"]})["result"] == {
        "code": "200",
        "message": "Receiving events",
    }
    assert raw.call("signalwire.unreceive", {"contexts": ["office"]})["result"] == {
        "code": "200",
        "message": "Unreceiving events",
    }
    assert sim.sessions[0].contexts == {"sales", "support"}
    assert is_error(raw.call("signalwire.receive", {"contexts": "sales"}), -32602)
    assert is_error(raw.call("signalwire.receive", {"contexts": [1]}), -32602)


def test_pings_both_ways() -> None:
    with RelaySimulator(ping_interval=0.05) as sim:
        client = Raw(sim)
        client.session()
        before = time.time()
        result = client.call("signalwire.ping")["result"]
        assert before - 1 <= result["timestamp"] <= time.time() + 1
        ping = client.recv_until(lambda f: f.get("method") == "signalwire.ping")
        assert ping["params"] == {}
        client.ack(ping)
        entry = sim.journal.wait_for(
            lambda e: (
                e.direction == "in"
                and isinstance(e.frame, dict)
                and e.frame.get("id") == ping["id"]
            )
        )
        assert sim.journal.responses_to(ping["id"]) == [entry.frame]
        client.close()


def test_execute_wrapper_and_unknown_method(sim: RelaySimulator, raw: Raw) -> None:
    protocol, _blob = raw.session([])
    frame = raw.call(
        "signalwire.execute",
        {"protocol": protocol, "method": "signalwire.receive", "params": {"contexts": ["wrapped"]}},
    )
    assert frame["result"]["message"] == "Receiving events"
    assert sim.sessions[0].contexts == {"wrapped"}
    assert is_error(raw.call("calling.something_new", {}), -32601)
    assert is_error(raw.call("signalwire.execute", {"method": 5}), -32602)


def test_registered_handler_and_rpc_fault(sim: RelaySimulator, raw: Raw) -> None:
    def handler(session: Any, params: Frame) -> Frame:
        if params.get("bad"):
            raise RpcFault(-32602, "bad", {"signalwire_error_code": "INVALID_PARAMS"})
        return {"code": "200", "message": "ok", "session": session.id}

    sim._core.run_sync(lambda: sim._core.register_method("test.echo", handler))
    protocol, _blob = raw.session()
    assert raw.call("test.echo", {})["result"]["session"] == protocol
    assert raw.call("test.echo", {"bad": True})["error"]["data"] == {
        "signalwire_error_code": "INVALID_PARAMS"
    }


def test_malformed_frames_are_journaled_and_answered(sim: RelaySimulator, raw: Raw) -> None:
    raw.session()
    raw.send("{not json")
    raw.send("[1, 2]")
    raw.send(json.dumps({"jsonrpc": "2.0", "id": "m-1", "params": {}}))
    assert is_error(raw.response("m-1"), -32600)
    raw.send(json.dumps({"jsonrpc": "2.0", "id": "m-2", "method": 7}))
    assert is_error(raw.response("m-2"), -32600)
    raw.send(json.dumps({"jsonrpc": "2.0", "id": "nobody", "result": {}}))
    raw.ws.send_binary(b"\xff\xfe")
    assert "timestamp" in raw.call("signalwire.ping")["result"]  # still serving
    texts = [e.frame for e in sim.journal.entries if e.direction == "in"]
    assert "{not json" in texts and "[1, 2]" in texts
    assert {"jsonrpc": "2.0", "id": "nobody", "result": {}} in texts


# -- faults --------------------------------------------------------------------------------


def test_drop_connections_aborts_without_close_frame(sim: RelaySimulator, raw: Raw) -> None:
    raw.session()
    assert sim.drop_connections() == 1
    raw.ws.settimeout(3)
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        raw.ws.recv_data(control_frame=True)
    sim.wait_for_sessions(0)
    assert len(sim.sessions) == 1  # still resumable


@pytest.mark.parametrize("restart", [False, True])
def test_send_disconnect(sim: RelaySimulator, raw: Raw, restart: bool) -> None:
    protocol, blob = raw.session()
    sim.send_disconnect(restart=restart)
    request = raw.recv_until(lambda f: f.get("method") == "signalwire.disconnect")
    assert request["params"] == {"restart": restart}
    raw.ack(request)
    raw.expect_close_frame()
    sim.wait_for_sessions(0)
    again = Raw(sim)
    result = again.connect(protocol=protocol, authorization_state=blob)["result"]
    assert result["session_restored"] is (not restart)
    again.close()


def test_go_silent_and_wake(sim: RelaySimulator, raw: Raw) -> None:
    raw.session()
    assert sim.go_silent() == 1
    raw.request("signalwire.ping")
    [held] = sim.push_event("calling.call.state", {"call_id": "c-9"})
    raw.expect_silence(0.2)
    assert sim.journal.requests("signalwire.ping")  # journaled, never answered
    assert sim.wake() == 1
    assert raw.next_event("calling.call.state")["id"] == held
    assert "timestamp" in raw.call("signalwire.ping")["result"]
    sim.go_silent()
    raw.close()
    sim.wait_for_sessions(0)  # a client closing a silent socket is cleaned up


def test_delay_and_fail_method(sim: RelaySimulator, raw: Raw) -> None:
    raw.session()
    sim.delay_method("signalwire.ping", 1.0, times=1)
    started = time.monotonic()
    raw.call("signalwire.ping")
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    raw.call("signalwire.ping")
    assert time.monotonic() - started < 1.0  # not delayed again (a loaded ping takes ms)
    sim.fail_method("test.method", 404, "Call not found", as_result=True)
    assert raw.call("test.method", {})["result"] == {"code": "404", "message": "Call not found"}
    sim.fail_method("test.method", -32000, "boom", times=None)
    assert raw.call("test.method", {})["error"] == {"code": -32000, "message": "boom"}
    assert is_error(raw.call("test.method", {}), -32000)
    sim.clear_faults()
    assert is_error(raw.call("test.method", {}), -32601)  # nobody implements it


def test_fail_connect_is_scriptable(sim: RelaySimulator) -> None:
    sim.fail_method("signalwire.connect", -32002, "Authentication failed")
    client = Raw(sim)
    assert is_error(client.connect(), -32002)
    client.expect_close_frame()
    client = Raw(sim)
    assert "result" in client.connect()  # only once
    client.close()


def test_push_frame_variants(sim: RelaySimulator, raw: Raw) -> None:
    raw.session()
    assert sim.push_frame("{broken") == 1
    assert raw.ws.recv() == "{broken"
    sim.push_frame(b"\x00\x01")
    assert raw.ws.recv() == b"\x00\x01"
    sim.push_frame({"jsonrpc": "2.0", "id": "x-1", "method": "signalwire.ping", "params": {}})
    assert raw.recv()["id"] == "x-1"
    with pytest.raises(ValueError):
        sim.push_frame("{}", session_id="nope")


def test_frames_queued_together_arrive_whole_in_order_and_before_a_close(
    sim: RelaySimulator, raw: Raw
) -> None:
    """The simulator writes what is queued in one loop turn as one burst (more than one
    burst's worth here): every frame arrives whole and in order, a binary one among the
    text ones, and a close queued behind them comes after the last."""
    raw.session()
    count = 600  # above the 256 frames of one burst

    def queue_then_close() -> None:
        for conn in sim._core.target_connections(None):
            for index in range(count):
                sim._core.write(conn, b"\x00\x01" if index == 300 else f"frame-{index}")
            conn.close(4000, "done")

    sim._core.run_sync(queue_then_close)
    for index in range(count):
        assert raw.ws.recv() == (b"\x00\x01" if index == 300 else f"frame-{index}")
    raw.ws.settimeout(3)
    opcode, data = raw.ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert int.from_bytes(data[:2], "big") == 4000


def test_one_frame_per_send_when_bursts_are_off(sim: RelaySimulator) -> None:
    """``burst_frames = 1`` (set before the socket opens): each queued frame is its own
    transport write, whole and in order."""
    assert sim._server is not None
    sim._server.burst_frames = 1
    raw = Raw(sim)
    raw.session()
    count = 40
    writes: List[int] = []

    def queue() -> None:
        (conn,) = sim._core.target_connections(None)
        transport = conn.ws.transport
        original = transport.write

        def counted(data: Any) -> None:
            writes.append(len(data))
            original(data)

        transport.write = counted  # type: ignore[method-assign]
        for index in range(count):
            sim._core.write(conn, f"frame-{index}")

    sim._core.run_sync(queue)
    for index in range(count):
        assert raw.ws.recv() == f"frame-{index}"
    assert len(writes) == count
    raw.close()


# -- journal, lifecycle, TLS, plugin -------------------------------------------------------


def test_journal_waits_and_queries(sim: RelaySimulator, raw: Raw) -> None:
    protocol, _blob = raw.session()
    request = sim.journal.wait_for_request("signalwire.connect")
    assert request["params"]["contexts"] == ["office"]
    event = sim.journal.wait_for_event("signalwire.authorization.state")
    assert sim.journal.events("signalwire.authorization.state") == [event]
    assert sim.journal.entries[0].session_id is None
    assert sim.journal.entries[-1].session_id == protocol
    with pytest.raises(TimeoutError, match=r"calling\.answer"):
        sim.journal.wait_for_request("calling.answer", timeout=0.05)
    with pytest.raises(TimeoutError, match=r"calling\.call\.play"):
        sim.journal.wait_for_event("calling.call.play", timeout=0.05)
    sim.journal.clear()
    assert sim.journal.entries == []
    bounded = Journal(max_entries=2)
    for n in range(3):
        bounded.record("in", None, {"n": n})
    assert [e.frame for e in bounded.entries] == [{"n": 1}, {"n": 2}]


def test_journal_wait_wakes_on_new_entry() -> None:
    journal = Journal()
    timer = threading.Timer(0.05, journal.record, ("in", None, {"method": "late"}))
    timer.start()
    assert journal.wait_for_request("late", timeout=3)["method"] == "late"
    timer.join()


def test_tls_serves_wss_with_generated_ca() -> None:
    with RelaySimulator(tls=True) as sim:
        assert sim.url.startswith("wss://127.0.0.1:") and sim.ca_file is not None
        context = ssl.create_default_context(cafile=sim.ca_file)
        client = Raw(sim, sslopt={"context": context})
        assert client.connect()["result"]["session_restored"] is False
        client.close()
        ca_file = sim.ca_file
    assert not os.path.exists(ca_file)


def test_stop_is_idempotent_and_leaves_no_thread() -> None:
    before = set(threading.enumerate())
    sim = RelaySimulator()
    sim.start()
    sim.start()
    client = Raw(sim)
    client.connect()
    sim.stop()
    sim.stop()
    client.expect_close_frame()
    assert set(threading.enumerate()) <= before
    with pytest.raises(RuntimeError):
        sim.start()
    client.close()


def test_plugin_fixtures(relay_simulator: RelaySimulator, relay_client: Any) -> None:  # noqa: F811
    [info] = relay_simulator.wait_for_sessions(1)
    assert info.contexts == {"office"} and relay_simulator.time_scale == 0.01
    assert relay_client.protocol == info.protocol
