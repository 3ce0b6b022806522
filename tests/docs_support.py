"""Build the Sphinx docs once per test run, shared by every test (and xdist worker).

The first caller builds into the run's temp directory (shared by xdist workers), under
an exclusive ``flock``; the others wait on the lock and reuse the result.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import List, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


class DocsBuild(NamedTuple):
    """Where the HTML went, and what ``sphinx-build -W`` said."""

    html: Path
    returncode: int
    warnings: List[str]
    stderr: str


def build_docs(shared: Path) -> DocsBuild:
    """Build the docs into ``shared/html`` once; later calls read the saved outcome."""
    shared.mkdir(parents=True, exist_ok=True)
    out = shared / "html"
    status = shared / "status"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not status.exists():
            command = [
                sys.executable,
                "-m",
                "sphinx",
                "-W",
                "--keep-going",
                "-q",
                "-b",
                "html",
                "-d",
                str(shared / "doctrees"),
                str(DOCS),
                str(out),
            ]
            proc = subprocess.run(
                command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
            )
            (shared / "stderr").write_text(proc.stderr, encoding="utf-8")
            status.write_text(str(proc.returncode), encoding="utf-8")
    stderr = (shared / "stderr").read_text(encoding="utf-8")
    warnings = [line for line in stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    return DocsBuild(out, int(status.read_text(encoding="utf-8")), warnings, stderr)


def docs_build(factory: pytest.TempPathFactory) -> DocsBuild:
    """The run's docs build (every xdist worker shares the parent of its temp dir)."""
    pytest.importorskip("sphinx", reason="sphinx is part of the test extra")
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's directory, shared by its workers
    return build_docs(base / "relaysync-docs")
