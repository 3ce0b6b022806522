"""The scripts in examples/ run to completion against the embedded simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "answer_and_refer.py")


def offline_env(**extra: str) -> Dict[str, str]:
    """The environment without SignalWire credentials or example settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SIGNALWIRE_") and k not in ("RELAY_CONTEXT", "REFER_TARGET")
    }
    env.update(extra)
    return env


@pytest.mark.timeout(60)
def test_answer_and_refer_runs_on_the_simulator() -> None:
    proc = subprocess.run(
        [sys.executable, EXAMPLE],
        cwd=ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "connected to the RelaySimulator at ws://127.0.0.1:" in proc.stdout
    assert "from +15550001111 to +15550002222" in proc.stdout
    assert "transferred to sip:support@example.com (REFER 202, NOTIFY 200)" in proc.stdout


@pytest.mark.timeout(60)
def test_answer_and_refer_wants_all_or_none_of_the_credentials() -> None:
    env = offline_env(SIGNALWIRE_SPACE="example.signalwire.com")
    proc = subprocess.run(
        [sys.executable, EXAMPLE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 2
    assert "missing: SIGNALWIRE_API_TOKEN, SIGNALWIRE_PROJECT_ID" in proc.stderr


@pytest.mark.timeout(90)
def test_ivr_runs_on_the_simulator_with_scripted_callers() -> None:
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "ivr.py")],
        cwd=ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "from +15550000001: referred sip:sales@example.com success" in proc.stdout
    assert "from +15550000002: referred sip:support@example.com success" in proc.stdout
    assert "from +15550000003: voicemail https://" in proc.stdout
    assert "reminder to +15559990000: voicemail after the beep" in proc.stdout


@pytest.mark.timeout(90)
def test_conference_runs_on_the_simulator() -> None:
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "conference.py")],
        cwd=ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("joined standup") == 2
    assert "caller +15550000001: hold then unhold" in proc.stdout
    assert "both callers left" in proc.stdout


SEND_SMS = os.path.join(ROOT, "examples", "send_sms.py")


def run_send_sms(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run examples/send_sms.py with ``args`` in the offline environment plus ``env``."""
    return subprocess.run(
        [sys.executable, SEND_SMS, *args],
        cwd=ROOT,
        env=offline_env(**env),
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )


@pytest.mark.timeout(60)
def test_send_sms_runs_on_the_simulator() -> None:
    proc = run_send_sms("+15550009999", "+15550001111", "x" * 161)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "connected to the RelaySimulator at ws://127.0.0.1:" in proc.stdout
    assert "accepted (queued)" in proc.stdout
    assert "to +15550009999: delivered (2 segment(s))" in proc.stdout


@pytest.mark.timeout(60)
def test_send_sms_rejects_a_bad_number_before_sending() -> None:
    proc = run_send_sms("555-0100")
    assert proc.returncode == 2
    assert "invalid message: to must be an E.164 number" in proc.stderr
    assert "accepted" not in proc.stdout


@pytest.mark.timeout(60)
def test_send_sms_wants_all_or_none_of_the_credentials() -> None:
    proc = run_send_sms(SIGNALWIRE_PROJECT_ID="p")
    assert proc.returncode == 2
    assert "missing: SIGNALWIRE_API_TOKEN, SIGNALWIRE_SPACE" in proc.stderr
