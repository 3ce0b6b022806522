"""``relaysync listen``: a real subprocess against the simulator, Ctrl-C, --json, errors."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Callable, Dict, List, Optional

import pytest

from relaysync import Call, RelayEvent
from relaysync.listen import describe, split_contexts
from relaysync.testing import RelaySimulator

from .helpers import Recorder, make_client
from .process_support import die_with_parent
from .proxy_support import PProxy

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}  (\S+)  (\S+)  ?(.*)$")


class ListenProcess:
    """``relaysync listen ARGS`` in a child process, its output read line by line."""

    def __init__(self, *args: str, env: Optional[Dict[str, str]] = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relaysync", "listen", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent(),
        )
        self.out: List[str] = []
        self.err: List[str] = []
        self._cond = threading.Condition()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._pumps = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def _read(self, stream: IO[str], lines: List[str]) -> None:
        for line in stream:
            with self._cond:
                lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def wait(self, lines: List[str], predicate: Callable[[str], bool], timeout: float = 20) -> str:
        """Block until one of ``lines`` satisfies ``predicate``; return it."""

        def found() -> Optional[str]:
            return next((line for line in lines if predicate(line)), None)

        with self._cond:
            if not self._cond.wait_for(
                lambda: found() is not None or self.proc.poll() is not None, timeout
            ):
                raise AssertionError(f"no such line; out={self.out} err={self.err}")
            line = found()
        if line is None:
            self.stop()
            raise AssertionError(f"listen exited {self.proc.returncode}: {self.out} {self.err}")
        return line

    def stop(self, signum: int = signal.SIGINT) -> int:
        """Signal the process and return its exit status (killed if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for pump in self._pumps:
            pump.join(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return self.proc.returncode


def listen_args(sim: RelaySimulator, *extra: str) -> List[str]:
    return ["--url", sim.url, "--project", sim.project, "--token", sim.token, *extra]


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIGNALWIRE_", "RELAYSYNC_"))}
    return {**env, **extra}


@pytest.mark.timeout(90)
def test_listen_prints_readable_lines_passes_offers_and_leaves_on_ctrl_c(
    sim: RelaySimulator,
) -> None:
    listener = ListenProcess(*listen_args(sim, "--context", "office,sales"), env=clean_env())
    try:
        listener.wait(listener.err, lambda line: line == "# connected")
        session = sim.wait_for_sessions(1)[0]
        assert session.contexts == frozenset({"office", "sales"})
        answered = Recorder()
        with make_client(sim) as other:  # the application serving "office"

            def answer(call: Call) -> None:
                call.answer()
                answered(call)

            other.on_call(answer)
            sim.wait_for_sessions(2)
            # A ring of 5000 simulated seconds is 50 s at time_scale=0.01: the listener
            # child passes each call on and the application answers it well within that,
            # however loaded the machine is.
            for _ in range(2):
                sim.inbound_call(
                    "office", from_="+15550001111", to="+15550002222", ring_timeout=5000
                )
            offer = listener.wait(listener.out, lambda line: "calling.call.receive" in line)
            # Every call still reaches the application: the listener passed its offers.
            answered.wait_for(lambda calls: len(calls) == 2, timeout=45)
        match = LINE.match(offer)
        assert match is not None, offer
        assert match.group(3) == (
            "call_state=created from_number=+15550001111 to_number=+15550002222 context=office"
        )
        passes = [
            e
            for e in sim.journal.entries
            if e.session_id == session.id
            and isinstance(e.frame, dict)
            and e.frame.get("method") == "calling.pass"
        ]
        assert passes and all(p.frame["params"]["call_id"] for p in passes)  # type: ignore[index]

        sim.push_event(
            "calling.call.refer",
            {
                "call_id": "c-77",
                "node_id": "n-1",
                "state": "success",
                "sip_refer_to": "sip:support@example.com",
                "sip_refer_response_code": "202",
                "sip_notify_response_code": "200",
            },
            session_id=session.id,
        )
        refer = listener.wait(listener.out, lambda line: "calling.call.refer" in line)
        assert refer.split("  ", 1)[1] == (
            "c-77  calling.call.refer  state=success sip_refer_to=sip:support@example.com "
            "SIP codes: REFER 202, NOTIFY 200"
        )
    finally:
        status = listener.stop(signal.SIGINT)
    assert status == 0, listener.err
    assert listener.err[-1] == "# stopped"
    assert not any("Traceback" in line for line in listener.err)
    sim.wait_until(lambda: not any(s.online for s in sim.sessions), timeout=10)
    assert sim.token not in "\n".join(listener.out + listener.err)


@pytest.mark.timeout(60)
def test_listen_json_prints_raw_frames_with_secrets_masked(sim: RelaySimulator) -> None:
    listener = ListenProcess(*listen_args(sim, "-c", "office", "--json"), env=clean_env())
    try:
        listener.wait(listener.err, lambda line: line == "# connected")
        session = sim.wait_for_sessions(1)[0]
        sim.push_event(
            "calling.call.stream",
            {"call_id": "c-9", "state": "streaming", "authorization_bearer_token": "bearer-XYZ"},
            session_id=session.id,
        )
        line = listener.wait(listener.out, lambda text: "calling.call.stream" in text)
    finally:
        assert listener.stop(signal.SIGTERM) == 0
    frame = json.loads(line)
    assert frame["method"] == "signalwire.event" and frame["id"]
    assert frame["params"]["event_type"] == "calling.call.stream"
    assert frame["params"]["params"]["authorization_bearer_token"] == "***"
    assert "bearer-XYZ" not in "\n".join(listener.out + listener.err)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_listen_stops_cleanly_on_a_signal_while_still_connecting(signum: int) -> None:
    # A server that takes the TCP connection and never answers the WebSocket handshake:
    # the listener stays in connect() (up to its 10 s connect timeout) until signalled.
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(20)
        url = f"ws://127.0.0.1:{server.getsockname()[1]}"
        listener = ListenProcess(
            "--url", url, "--project", "p", "--token", "t", "-c", "office", env=clean_env()
        )
        try:
            listener.wait(listener.err, lambda line: line.startswith("# listening on office"))
            conn, _ = server.accept()  # the listener is now inside connect()
            with conn:
                status = listener.stop(signum)
        finally:
            listener.stop()
    assert status == 0, listener.err
    assert listener.err[-1] == "# stopped"
    assert not any("Traceback" in line for line in listener.err)


@pytest.mark.timeout(60)
def test_listen_uses_env_credentials_and_reports_bad_ones(sim: RelaySimulator) -> None:
    env = clean_env(SIGNALWIRE_PROJECT_ID=sim.project, SIGNALWIRE_API_TOKEN="wrong")
    rejected = subprocess.run(
        [sys.executable, "-m", "relaysync", "listen", "--url", sim.url, "-c", "office"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert rejected.returncode == 1, rejected.stderr
    assert "relaysync listen:" in rejected.stderr and "wrong" not in rejected.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "relaysync", "listen", "--url", sim.url, "-c", "office"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert missing.returncode == 2 and "SIGNALWIRE_PROJECT_ID" in missing.stderr
    no_context = subprocess.run(
        [sys.executable, "-m", "relaysync", "listen", *listen_args(sim)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert no_context.returncode == 2 and "--context" in no_context.stderr


def test_describe_and_split_contexts() -> None:
    assert split_contexts(["a,b", " c ", "a"]) == ["a", "b", "c"]
    event = RelayEvent(
        "messaging.state",
        {"message_id": "m-1", "message_state": "delivered", "from_number": "+1", "to_number": "+2"},
        timestamp=1_700_000_000.25,
    )
    line = describe(event)
    assert re.match(r"^\d\d:\d\d:\d\d\.250  m-1  messaging\.state  ", line)
    assert line.endswith("message_state=delivered from_number=+1 to_number=+2")
    play = RelayEvent("calling.call.play", {"control_id": "ctl-1", "state": "playing"}, "c-1")
    assert describe(play).endswith("  c-1  calling.call.play  state=playing control_id=ctl-1")
    nobody = RelayEvent("signalwire.authorization.state", {}, timestamp=1_700_000_000.0)
    assert "  -  signalwire.authorization.state" in describe(nobody)


@pytest.mark.parametrize("command", ["demo", "simulate", "listen"])
def test_every_subcommand_help_teaches_with_examples(command: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "relaysync", command, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0
    assert "examples:" in proc.stdout and f"relaysync {command}" in proc.stdout


def test_top_level_help_points_to_each_command() -> None:
    from relaysync.cli import build_parser

    text = build_parser().format_help()
    for command in ("demo", "simulate", "listen"):
        assert f"relaysync {command}" in text


@pytest.mark.timeout(60)
def test_listen_goes_through_a_proxy(sim: RelaySimulator) -> None:
    with PProxy(auth="u:pw") as proxy:
        listener = ListenProcess(
            *listen_args(sim, "-c", "office", "--proxy", proxy.url_with("u:pw")), env=clean_env()
        )
        try:
            listener.wait(listener.err, lambda line: line == "# connected")
            assert proxy.wait_tunnels(1) == [f"{sim.host}:{sim.port}"]
        finally:
            assert listener.stop() == 0


@pytest.mark.timeout(90)
def test_listen_record_writes_a_cassette_without_the_token(
    sim: RelaySimulator, tmp_path: Path
) -> None:
    cassette = tmp_path / "listen.jsonl"
    listener = ListenProcess(
        *listen_args(sim, "-c", "office", "--record", str(cassette)), env=clean_env()
    )
    try:
        listener.wait(listener.err, lambda line: line == "# connected")
        sim.inbound_call(context="office")
        listener.wait(listener.out, lambda line: "calling.call.receive" in line)
    finally:
        assert listener.stop(signal.SIGINT) == 0
    text = cassette.read_text()
    assert sim.token not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["dir"] == "out" and lines[0]["frame"]["method"] == "signalwire.connect"
    events = [
        x["frame"]["params"]["event_type"]
        for x in lines
        if x["dir"] == "in" and x["frame"].get("method") == "signalwire.event"
    ]
    assert "calling.call.receive" in events
