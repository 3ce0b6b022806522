"""Replay: a cassette's server side played to a client, and the divergences reported."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, List, Tuple

import pytest

from relaysync import Call, RelayClient
from relaysync.cassette import read_cassette
from relaysync.testing import RelaySimulator
from relaysync.testing.replay import Script
from relaysync.testing.replay_match import (
    MISSING,
    PARAMS,
    UNEXPECTED,
    Divergence,
    describe,
    differences,
    id_pairs,
    remap,
    without_ids,
)

from .helpers import Recorder, make_client

ROOT = Path(__file__).resolve().parent.parent

Flow = Callable[[RelayClient], List[str]]


def inbound_flow(target: str, digits_max: int = 1) -> Callable[[RelayClient, Recorder], None]:
    """An on_call handler: answer, collect a digit, REFER to ``target``."""

    def install(client: RelayClient, results: Recorder) -> None:
        def handle(call: Call) -> None:
            try:
                call.answer()
                menu = call.prompt_tts("press 1", digits={"max": digits_max, "digit_timeout": 5})
                results(f"digits {menu.wait().digits}")
                results(f"refer {call.refer(target).state}")
            except Exception as exc:  # the test reads what happened
                results(f"error {type(exc).__name__}")
            finally:
                results("done")

        client.on_call(handle)

    return install


def record_inbound(path: Path) -> List[str]:
    """Record one inbound call pressing 1 and referred to sales."""
    with RelaySimulator(time_scale=0.01) as sim:
        sim.caller("+15550000001").press("1")
        sim.on_refer("sip:sales@example.com", "success")
        results = Recorder()
        client = make_client(sim, record=path)
        inbound_flow("sip:sales@example.com")(client, results)
        with client:
            sim.inbound_call("office", from_="+15550000001")
            return results.wait_for(lambda items: "done" in items, timeout=30)


def replay_inbound(
    path: Path, install: Callable[[RelayClient, Recorder], None]
) -> Tuple[List[Any], List[Divergence]]:
    with RelaySimulator(replay=path, time_scale=0.01) as sim:
        results = Recorder()
        client = make_client(sim)
        install(client, results)
        with client:
            items = results.wait_for(lambda items: "done" in items, timeout=30)
        return items, sim.replay_report()


@pytest.fixture(scope="module")
def inbound_cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cassettes") / "inbound.jsonl"
    assert record_inbound(path) == ["digits 1", "refer success", "done"]
    return path


def test_the_recorded_flow_replays_without_divergence(inbound_cassette: Path) -> None:
    items, report = replay_inbound(inbound_cassette, inbound_flow("sip:sales@example.com"))
    assert items == ["digits 1", "refer success", "done"]
    assert report == []


def test_another_refer_target_is_reported_with_the_difference(inbound_cassette: Path) -> None:
    _, report = replay_inbound(inbound_cassette, inbound_flow("sip:billing@example.com"))
    assert [d.kind for d in report] == [PARAMS]
    assert report[0].method == "calling.refer"
    assert report[0].differences == (
        "params.device.params.to: recorded 'sip:sales@example.com', "
        "this run sent 'sip:billing@example.com'",
    )
    assert "calling.refer: params differ from the recording" in describe(report)


def test_other_collect_options_are_reported(inbound_cassette: Path) -> None:
    items, report = replay_inbound(
        inbound_cassette, inbound_flow("sip:sales@example.com", digits_max=2)
    )
    assert items == ["digits 1", "refer success", "done"]  # the recorded answers still come
    (divergence,) = report
    assert divergence.method == "calling.play_and_collect"
    assert divergence.differences == ("params.collect.digits.max: recorded 1, this run sent 2",)


def test_unexpected_and_missing_requests(inbound_cassette: Path) -> None:
    def install(client: RelayClient, results: Recorder) -> None:
        def handle(call: Call) -> None:
            try:
                call.answer()
                call.play_tts("hello").wait()  # not recorded
            except Exception as exc:
                results(f"error {type(exc).__name__}: {exc}")
            finally:
                results("done")

        client.on_call(handle)

    items, report = replay_inbound(inbound_cassette, install)
    assert "not in the cassette" in items[0]
    kinds = [(d.kind, d.method) for d in report]
    assert kinds == [
        (UNEXPECTED, "calling.play"),
        (MISSING, "calling.play_and_collect"),
        (MISSING, "calling.refer"),
    ]
    assert "calling.refer: recorded (recorded at" in describe(report)


def test_a_dial_and_a_message_replay_with_this_runs_ids(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    with RelaySimulator(time_scale=0.01) as sim:
        sim.on_dial("+15559990000", "answer", delay=0.1)
        with make_client(sim, record=path) as client:
            call = client.dial_phone("+15559990000", "+15550002222")
            recorded_call = call.call_id
            call.play_tts("hi").wait()
            call.hangup()
            message = client.send_message("+15559990000", "+15550002222", body="hello")
            message.wait(30)
            recorded_state = message.state
    tags = [
        e.frame["params"]["tag"]
        for e in read_cassette(path)
        if e.dir == "out" and e.frame.get("method") == "calling.dial"
    ]
    with RelaySimulator(replay=path, time_scale=0.01) as sim:
        with make_client(sim) as client:
            call = client.dial_phone("+15559990000", "+15550002222")
            assert call.call_id == recorded_call  # RELAY's ids are the recorded ones
            assert call.tag not in tags  # the client's own are this run's
            call.play_tts("hi").wait()
            call.hangup()
            message = client.send_message("+15559990000", "+15550002222", body="hello")
            message.wait(30)
            assert message.state == recorded_state
        assert sim.replay_report() == []


def test_concurrent_calls_match_their_own_requests(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    numbers = ["+15550000001", "+15550000002"]

    def install(client: RelayClient, results: Recorder) -> None:
        def handle(call: Call) -> None:
            try:
                call.answer()
                digits = call.prompt_tts("?", digits={"max": 1, "digit_timeout": 5}).wait().digits
                call.play_tts(f"you pressed {digits}").wait()
                call.hangup()
                results(f"{call.from_number} {digits}")
            finally:
                results("done")

        client.on_call(handle)

    def two_done(items: List[str]) -> bool:
        return items.count("done") == 2

    with RelaySimulator(time_scale=0.01) as sim:
        sim.caller(numbers[0]).press("1")
        sim.caller(numbers[1]).press("2")
        results = Recorder()
        client = make_client(sim, record=path)
        install(client, results)
        with client:
            for number in numbers:
                sim.inbound_call("office", from_=number)
            recorded = sorted(results.wait_for(two_done, timeout=30))
    for _ in range(2):
        with RelaySimulator(replay=path, time_scale=0.01) as sim:
            results = Recorder()
            client = make_client(sim)
            install(client, results)
            with client:
                replayed = sorted(results.wait_for(two_done, timeout=30))
            assert sim.replay_report() == []
        assert replayed == recorded


def test_script_cuts_the_cassette(inbound_cassette: Path) -> None:
    script = Script(read_cassette(inbound_cassette))
    assert script.contexts == ["office"]
    assert [r.method for r in script.requests] == [
        "calling.answer",
        "calling.play_and_collect",
        "calling.refer",
    ]
    assert [p["event_type"] for _, p in script.spontaneous][:1] == ["calling.call.receive"]
    collect = script.requests[1]
    assert "calling.call.collect" in [p["event_type"] for _, p in collect.events]


def test_replay_report_needs_a_cassette() -> None:
    with RelaySimulator() as sim, pytest.raises(RuntimeError, match="replay"):
        sim.replay_report()


def test_matching_helpers() -> None:
    recorded = {"call_id": "a", "control_id": "r1", "collect": {"digits": {"max": 1}}}
    live = {"call_id": "a", "control_id": "l1", "collect": {"digits": {"max": 2}}, "x": 1}
    assert without_ids(live) == {"collect": {"digits": {"max": 2}}, "x": 1}
    assert id_pairs(recorded, live) == {"r1": "l1"}
    assert remap({"control_id": "r1", "list": ["r1", "b"]}, {"r1": "l1"}) == {
        "control_id": "l1",
        "list": ["l1", "b"],
    }
    assert differences(without_ids(recorded), without_ids(live)) == [
        "params.collect.digits.max: recorded 1, this run sent 2",
        "params.x: not recorded, this run sent 1",
    ]
    assert differences({"a": [1, 2]}, {"a": [1]}) == [
        "params.a: recorded [1, 2], this run sent [1]"
    ]
    assert describe([]) == "no divergence"
    assert str(Divergence(MISSING, "calling.end", (), 1.5)).startswith(
        "calling.end: recorded (recorded at 1.500 s) but never made"
    )


PLUGIN_TEST = textwrap.dedent(
    """
    import threading

    import pytest
    from relaysync import RelayClient

    def flow(sim, target):
        done = threading.Event()
        client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])

        @client.on_call
        def handle(call):
            try:
                call.answer()
                call.prompt_tts("press 1", digits={"max": 1, "digit_timeout": 5}).wait()
                call.refer(target)
            finally:
                done.set()

        with client:
            assert done.wait(30)

    @pytest.mark.relay_cassette("inbound.jsonl")
    def test_same(relay_replay):
        flow(relay_replay, "sip:sales@example.com")

    @pytest.mark.relay_cassette("inbound.jsonl")
    def test_changed(relay_replay):
        flow(relay_replay, "sip:elsewhere@example.com")
    """
)


@pytest.mark.timeout(120)
def test_the_pytest_plugin_fails_a_diverging_test(inbound_cassette: Path, tmp_path: Path) -> None:
    (tmp_path / "inbound.jsonl").write_bytes(inbound_cassette.read_bytes())
    (tmp_path / "test_flow.py").write_text(PLUGIN_TEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_flow.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert "1 failed, 1 passed" in result.stdout, result.stdout + result.stderr
    assert "test_changed" in result.stdout
    assert (
        "params.device.params.to: recorded 'sip:sales@example.com', "
        "this run sent 'sip:elsewhere@example.com'" in result.stdout
    )


@pytest.mark.timeout(120)
def test_the_replay_command_runs_an_application(inbound_cassette: Path, tmp_path: Path) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            import threading

            TARGET = "sip:sales@example.com"

            def replay(client):
                done = threading.Event()

                @client.on_call
                def handle(call):
                    try:
                        call.answer()
                        call.prompt_tts("press 1", digits={"max": 1, "digit_timeout": 5}).wait()
                        print("refer", call.refer(TARGET).state, flush=True)
                    finally:
                        done.set()

                with client:
                    return 0 if done.wait(30) else 3

            def changed(client):
                global TARGET
                TARGET = "sip:other@example.com"
                return replay(client)
            """
        )
    )

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "relaysync",
                "replay",
                str(inbound_cassette),
                "--script",
                str(app),
                "--time-scale",
                "0.01",
                *extra,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=100,
        )

    same = run()
    assert same.returncode == 0, same.stdout + same.stderr
    assert "refer success" in same.stdout and "no divergence" in same.stdout
    changed = run("--entry", "changed")
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "this run sent 'sip:other@example.com'" in changed.stdout
    missing = run("--entry", "nothing")
    assert missing.returncode == 2 and "no function nothing(client)" in missing.stderr
    # comma-separated contexts are split, as for listen: one subscription to "office"
    listed = run("--context", "office,office")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "no divergence" in listed.stdout
