"""The connection core against RelaySimulator over real sockets."""

from __future__ import annotations

import json
import logging
import ssl
import threading
from typing import Any

import pytest

from relaysync import (
    AuthenticationError,
    RelayClient,
    RelayConnectionError,
    RelayError,
    RelayTimeoutError,
)
from relaysync.testing import RelaySimulator
from relaysync.wire.sockets import build_sslopt

from .helpers import Recorder, make_client, relaysync_threads

pytestmark = pytest.mark.timeout(20)


def _connect_frames(sim: RelaySimulator) -> list[dict[str, Any]]:
    return sim.journal.requests("signalwire.connect")


# ------------------------------------------------------------------ construction


def test_missing_project_names_argument_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN", "SIGNALWIRE_JWT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match=r"project=.*SIGNALWIRE_PROJECT_ID"):
        RelayClient(token="t", url="ws://127.0.0.1:1")
    with pytest.raises(ValueError, match=r"token=.*SIGNALWIRE_API_TOKEN"):
        RelayClient("p", url="ws://127.0.0.1:1")


def test_credentials_and_space_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGNALWIRE_PROJECT_ID", "proj")
    monkeypatch.setenv("SIGNALWIRE_API_TOKEN", "secret-token")
    monkeypatch.setenv("SIGNALWIRE_SPACE", "example.signalwire.com")
    client = RelayClient()
    assert client.url == "wss://example.signalwire.com"
    assert client.project == "proj"
    assert "secret-token" not in repr(client)


def test_jwt_from_environment(monkeypatch: pytest.MonkeyPatch, sim: RelaySimulator) -> None:
    for name in ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SIGNALWIRE_JWT_TOKEN", sim.jwt_token)
    with RelayClient(url=sim.url) as client:
        assert client.connected
    auth = _connect_frames(sim)[0]["params"]["authentication"]
    assert auth == {"jwt_token": sim.jwt_token}


def test_plain_ws_refused_for_remote_hosts() -> None:
    with pytest.raises(ValueError, match="allow_insecure"):
        RelayClient("p", "t", url="ws://relay.example.com")
    client = RelayClient("p", "t", url="ws://relay.example.com", allow_insecure=True)
    assert client.url == "ws://relay.example.com"
    with pytest.raises(ValueError, match="bare host"):
        RelayClient("p", "t", host="example.com/path")


# ------------------------------------------------------------------ connect / close


def test_connect_sends_handshake_and_close_leaves_no_thread(sim: RelaySimulator) -> None:
    before = relaysync_threads()
    client = make_client(sim, contexts=["office", "sales"])
    client.connect()
    assert client.connected
    assert client.protocol and client.protocol.startswith("signalwire_")
    params = _connect_frames(sim)[0]["params"]
    assert params["event_acks"] is True
    assert params["version"] == {"major": 2, "minor": 0, "revision": 0}
    assert params["contexts"] == ["office", "sales"]
    assert params["agent"].startswith("relaysync/")
    assert "protocol" not in params
    client.close()
    client.close()  # idempotent
    assert client.state == "closed"
    assert relaysync_threads() == before


def test_context_manager_connects_and_closes(sim: RelaySimulator) -> None:
    with make_client(sim) as client:
        assert client.connected
    assert not client.connected
    with pytest.raises(RelayConnectionError, match="closed"):
        client.execute("signalwire.ping", {})


def test_bad_credentials_raise_authentication_error(sim: RelaySimulator) -> None:
    client = RelayClient(sim.project, "wrong-token", url=sim.url)
    with pytest.raises(AuthenticationError) as info:
        client.connect(timeout=5)
    assert info.value.code == -32002
    assert "wrong-token" not in str(info.value)
    assert relaysync_threads() == []


def test_connect_to_nothing_times_out_with_connection_error() -> None:
    with RelaySimulator() as gone:
        url = gone.url
    client = RelayClient("p", "t", url=url, backoff_initial=0.05, backoff_max=0.1)
    with pytest.raises(RelayConnectionError, match="could not connect"):
        client.connect(timeout=0.5)
    assert relaysync_threads() == []


# ------------------------------------------------------------------ requests


def test_execute_result_codes(client: RelayClient, sim: RelaySimulator) -> None:
    assert client.execute("signalwire.ping", {}) is not None
    sim.fail_method("calling.answer", 404, "Call not found", as_result=True)
    with pytest.raises(RelayError) as info:
        client.execute("calling.answer", {"call_id": "x", "node_id": "n"})
    assert (info.value.code, info.value.message) == (404, "Call not found")
    sim.fail_method("calling.answer", -32602, "Invalid params")
    with pytest.raises(RelayError) as info:
        client.execute("calling.answer", {})
    assert info.value.code == -32602


def test_request_timeout_is_a_builtin_timeout(client: RelayClient, sim: RelaySimulator) -> None:
    sim.delay_method("signalwire.receive", 2.0)
    with pytest.raises(TimeoutError) as info:
        client.execute("signalwire.receive", {"contexts": ["x"]}, timeout=0.2)
    assert isinstance(info.value, RelayTimeoutError)
    assert "signalwire.receive" in str(info.value) and "0.2" in str(info.value)


def test_drop_fails_request_in_flight_then_resumes_same_protocol(
    client: RelayClient, sim: RelaySimulator
) -> None:
    protocol = client.protocol
    sim.delay_method("signalwire.receive", 5.0)
    errors: list[BaseException] = []

    def blocked() -> None:
        try:
            client.execute("signalwire.receive", {"contexts": ["x"]})
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=blocked)
    thread.start()
    sim.journal.wait_for_request("signalwire.receive")
    sim.drop_connections()
    thread.join(5)
    assert len(errors) == 1 and isinstance(errors[0], RelayConnectionError)
    sim.clear_faults()
    assert client.execute("signalwire.ping", {}, timeout=5) is not None
    assert client.protocol == protocol
    assert client.session_resumed
    resume = _connect_frames(sim)[-1]["params"]
    assert resume["protocol"] == protocol
    assert resume["authorization_state"]


def test_request_issued_while_disconnected_waits_for_reconnect(sim: RelaySimulator) -> None:
    client = make_client(sim, backoff_initial=0.3, backoff_max=0.3)
    client.connect()
    try:
        states = Recorder()
        client.on_connection_change(states)
        sim.drop_connections()
        states.wait_for(lambda s: "reconnecting" in s)
        result = client.execute("signalwire.receive", {"contexts": ["later"]}, timeout=5)
        assert result["code"] == "200"
        states.wait_for(lambda s: s[-1] == "connected")
    finally:
        client.close()


def test_disconnect_without_restart_resumes(client: RelayClient, sim: RelaySimulator) -> None:
    protocol = client.protocol
    states = Recorder()
    client.on_connection_change(states)
    sim.send_disconnect(restart=False)
    states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"])
    assert _connect_frames(sim)[-1]["params"]["protocol"] == protocol
    assert client.execute("signalwire.ping", {}, timeout=5) is not None
    assert client.protocol == protocol and client.session_resumed


def test_disconnect_with_restart_starts_fresh_session(
    client: RelayClient, sim: RelaySimulator
) -> None:
    protocol = client.protocol
    states = Recorder()
    client.on_connection_change(states)
    sim.send_disconnect(restart=True)
    states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"])
    assert client.protocol != protocol
    assert not client.session_resumed
    assert "protocol" not in _connect_frames(sim)[-1]["params"]


def test_half_open_socket_detected_and_replaced(sim: RelaySimulator) -> None:
    client = make_client(sim, ping_interval=0.2, ping_timeout=0.3)
    client.connect()
    try:
        states = Recorder()
        client.on_connection_change(states)
        sim.go_silent()
        states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"], timeout=10)
        assert client.execute("signalwire.ping", {}, timeout=5) is not None
        assert sim.journal.requests("signalwire.ping")
    finally:
        client.close()


def test_malformed_frames_do_not_kill_the_reader(client: RelayClient, sim: RelaySimulator) -> None:
    for frame in (
        "not json",
        "[1, 2, 3]",
        '"text"',
        "{}",
        '{"id": "nobody", "result": {}}',
        '{"jsonrpc":"2.0","id":"e1","method":"signalwire.event","params":"bad"}',
        '{"jsonrpc":"2.0","id":"e2","method":"signalwire.event","params":{}}',
        '{"jsonrpc":"2.0","id":"m1","method":"no.such.method","params":{}}',
        b"\xff\xfe binary",
    ):
        sim.push_frame(frame)
    sim.push_frame("x" * (17 * 1024 * 1024))
    assert client.execute("signalwire.ping", {}, timeout=5) is not None
    reply = sim.journal.wait_for(
        lambda e: e.direction == "in" and isinstance(e.frame, dict) and e.frame.get("id") == "m1"
    )
    assert isinstance(reply.frame, dict) and reply.frame["error"]["code"] == -32601
    acked = sim.journal.wait_for(
        lambda e: e.direction == "in" and isinstance(e.frame, dict) and e.frame.get("id") == "e1"
    )
    assert isinstance(acked.frame, dict) and acked.frame["result"] == {}


def test_server_ping_answered(client: RelayClient, sim: RelaySimulator) -> None:
    sim.push_frame(
        {"jsonrpc": "2.0", "id": "srv-ping-1", "method": "signalwire.ping", "params": {}}
    )
    reply = sim.journal.wait_for(
        lambda e: (
            e.direction == "in" and isinstance(e.frame, dict) and e.frame.get("id") == "srv-ping-1"
        )
    )
    assert reply.frame == {"jsonrpc": "2.0", "id": "srv-ping-1", "result": {}}


def test_events_acked_and_duplicates_processed_once(
    client: RelayClient, sim: RelaySimulator
) -> None:
    handled = Recorder()
    client.on_call(handled)
    frame = {
        "jsonrpc": "2.0",
        "id": "dup-1",
        "method": "signalwire.event",
        "params": {
            "event_type": "calling.call.receive",
            "params": {
                "call_id": "c-dup",
                "node_id": "n",
                "call_state": "created",
                "direction": "inbound",
                "context": "office",
                "device": {"type": "phone", "params": {"from_number": "+1", "to_number": "+2"}},
            },
        },
    }
    sim.push_frame(frame)
    sim.push_frame(frame)
    handled.wait_for(lambda items: len(items) == 1)
    acks: list[Any] = []

    def second_ack(entry: Any) -> bool:  # the journal offers each entry once
        if (
            entry.direction == "in"
            and isinstance(entry.frame, dict)
            and entry.frame.get("id") == "dup-1"
        ):
            acks.append(entry.frame)
        return len(acks) == 2

    sim.journal.wait_for(second_ack)
    assert acks == [{"jsonrpc": "2.0", "id": "dup-1", "result": {}}] * 2
    assert client.execute("signalwire.ping", {}) is not None
    assert len(handled.items) == 1


def test_receive_unreceive_remembered_across_fresh_session(
    client: RelayClient, sim: RelaySimulator
) -> None:
    client.receive(["sales", "support"])
    client.unreceive(["support"])
    states = Recorder()
    client.on_connection_change(states)
    sim.send_disconnect(restart=True)
    states.wait_for(lambda s: s[-2:] == ["reconnecting", "connected"])
    assert _connect_frames(sim)[-1]["params"]["contexts"] == ["office", "sales"]
    assert [f["params"]["contexts"] for f in sim.journal.requests("signalwire.receive")] == [
        ["sales", "support"]
    ]
    with pytest.raises(ValueError, match="list of strings"):
        client.receive("sales")


def test_connection_state_callbacks(sim: RelaySimulator) -> None:
    states = Recorder()
    client = make_client(sim)
    client.on_connection_change(states)
    client.connect()
    sim.drop_connections()
    states.wait_for(lambda s: s.count("connected") == 2)
    client.close()
    assert states.wait_for(lambda s: s[-1] == "closed") == [
        "connecting",
        "connected",
        "reconnecting",
        "connected",
        "closed",
    ]


def test_stale_resume_falls_back_to_fresh_session(client: RelayClient, sim: RelaySimulator) -> None:
    protocol = client.protocol
    states = Recorder()
    client.on_connection_change(states)
    sim.fail_method("signalwire.connect", -32003, "Requester validation failed")
    sim.drop_connections()
    states.wait_for(lambda s: s[-1:] == ["connected"] and "reconnecting" in s)
    assert client.protocol != protocol
    assert not client.session_resumed


def test_auth_rejected_on_reconnect_is_bounded(sim: RelaySimulator) -> None:
    client = make_client(sim)
    client.connect()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            client.run()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    sim.fail_method("signalwire.connect", -32002, "Authentication failed", times=100)
    sim.drop_connections()
    thread.join(10)
    assert not thread.is_alive()
    assert len(failures) == 1 and isinstance(failures[0], AuthenticationError)
    assert len(_connect_frames(sim)) == 1 + 3
    assert relaysync_threads() == []


def test_run_returns_after_close_from_another_thread(client: RelayClient) -> None:
    timer = threading.Timer(0.1, client.close)
    timer.start()
    client.run()
    timer.join()
    assert client.state == "closed"


def test_secrets_never_logged(sim: RelaySimulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="relaysync")
    client = make_client(sim)
    states = Recorder()
    client.on_connection_change(states)
    client.connect()
    sim.drop_connections()
    states.wait_for(lambda s: s.count("connected") == 2)
    assert client.execute("signalwire.ping", {}, timeout=5) is not None
    client.close()
    blobs = [
        f["params"]["authorization_state"]
        for f in _connect_frames(sim)
        if "authorization_state" in f["params"]
    ]
    assert blobs, "the reconnect should have sent the authorization state"
    text = caplog.text + json.dumps([repr(r.args) for r in caplog.records])
    assert "send " in text and "recv " in text
    assert sim.token not in text
    for blob in blobs:
        assert blob not in text


def test_close_racing_the_reader_logs_no_error(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="relaysync")
    for _ in range(150):
        client = RelayClient(sim.project, sim.token, url=sim.url)
        client.connect()
        client.execute("signalwire.ping", {})
        client.close()
        assert client.state == "closed"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert relaysync_threads() == []


def test_plain_ws_loads_no_certificates_and_wss_checks_its_trust_settings(tmp_path: Any) -> None:
    # loading the system certificates costs tens of ms of CPU: not for ws://
    assert build_sslopt(None, None, secure=False) == {}
    assert isinstance(build_sslopt(None, None)["context"], ssl.SSLContext)
    with pytest.raises(OSError):  # a ca_file is checked even for ws://
        build_sslopt(str(tmp_path / "missing.pem"), None, secure=False)
    with pytest.raises(OSError):
        RelayClient("p", "t", url="WSS://relay.example.com", ca_file=str(tmp_path / "x.pem"))
    with RelaySimulator(tls=True) as secure:
        # the scheme decides, whatever its case (websocket-client wants it lower case)
        url = "WSS" + secure.url[3:]
        with RelayClient(secure.project, secure.token, url=url, ca_file=secure.ca_file) as c:
            assert c.url == secure.url
            assert c.execute("signalwire.ping", {}) is not None
    assert relaysync_threads() == []


def test_tls_with_the_simulator_ca_and_verification_on() -> None:
    with RelaySimulator(tls=True) as secure:
        assert secure.url.startswith("wss://") and secure.ca_file
        with RelayClient(
            secure.project, secure.token, url=secure.url, ca_file=secure.ca_file
        ) as client:
            assert client.execute("signalwire.ping", {}) is not None
        untrusted = RelayClient(
            secure.project, secure.token, url=secure.url, backoff_initial=0.05, backoff_max=0.1
        )
        with pytest.raises(RelayConnectionError, match=r"(?i)certificate"):
            untrusted.connect(timeout=1)
    assert relaysync_threads() == []
