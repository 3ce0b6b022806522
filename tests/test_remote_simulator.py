"""Remote control of RelaySimulator: ``relaysync simulate`` in a child process driven by
RemoteSimulator, and the control channel's rules checked against an in-process simulator."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any, Dict, Iterator

import pytest
import websocket

from relaysync import Call, RelayClient
from relaysync.errors import CallEndedError, RelayError, RelayTimeoutError
from relaysync.testing import RelaySimulator
from relaysync.testing.remote import RemoteCall, RemoteSimulator

from .helpers import Recorder, SimulateProcess, make_client

BUSY = "sip:busy@example.com"


@pytest.fixture
def served() -> Iterator[Dict[str, str]]:
    """``relaysync simulate`` in a child process; yields its printed url and credentials."""
    with SimulateProcess("--port", "0", "--time-scale", "0.01") as process:
        assert any(line.strip().startswith("RemoteSimulator(") for line in process.lines)
        yield process.fields


def _answer_and_refer(results: Recorder) -> Any:
    def handler(call: Call) -> None:
        call.answer()
        results(call.refer(BUSY).state)
        call.hangup()

    return handler


# -- a child process driven remotely ----------------------------------------------------


@pytest.mark.timeout(30)
def test_remote_drives_simulate_subprocess(served: Dict[str, str]) -> None:
    assert served["control_token"] != served["token"]
    results = Recorder()
    app = RelayClient(served["project"], served["token"], url=served["url"], contexts=["office"])
    app.on_call(_answer_and_refer(results))
    with app, RemoteSimulator(served["url"], served["project"], served["control_token"]) as remote:
        remote.on_refer(BUSY, state="busy")
        call = remote.inbound_call("office", from_="+15550001111", to="+15550002222")
        assert isinstance(call, RemoteCall) and call.direction == "inbound"
        call.wait_for_state("ended", timeout=10)
        assert results.wait_for(lambda items: len(items) == 1) == ["busy"]
        assert call.state() == "ended" and call.end_reason() == "hangup"
        [refer] = call.refers()
        assert (refer.target, refer.state, refer.sip_notify_response_code) == (BUSY, "busy", "486")
        assert call.info()["events"] > 0
        assert remote.calls() == [call]
        [session] = remote.sessions()  # the app only: the control session is not listed
        assert session.contexts == frozenset({"office"}) and session.online
        assert len(remote.journal_requests("calling.refer")) == 1
        everything = json.dumps(remote.journal_requests())
        assert served["token"] not in everything
        assert served["control_token"] not in everything


@pytest.mark.timeout(30)
def test_remote_waits_do_not_block_the_simulator(served: Dict[str, str]) -> None:
    go = threading.Event()
    answered = threading.Event()
    app = RelayClient(served["project"], served["token"], url=served["url"], contexts=["office"])

    @app.on_call
    def handler(call: Call) -> None:
        go.wait(20)
        call.answer()
        answered.set()

    with app, RemoteSimulator(served["url"], served["project"], served["control_token"]) as remote:
        call = remote.inbound_call("office")
        with pytest.raises(RelayTimeoutError):
            call.wait_for_state("answered", timeout=0.2)
        waited: queue.Queue[object] = queue.Queue()

        def wait() -> None:
            try:
                call.wait_for_state("answered", timeout=15)
                waited.put("answered")
            except Exception as exc:
                waited.put(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        # While that wait is pending, the simulator still answers other requests.
        assert len(remote.sessions()) == 1 and call.state() == "ringing"
        assert waited.empty()
        go.set()
        assert waited.get(timeout=15) == "answered"
        waiter.join(10)
        assert answered.is_set()
        call.hangup()
        call.wait_for_state("ended", timeout=10)
        assert call.end_reason() == "hangup"
        nobody = remote.inbound_call("nobody-here")
        with pytest.raises(CallEndedError):
            nobody.wait_for_state("answered", timeout=10)
        assert nobody.end_reason() == "abandoned"


# -- the control channel's rules, in process ---------------------------------------------


@pytest.mark.timeout(30)
def test_normal_client_cannot_call_control_methods(
    sim: RelaySimulator, client: RelayClient
) -> None:
    for method in ("simulator.sessions", "simulator.inbound_call", "simulator.nonexistent"):
        with pytest.raises(RelayError) as caught:
            client.execute(method, {})
        assert caught.value.code == -32601
    assert sim.calls == []
    with RemoteSimulator(sim.url, sim.project, sim.control_token) as remote:
        with pytest.raises(RelayError) as unknown:
            remote._client.execute("simulator.nonexistent", {})
        assert unknown.value.code == -32601
        control_protocol = remote._client.protocol
    # Presenting the control session's protocol with the API token does not resume it.
    ws = websocket.create_connection(sim.url, timeout=5)
    try:
        ws.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": "1",
                    "method": "signalwire.connect",
                    "params": {
                        "protocol": control_protocol,
                        "authentication": {"project": sim.project, "token": sim.token},
                    },
                }
            )
        )
        reply = json.loads(ws.recv())
        assert reply["result"]["session_restored"] is False
        assert reply["result"]["protocol"] != control_protocol
        ws.send(
            json.dumps({"jsonrpc": "2.0", "id": "2", "method": "simulator.sessions", "params": {}})
        )
        while True:
            frame = json.loads(ws.recv())
            if frame.get("id") == "2":
                break
        assert frame["error"]["code"] == -32601
    finally:
        ws.close()


@pytest.mark.timeout(30)
def test_control_session_gets_no_offers_and_is_not_a_consumer(sim: RelaySimulator) -> None:
    offers = Recorder()
    control = RelayClient(sim.project, sim.control_token, url=sim.url, contexts=["office"])
    control.on_call(offers)
    with control:
        control.receive(["sales"])
        assert sim.sessions == [] and sim.connection_count == 0
        assert sim.authentication_count == 0
        lonely = sim.inbound_call("office")
        lonely.wait_for_state("ended")
        assert lonely.end_reason == "abandoned" and lonely.offered_to == []
        app = make_client(sim)
        app.on_call(lambda call: call.answer())
        with app:
            [session] = sim.wait_for_sessions(1)
            for _ in range(3):
                sim.inbound_call("office").wait_for_state("answered")
            assert all(c.offered_to == [session.id] for c in sim.calls[1:])
        assert offers.items == []
        assert len(sim.journal.requests("signalwire.connect")) == 1  # the app's only
        assert not any(
            entry.frame.get("method") == "signalwire.receive"
            for entry in sim.journal.entries
            if isinstance(entry.frame, dict)
        )


@pytest.mark.timeout(30)
def test_faults_spare_the_control_session(
    sim: RelaySimulator, client: RelayClient, remote: RemoteSimulator
) -> None:
    assert remote.go_silent() == 1  # the app's socket, not this one
    assert remote.wake() == 1
    remote.fail_method("signalwire.connect", -32002, "Authentication failed", times=None)
    with RemoteSimulator(sim.url, sim.project, sim.control_token) as second:
        second.clear_faults()  # it could log in despite the rule
    assert remote.drop_connections() == 1
    [session] = remote.wait_for_sessions(1, timeout=10)  # the app is back
    assert session.contexts == frozenset({"office"})
    with pytest.raises(RelayTimeoutError):
        remote.wait_for_sessions(2, timeout=0.2)
    assert sim.authentication_count == 2


@pytest.mark.timeout(30)
def test_journal_requests_never_return_tokens(
    sim: RelaySimulator, client: RelayClient, remote: RemoteSimulator
) -> None:
    jwt_client = RelayClient(jwt_token=sim.jwt_token, url=sim.url)
    with jwt_client:
        jwt_client.execute("signalwire.ping", {"note": f"mentions {sim.token}"})
    bad = RelayClient(sim.project, "wrong-" + sim.control_token, url=sim.url, reconnect=False)
    with pytest.raises(RelayError):
        bad.connect(timeout=5)
    bad.close()
    requests = remote.journal_requests()
    text = json.dumps(requests)
    for secret in (sim.token, sim.jwt_token, sim.control_token):
        assert secret not in text
    connects = remote.journal_requests("signalwire.connect")
    assert len(connects) == 3 and all(
        "***" in json.dumps(c["params"]["authentication"]) for c in connects
    )
    # The in-process journal still has the verbatim frames.
    assert (
        sim.journal.requests("signalwire.connect")[0]["params"]["authentication"]["token"]
        == sim.token
    )


@pytest.mark.timeout(30)
def test_remote_scripting_mirrors_the_in_process_api(
    sim: RelaySimulator, remote: RemoteSimulator
) -> None:
    with pytest.raises(ValueError):
        remote.on_dial("+15553334444", "maybe")
    with pytest.raises(ValueError):
        remote.set_media_duration("https://example.com/a.mp3", -1)
    with pytest.raises(ValueError):
        remote._call("delay_method", {"method": "calling.play", "seconds": "soon"})
    assert remote.get_call("no-such-call") is None
    remote.on_dial("+15553334444", "busy", delay=0.1)
    remote.set_media_duration("https://example.com/a.mp3", 4.0)
    remote.delay_method("calling.play", 0.1, times=1)
    remote.fail_method("calling.play", 404, "Call not found", as_result=True)
    remote.clear_faults()
    assert remote.push_event("calling.call.state", {"call_id": "x"}) == []
    assert remote.push_frame("{not json") == 0
    assert remote.redeliver_events(3) == 0  # no RELAY session online
    with pytest.raises(ValueError, match="count must be"):
        remote.redeliver_events(0)
    assert sim.journal.requests() == []  # control traffic stays out of the journal
