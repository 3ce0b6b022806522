"""Handler and callback failures: reported once (log, or stderr without logging), and
the call of a failed on_call handler hung up."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path
from typing import Any, List

import pytest

from relaysync import Call, Message
from relaysync.errors import CallEndedError
from relaysync.testing import RelaySimulator

from .helpers import Recorder, logged_records, make_client
from .process_support import python_child

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(90)

# The README's first example with a typo in the handler. With ``--log FILE`` the
# application configures logging to a file first.
TYPO_SCRIPT = textwrap.dedent("""
    import logging, sys
    from relaysync import RelayClient
    url, project, token, *log = sys.argv[1:]
    if log:
        logging.basicConfig(filename=log[0], level=logging.INFO)
    client = RelayClient(project, token, url=url, contexts=["office"])

    @client.on_call
    def handle(call):
        call.answer()
        call.play_tts("hi").wiat()

    client.connect()
    print("ready", flush=True)
    sys.stdin.readline()
    client.close()
    print("closed", flush=True)
""")


def _run_typo_child(sim: RelaySimulator, *extra: str) -> tuple[str, str]:
    """Run TYPO_SCRIPT, place one call, wait for the simulator to see it hung up."""
    proc = python_child(TYPO_SCRIPT, sim.url, sim.project, sim.token, *extra, stdin=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        line = proc.stdout.readline().strip()
        assert line == "ready", proc.stderr.read() if proc.stderr else line
        handle = sim.inbound_call("office")
        end = sim.journal.wait_for_request(
            "calling.end",
            timeout=30,
            predicate=lambda frame: frame["params"].get("call_id") == handle.call_id,
        )
        assert end["params"]["reason"] == "hangup"
        handle.wait_for_state("ended", timeout=30)
        out, err = proc.communicate("\n", timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "closed" in out
    return out, err


def test_handler_typo_prints_once_on_stderr_without_logging_and_hangs_up(
    sim: RelaySimulator,
) -> None:
    _, err = _run_typo_child(sim)
    assert err.count("Traceback (most recent call last)") == 1, err
    assert err.count("AttributeError") == 1, err
    assert "wiat" in err
    assert "Exception in on_call handler handle for call " in err
    assert "from +15550001111 to +15550002222" in err
    assert "hanging up the call" in err


def test_handler_typo_goes_to_the_log_only_when_logging_is_configured(
    sim: RelaySimulator, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    _, err = _run_typo_child(sim, str(log))
    assert "Traceback" not in err and "wiat" not in err, err
    text = log.read_text()
    assert text.count("Traceback (most recent call last)") == 1, text
    assert "ERROR:relaysync:relaysync: on_call handler handle raised for call " in text
    assert "wiat" in text


def test_hangup_on_handler_error_false_keeps_the_call_up(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim, hangup_on_handler_error=False)
    failed = Recorder()

    @client.on_call
    def handle(call: Call) -> None:
        call.answer()
        failed(call)
        raise RuntimeError("boom")

    with client, caplog.at_level(logging.INFO, logger="relaysync"), logged_records() as logs:
        handle_ = sim.inbound_call("office")
        call = failed.wait_for(lambda items: len(items) == 1)[0]
        logs.wait_for(lambda records: any("boom" in r.getMessage() or r.exc_info for r in records))
        assert not call.ended
        assert handle_.state == "answered"
        assert not any(
            r["params"].get("call_id") == call.call_id for r in sim.journal.requests("calling.end")
        )
        call.hangup()
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "hanging up" not in errors[0].getMessage()


def test_handler_ending_with_call_ended_is_info(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim)
    done = Recorder()

    @client.on_call
    def handle(call: Call) -> None:
        try:
            raise CallEndedError(-1, "the caller hung up")
        finally:
            done(call)

    with caplog.at_level(logging.INFO, logger="relaysync"), client, logged_records() as logs:
        sim.inbound_call("office")
        done.wait_for(lambda items: len(items) == 1)
        logs.wait_for(
            lambda records: any("stopped: the call ended" in r.getMessage() for r in records)
        )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_callbacks_are_reported_once_with_their_name(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim)
    seen = Recorder()

    def on_state(state: str) -> None:
        seen(("state", state))
        raise ValueError("state callback bug")

    def on_play_event(event: Any) -> None:
        seen(("event", event.event_type))
        raise KeyError("listener bug")

    def on_done(action: Any) -> None:
        seen(("done", action))
        raise ZeroDivisionError("completion bug")

    @client.on_call
    def handle(call: Call) -> None:
        call.on("calling.call.play", on_play_event)
        call.answer()
        call.play_tts("hello", on_completed=on_done).wait()
        call.hangup()

    client.on_connection_change(on_state)
    with caplog.at_level(logging.INFO, logger="relaysync"), client, logged_records() as logs:
        sim.inbound_call("office")
        seen.wait_for(lambda items: any(kind == "done" for kind, _ in items))

        def reported() -> List[str]:
            return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]

        logs.wait_for(lambda records: sum(r.levelno == logging.ERROR for r in records) >= 3)
    messages = reported()
    assert any("on_connection_change callback" in m and "on_state" in m for m in messages)
    assert any(
        "call.on('calling.call.play') callback" in m and "on_play_event" in m for m in messages
    )
    assert any("on_completed callback" in m and "on_done" in m for m in messages)
    # each failure once: the listener ran for each play event, the others once
    plays = sum(1 for kind, _ in seen if kind == "event")
    assert sum("on_play_event" in m for m in messages) == plays
    assert sum("on_done" in m for m in messages) == 1


def test_on_message_failure_names_the_message(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(sim)
    got = Recorder()

    @client.on_message
    def sms(message: Message) -> None:
        got(message)
        raise RuntimeError("sms bug")

    with caplog.at_level(logging.INFO, logger="relaysync"), client, logged_records() as logs:
        sim.inbound_message("office", from_="+15550001111", to="+15550002222", body="hi")
        message = got.wait_for(lambda items: len(items) == 1)[0]
        logs.wait_for(lambda records: any(r.levelno == logging.ERROR for r in records))
    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    name = f"{sms.__module__}.{sms.__qualname__}"
    assert (
        f"on_message handler {name} raised for message {message.message_id}" in error.getMessage()
    )
    assert error.exc_info is not None
