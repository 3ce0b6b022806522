"""The gunicorn recipe: a real gunicorn with 2 workers, each its own consumer."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path
from typing import IO, Callable, Iterator, List

import pytest

from relaysync.testing import RelaySimulator

from .process_support import die_with_parent

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "gunicorn.conf.py"
CALLS = 6
REFERRED = re.compile(r"worker (\d+): call (\S+) referred to sip:desk@example.com: success")

pytest.importorskip("gunicorn")
pytest.importorskip("flask")


@pytest.fixture
def slow_sim() -> Iterator[RelaySimulator]:
    """Media at 1/20 of real time; inbound calls ring long enough for a busy machine."""
    with RelaySimulator(time_scale=0.05) as sim:
        yield sim


@pytest.mark.timeout(120)
def test_two_workers_each_consume_the_context_and_share_the_calls(
    slow_sim: RelaySimulator,
) -> None:
    sim = slow_sim
    workdir = tempfile.mkdtemp(prefix="relaysync-gunicorn-")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SIGNALWIRE_")},
        "SIGNALWIRE_PROJECT_ID": sim.project,
        "SIGNALWIRE_API_TOKEN": sim.token,
        "RELAY_URL": sim.url,
        "RELAY_CONTEXT": "office",
        "REFER_TARGET": "sip:desk@example.com",
        "BIND": f"unix:{workdir}/web.sock",
        "WEB_CONCURRENCY": "2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONFIG)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),
    )
    assert proc.stdout is not None
    output = Output(proc.stdout)
    try:
        sessions = sim.wait_for_sessions(2, timeout=60)
        assert all(s.contexts == frozenset({"office"}) for s in sessions)
        for n in range(CALLS):
            sim.inbound_call(
                "office", from_=f"+1555000{n:04d}", to="+15552220000", ring_timeout=600
            )
        output.wait_for(lambda text: len(REFERRED.findall(text)) >= CALLS, timeout=60)
        answers = Counter(
            e.session_id
            for e in sim.journal.entries
            if isinstance(e.frame, dict) and e.frame.get("method") == "calling.answer"
        )
        # Round-robin: each worker's client answered half of the calls.
        assert sorted(answers.values()) == [CALLS // 2, CALLS // 2], answers
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            status = proc.wait(timeout=10)
        output.pump.join(timeout=10)
        proc.stdout.close()
        shutil.rmtree(workdir, ignore_errors=True)
    text = output.text()
    assert len({pid for pid, _ in REFERRED.findall(text)}) == 2, text  # both workers
    assert status == 0, text
    assert "Traceback" not in text and "ForkedClientError" not in text
    # worker_exit closed each client: no session is left online.
    sim.wait_until(lambda: not any(s.online for s in sim.sessions), timeout=20)


class Output:
    """What gunicorn and its workers print, read on a thread; waitable."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: List[str] = []
        self._cond = threading.Condition()
        self.pump = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.pump.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()

    def text(self) -> str:
        with self._cond:
            return "".join(self._lines)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate("".join(self._lines)), timeout):
                raise AssertionError("gunicorn output never matched:\n" + "".join(self._lines))
