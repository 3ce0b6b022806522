"""Static checks in the test command: ruff lint, ruff format, mypy strict (package and tests).

Each failure message lists the offending files with the rule broken, one per line, as
the tool prints them, followed by the command that reproduces it.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_tool(module: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run ``python -m MODULE ARGS`` from the repository root, capturing its output."""
    try:
        __import__(module)
    except ImportError:
        pytest.fail(
            f"{module} is not installed; it is part of the test extra: "
            'python -m pip install -e ".[test]"'
        )
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def report(proc: subprocess.CompletedProcess[str], findings: List[str], command: str) -> str:
    """A failure message: the findings (file:line: rule message), then how to reproduce."""
    shown = findings or (proc.stdout + proc.stderr).strip().splitlines()
    more = f"\n... and {len(shown) - 60} more" if len(shown) > 60 else ""
    return (
        f"{len(shown)} problem(s):\n"
        + "\n".join(shown[:60])
        + more
        + f"\nreproduce with: {command} (exit status {proc.returncode})"
    )


@pytest.mark.timeout(60)
def test_ruff_lint_is_clean() -> None:
    args = ("check", "--output-format=concise", "--no-cache", ".")
    proc = run_tool("ruff", *args, timeout=50)
    findings = [line for line in proc.stdout.splitlines() if line.count(":") >= 3 and " " in line]
    assert proc.returncode == 0, report(proc, findings, "ruff " + shlex.join(args))


@pytest.mark.timeout(60)
def test_ruff_format_is_clean() -> None:
    args = ("format", "--check", "--no-cache", ".")
    proc = run_tool("ruff", *args, timeout=50)
    # "Would reformat: PATH" (older ruff) or a diff headed " --> PATH:LINE:COL" (newer).
    findings = [
        line.split(":", 1)[1].strip() if line.startswith("Would") else line.split("-->")[1].strip()
        for line in proc.stdout.splitlines()
        if line.startswith("Would reformat:") or line.lstrip().startswith("-->")
    ]
    findings = [f"{where}: not formatted as `ruff format` would" for where in findings]
    assert proc.returncode == 0, report(proc, findings, "ruff " + shlex.join(args))


@pytest.mark.timeout(120)
def test_mypy_strict_covers_package_and_tests() -> None:
    config = (ROOT / "setup.cfg").read_text(encoding="utf-8")
    assert "strict = True" in config and "files = relaysync, tests" in config
    # The files come from setup.cfg, so a new test module is checked without listing it.
    args = ("--config-file", "setup.cfg", "--no-color-output", "--no-error-summary")
    proc = run_tool("mypy", *args, timeout=110)
    findings = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert proc.returncode == 0, report(proc, findings, "mypy " + shlex.join(args))
