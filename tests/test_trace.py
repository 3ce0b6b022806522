"""The opt-in wire trace: every frame, both ways, secrets masked."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from relaysync import RelayClient
from relaysync.testing import RelaySimulator

from .helpers import answered_call

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def trace_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "relaysync.trace"]


@pytest.mark.timeout(30)
def test_trace_logs_every_frame_with_secrets_masked(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="relaysync.trace")
    with RelayClient(
        sim.project, sim.token, url=sim.url, contexts=["office"], trace=True
    ) as client:
        call = answered_call(client, sim)
        call.hangup()
        call.wait_for_ended(timeout=10)
    lines = trace_lines(caplog)
    sent = [line for line in lines if line.startswith("send ")]
    received = [line for line in lines if line.startswith("recv ")]
    connect = next(line for line in sent if '"method":"signalwire.connect"' in line)
    assert '"token":"***"' in connect and f'"project":"{sim.project}"' in connect
    assert any('"calling.answer"' in line for line in sent)
    assert any('"result":{}' in line for line in sent)  # event acks are traced too
    assert any('"calling.call.receive"' in line for line in received)
    assert any('"authorization_state":"***"' in line for line in received)
    assert all(sim.token not in line for line in lines)


def test_trace_is_off_by_default_and_env_turns_it_on(
    sim: RelaySimulator, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="relaysync.trace")
    monkeypatch.delenv("RELAYSYNC_TRACE", raising=False)
    with RelayClient(sim.project, sim.token, url=sim.url) as client:
        client.execute("signalwire.ping", {})
    assert trace_lines(caplog) == []
    monkeypatch.setenv("RELAYSYNC_TRACE", "1")
    with RelayClient(sim.project, sim.token, url=sim.url) as client:
        client.execute("signalwire.ping", {})
    assert any('"signalwire.ping"' in line for line in trace_lines(caplog))
    caplog.clear()
    with RelayClient(sim.project, sim.token, url=sim.url, trace=False) as client:
        client.execute("signalwire.ping", {})
    assert trace_lines(caplog) == []
    with pytest.raises(TypeError, match="trace must be"):
        RelayClient(sim.project, sim.token, url=sim.url, trace="yes")  # type: ignore[arg-type]


@pytest.mark.timeout(60)
def test_relaysync_trace_goes_to_stderr_without_logging_setup() -> None:
    code = (
        "from relaysync import RelayClient\n"
        "from relaysync.testing import RelaySimulator\n"
        "with RelaySimulator(token='tok-SECRET-42') as sim:\n"
        "    with RelayClient(sim.project, sim.token, url=sim.url) as c:\n"
        "        c.execute('signalwire.ping', {})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "RELAYSYNC_TRACE": "1"},
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "relaysync.trace send " in proc.stderr
    assert '"signalwire.connect"' in proc.stderr and '"token":"***"' in proc.stderr
    assert "relaysync.trace recv " in proc.stderr
    assert "tok-SECRET-42" not in proc.stderr + proc.stdout
