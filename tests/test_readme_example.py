"""The README's first call flow runs as printed, pointed at a simulator by environment.

The block under "A first call flow" is taken from README.rst, unchanged, and run in a
child process whose only settings are ``SIGNALWIRE_PROJECT_ID``, ``SIGNALWIRE_API_TOKEN``
and ``SIGNALWIRE_RELAY_URL`` (the lines ``relaysync simulate`` prints). A call offered on
``office`` is answered, greeted and referred; a SIGTERM then drains and ends the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import List

import pytest

from relaysync.testing import RelaySimulator

from .helpers import Recorder
from .process_support import die_with_parent

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(120)


def first_flow() -> str:
    """The Python block that follows the README's "A first call flow" heading."""
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    section = text[text.index("A first call flow\n") :]
    block = section[section.index(".. code-block:: python\n") :].split("\n")[2:]
    lines: List[str] = []
    for line in block:
        if line and not line.startswith("   "):
            break
        lines.append(line[3:])
    code = "\n".join(lines).strip()
    assert "client.run()" in code and "call.refer(" in code, code
    return code


def test_the_first_flow_runs_unchanged_against_the_simulator() -> None:
    with RelaySimulator(time_scale=0.01) as sim:
        env = {
            **os.environ,
            "SIGNALWIRE_PROJECT_ID": sim.project,
            "SIGNALWIRE_API_TOKEN": sim.token,
            "SIGNALWIRE_RELAY_URL": sim.url,
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("SIGNALWIRE_SPACE", "SIGNALWIRE_JWT_TOKEN"):
            env.pop(name, None)
        child = subprocess.Popen(
            [sys.executable, "-c", first_flow()],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_parent(),
        )
        printed = Recorder()

        def read_stdout() -> None:
            for line in child.stdout or ():
                printed(line.strip())

        threading.Thread(target=read_stdout, daemon=True).start()
        try:
            sim.wait_for_sessions(1, timeout=30)
            call = sim.inbound_call("office", from_="+15550001111", to="+15550002222")
            call.wait_for_state("ended", timeout=30)
            printed.wait_for(lambda lines: "success 200" in lines, timeout=30)
            child.send_signal(signal.SIGTERM)
            _, stderr = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        assert child.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr
        assert sim.journal.requests("calling.refer")[0]["params"]["device"]["params"] == {
            "to": "sip:support@example.com"
        }
