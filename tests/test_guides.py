"""Every ``.. code-block:: python`` of ``docs/guides/*.rst`` runs, against the simulator.

Each block is a complete program (its own imports, its own ``RelaySimulator``); it runs
in a fresh interpreter with a timeout, and a failure names the page and the line. A
block whose directive has ``:class: norun`` is skipped, with that reason (the block's
first line, when it is a comment). A block with ``:class: pytest`` is a test module: it
runs under pytest (with the ``relaysync`` plugin's fixtures), and must pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path
from typing import List, NamedTuple, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ROOT / "docs" / "guides"
#: Seconds one block may take (they finish in a few; the margin is for a loaded machine).
BLOCK_TIMEOUT = 90
DIRECTIVE = re.compile(r"^(\s*)\.\. code-block:: python\s*$")
OPTION = re.compile(r"^\s+:([\w-]+):\s*(.*)$")


class Block(NamedTuple):
    """One Python block: where it is, its code, and its classes (norun, pytest)."""

    page: str
    line: int
    code: str
    classes: Tuple[str, ...]

    @property
    def norun(self) -> bool:
        """Marked ``:class: norun``: not run."""
        return "norun" in self.classes


def python_blocks(path: Path) -> List[Block]:
    """The Python code blocks of one reST page, with the line of each directive."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: List[Block] = []
    i = 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i])
        if not match:
            i += 1
            continue
        start, indent = i + 1, len(match.group(1))
        i += 1
        classes = ""
        while i < len(lines) and OPTION.match(lines[i]):
            name, value = OPTION.match(lines[i]).groups()  # type: ignore[union-attr]
            if name == "class":
                classes = value
            i += 1
        body: List[str] = []
        while i < len(lines) and (
            not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
        ):
            body.append(lines[i])
            i += 1
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        page = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name
        blocks.append(Block(page, start, code, tuple(classes.split())))
    return blocks


def all_blocks() -> List[Block]:
    return [b for page in sorted(GUIDES.glob("*.rst")) for b in python_blocks(page)]


BLOCKS = all_blocks()


def plugin_installed() -> bool:
    """True when relaysync's pytest plugin loads by its entry point (an installed copy)."""
    if sys.version_info >= (3, 10):
        found = entry_points(group="pytest11")
    else:  # pragma: no cover - Python 3.9's entry_points() is a dict of groups
        found = entry_points().get("pytest11", [])  # type: ignore[attr-defined]
    return any(e.name == "relaysync" for e in found)


def test_the_collector_reads_options_and_bodies(tmp_path: Path) -> None:
    page = tmp_path / "page.rst"
    page.write_text(
        "Title\n=====\n\n.. code-block:: python\n   :class: norun\n\n   x = 1\n\n"
        "   y = 2\n\ntext\n\n- item\n\n  .. code-block:: python\n\n     print(1)\n\nend\n",
        encoding="utf-8",
    )
    first, second = python_blocks(page)
    assert (
        first.norun
        and first.classes == ("norun",)
        and first.code == "x = 1\n\ny = 2\n"
        and first.line == 4
    )
    assert not second.norun and second.code == "print(1)\n" and second.line == 15


@pytest.mark.timeout(BLOCK_TIMEOUT + 30)
@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.page}:{b.line}" for b in BLOCKS])
def test_guide_block_runs(block: Block, tmp_path: Path) -> None:
    where = f"{block.page}:{block.line}"
    if block.norun:
        first = block.code.splitlines()[0].strip()
        why = first.lstrip("# ") if first.startswith("#") else "it needs a live RELAY"
        pytest.skip(f"{where} is marked :class: norun ({why})")
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    for name in ("SIGNALWIRE_PROJECT_ID", "SIGNALWIRE_API_TOKEN", "SIGNALWIRE_JWT_TOKEN"):
        env.pop(name, None)
    script = tmp_path / "test_block.py"
    script.write_text(block.code, encoding="utf-8")
    command = [sys.executable, str(script)]
    if "pytest" in block.classes:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(script)]
        if not plugin_installed():
            command[-1:-1] = ["-p", "relaysync.testing.plugin"]  # not installed: by name
    try:
        proc = subprocess.run(
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        pytest.fail(f"{where}: the block did not finish within {BLOCK_TIMEOUT} s\n{err}")
    assert proc.returncode == 0, (
        f"{where}: the block failed (exit status {proc.returncode})\n"
        f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
