"""The ``relaysync`` command: demo (success and busy), simulate, --version."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

import relaysync
from relaysync import RelayClient
from relaysync.demo import DEFAULT_TARGET

from .helpers import SimulateProcess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args: str, timeout: float = 50.0) -> subprocess.CompletedProcess[str]:
    """Run ``python -m relaysync ARGS`` and capture its output."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return subprocess.run(
        [sys.executable, "-m", "relaysync", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_demo_process(
    target: str = DEFAULT_TARGET, *, verbose: bool = False, token: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run :func:`relaysync.demo.run_demo` in a child process (so a hang or a leaked
    thread cannot reach other tests), with a known simulator token."""
    code = (
        "import sys; from relaysync.demo import run_demo; "
        f"sys.exit(run_demo({target!r}, verbose={verbose!r}, token={token!r} or None))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )


def timeline_line(output: str, arrow: str, name: str, *words: str) -> str:
    """The first timeline line with ``arrow`` and ``name`` that contains every word."""
    pattern = re.compile(rf"^\s+[\d,]+ ms\s+{re.escape(arrow)}\s+{re.escape(name)}(\s|$)")
    for line in output.splitlines():
        if pattern.match(line) and all(word in line for word in words):
            return line
    raise AssertionError(f"no {arrow} {name} line with {words} in:\n{output}")


@pytest.mark.timeout(60)
def test_demo_prints_timeline_and_succeeds() -> None:
    proc = run_cli("demo")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    timeline_line(out, "-->", "signalwire.connect", "contexts=office")
    timeline_line(
        out, "<--", "calling.call.receive", "from_number=+15550001111", "to_number=+15550002222"
    )
    timeline_line(out, "-->", "calling.answer")
    timeline_line(out, "<--", "calling.call.state", "call_state=answered")
    timeline_line(out, "-->", "calling.play", "Thanks for calling")
    timeline_line(out, "<--", "calling.call.play", "state=finished")
    timeline_line(out, "-->", "calling.refer", "to=sip:support@example.com")
    timeline_line(out, "<--", "calling.call.refer", "state=inProgress")
    timeline_line(out, "<--", "calling.call.refer", "state=success", "REFER 202", "NOTIFY 200")
    timeline_line(out, "<--", "calling.call.state", "call_state=ended")
    assert re.search(r"^\s+successful:\s+True$", out, re.M), out
    assert "OK: the call was transferred to sip:support@example.com." in out
    assert "\033[" not in out  # plain text when stdout is not a terminal
    assert "authorization_state" not in out


@pytest.mark.timeout(60)
def test_demo_busy_target_exits_1() -> None:
    proc = run_cli("demo", "--target", "sip:busy@example.com")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    timeline_line(out, "-->", "calling.refer", "to=sip:busy@example.com")
    timeline_line(out, "<--", "calling.call.refer", "state=busy", "NOTIFY 486")
    timeline_line(out, "-->", "calling.end")
    assert re.search(r"^\s+state:\s+busy$", out, re.M), out
    assert re.search(r"^\s+successful:\s+False$", out, re.M), out
    assert "FAILED: the REFER to sip:busy@example.com ended busy (SIP 486)" in out


@pytest.mark.timeout(60)
def test_demo_verbose_masks_credentials() -> None:
    proc = run_cli("demo", "--verbose")
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert '"token":"***"' in out  # the connect frame is shown, its token masked
    assert re.findall(r'"token":"([^"]*)"', out) == ["***"]
    assert "authorization_state" not in out
    timeline_line(out, "-->", "(ack)")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("verbose", [False, True])
def test_demo_never_prints_the_token(verbose: bool) -> None:
    token = "demo-secret-token-4f1b9c"
    proc = run_demo_process(verbose=verbose, token=token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "state=success" in proc.stdout
    assert token not in proc.stdout + proc.stderr


@pytest.mark.timeout(60)
def test_demo_no_answer_target() -> None:
    proc = run_demo_process("sip:noanswer@example.com")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    timeline_line(proc.stdout, "<--", "calling.call.refer", "state=noAnswer", "NOTIFY 480")


@pytest.mark.timeout(60)
def test_demo_rejects_a_target_that_is_not_sip() -> None:
    proc = run_demo_process("support@example.com")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED: ValueError" in proc.stdout
    assert "calling.refer " not in proc.stdout  # nothing was sent


@pytest.mark.timeout(60)
def test_version() -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"relaysync {relaysync.__version__}"


@pytest.mark.timeout(60)
def test_no_command_prints_usage() -> None:
    proc = run_cli()
    assert proc.returncode == 2
    assert "demo" in proc.stderr and "simulate" in proc.stderr


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_simulate_serves_until_sigterm() -> None:
    with SimulateProcess("--project", "p1", "--token", "t1") as served:
        fields = served.fields
        assert fields["project"] == "p1" and fields["token"] == "t1"
        assert fields["url"].startswith("ws://127.0.0.1:")
        client = RelayClient("p1", "t1", url=fields["url"], contexts=["office"])
        try:
            client.connect(timeout=10)
            assert client.connected
        finally:
            client.close()
        assert served.stop(signal.SIGTERM) == 0
    assert served.lines[-1].strip() == "RelaySimulator stopped."


_SIGTERM_WHILE_STARTING = """
import os, signal, sys
from relaysync import cli
from relaysync.testing import RelaySimulator

class StoppedWhileStarting(RelaySimulator):
    def start(self):
        os.kill(os.getpid(), signal.SIGTERM)  # a supervisor stops it mid-start
        return super().start()

cli.load_simulator = lambda command: StoppedWhileStarting
sys.exit(cli.main(["simulate"]))
"""


@pytest.mark.timeout(60)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
def test_simulate_stops_cleanly_on_sigterm_before_it_listens() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _SIGTERM_WHILE_STARTING],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "RelaySimulator stopped."
    assert "Traceback" not in proc.stderr
