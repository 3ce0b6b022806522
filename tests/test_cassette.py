"""Recording a cassette: every frame in and out, in order, with no secret in it."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, List

import pytest

from relaysync import Call, RelayClient, RelayError
from relaysync.cassette import CassetteWriter, read_cassette
from relaysync.testing import RelaySimulator

from .helpers import FAST, Recorder, make_client
from .proxy_support import PProxy

SIP_REFER_PASSWORD = "refer-pw-9d1c"
FROM_SIP = "sip:alice@example.com"
SIP_CONNECT_PASSWORD = "connect-pw-77e0"
PROXY_PASSWORD = "proxy-pw-51aa"


def _auth_states(sim: RelaySimulator) -> List[str]:
    """Every authorization_state blob the simulator handed out."""
    blobs = []
    for entry in sim.journal.entries:
        frame = entry.frame
        if entry.direction == "out" and isinstance(frame, dict):
            params = frame.get("params") or {}
            inner = params.get("params") if isinstance(params, dict) else None
            if isinstance(inner, dict) and inner.get("authorization_state"):
                blobs.append(inner["authorization_state"])
    return blobs


def _session_with_secrets(client: RelayClient, sim: RelaySimulator) -> None:
    """Answer a call, REFER and connect it with SIP passwords, and resume once."""
    done = Recorder()

    def handle(call: Call) -> None:
        try:
            call.answer()
            target = {"to": "sip:bob@example.com", "from": FROM_SIP}
            leg = {"type": "sip", "params": target}
            # SIP credentials on a connect leg are no option relaysync declares: they go
            # out through extra_params, and must still be masked
            secret = {**target, "username": "alice", "password": SIP_CONNECT_PASSWORD}
            secret_leg = {"type": "sip", "params": secret}
            try:
                call.connect([[leg]], timeout=30, extra_params={"devices": [[secret_leg]]})
            except RelayError as exc:
                done(f"connect {exc}")
            device = {
                "type": "sip",
                "params": {
                    "to": "sip:support@example.com",
                    "username": "alice",
                    "password": SIP_REFER_PASSWORD,
                },
            }
            done(call.refer(device).state)
            call.hangup()
        finally:
            done("handled")

    client.on_call(handle)
    states = Recorder()
    client.on_connection_change(states)
    sim.on_refer("sip:support@example.com", "success")
    sim.on_dial("sip:bob@example.com", "busy", delay=0.1)
    sim.inbound_call(context="office")
    done.wait_for(lambda items: "handled" in items, timeout=30)
    sim.drop_connections()  # the resume sends the authorization_state back
    states.wait_for(lambda items: items[-2:] == ["reconnecting", "connected"], timeout=30)
    client.execute("signalwire.ping", {}, timeout=30)


@pytest.mark.timeout(90)
def test_a_cassette_holds_no_secret(sim: RelaySimulator, tmp_path: Path) -> None:
    with_jwt = tmp_path / "jwt.jsonl"
    with PProxy(auth=f"alice:{PROXY_PASSWORD}") as proxy:
        client = RelayClient(
            jwt_token=sim.jwt_token,
            url=sim.url,
            contexts=["office"],
            proxy=proxy.url_with(f"alice:{PROXY_PASSWORD}"),
            record=with_jwt,
            backoff_initial=FAST["backoff_initial"],
            backoff_max=FAST["backoff_max"],
        )
        with client:
            _session_with_secrets(client, sim)
    with_token = tmp_path / "token.jsonl"
    with make_client(sim, record=str(with_token)) as client:
        _session_with_secrets(client, sim)

    blobs = _auth_states(sim)
    assert blobs, "the simulator handed out an authorization state"
    secrets = [sim.token, sim.jwt_token, SIP_REFER_PASSWORD, SIP_CONNECT_PASSWORD]
    secrets += [PROXY_PASSWORD, *blobs]
    for path in (with_jwt, with_token):
        text = path.read_text()
        for secret in secrets:
            assert secret not in text, f"a secret reached {path.name}"
        entries = read_cassette(path)
        methods = [e.frame.get("method") for e in entries if e.dir == "out"]
        assert methods[0] == "signalwire.connect"
        assert methods.count("signalwire.connect") == 2  # the first connect and the resume
        assert "calling.refer" in methods and "calling.connect" in methods
        assert text.count('"***"') >= 4  # credentials, two SIP passwords, auth state
        assert [e.t for e in entries] == sorted(e.t for e in entries)
        assert {e.dir for e in entries} == {"in", "out"}
    connect = json.loads(with_token.read_text().splitlines()[0])["frame"]
    assert connect["params"]["authentication"] == {"project": sim.project, "token": "***"}


def test_every_frame_in_and_out_is_recorded_in_order(sim: RelaySimulator, tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    with make_client(sim, record=path) as client:
        client.execute("signalwire.ping", {}, timeout=30)
        sim.inbound_call(context="office")  # no handler: passed back
        sim.wait_until(lambda: True)
    entries = read_cassette(path)
    # the client's view of each request and its reply, as the simulator saw them
    client_requests = [e.frame["id"] for e in entries if e.dir == "out" and "method" in e.frame]
    replies = [e.frame["id"] for e in entries if e.dir == "in" and "method" not in e.frame]
    assert client_requests[:2] == replies[:2]
    received_events = [
        e.frame["id"]
        for e in entries
        if e.dir == "in" and e.frame.get("method") == "signalwire.event"
    ]
    acks = [e.frame["id"] for e in entries if e.dir == "out" and e.frame.get("result") == {}]
    assert set(received_events) <= set(acks)


def test_writer_is_closed_once_and_ignores_late_frames(tmp_path: Path) -> None:
    ticks = iter([0.0, 0.5, 1.25, 2.0])
    writer = CassetteWriter(tmp_path / "c.jsonl", clock=lambda: next(ticks))
    writer.sent({"id": "1", "method": "signalwire.ping", "params": {}})
    writer.received({"id": "1", "result": {}})
    writer.close()
    writer.close()
    writer.sent({"id": "2", "method": "signalwire.ping", "params": {}})
    entries = read_cassette(tmp_path / "c.jsonl")
    assert [(e.t, e.dir) for e in entries] == [(0.5, "out"), (1.25, "in")]


def test_a_broken_cassette_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"t": 0, "dir": "out", "frame": {}}\n{"t": 1}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:2"):
        read_cassette(path)


def test_record_must_be_a_path(sim: RelaySimulator) -> None:
    with pytest.raises(TypeError, match="record"):
        make_client(sim, record=3)


def test_concurrent_writers_keep_whole_lines(tmp_path: Path) -> None:
    writer = CassetteWriter(tmp_path / "c.jsonl")

    def write(n: int) -> None:
        for i in range(200):
            writer.sent({"id": f"{n}-{i}", "method": "x", "params": {"pad": "y" * 300}})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    entries: List[Any] = read_cassette(tmp_path / "c.jsonl")
    assert len(entries) == 800
