"""The Sphinx docs build with warnings as errors (API reference from the docstrings)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


@pytest.mark.timeout(150)
def test_sphinx_builds_without_warnings(tmp_path: Path) -> None:
    pytest.importorskip("sphinx", reason="sphinx is part of the test extra")
    out = tmp_path / "html"
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
        str(tmp_path / "doctrees"),
        str(DOCS),
        str(out),
    ]
    proc = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=140, check=False
    )
    # Each warning names the file (the docstring's module page) and line it comes from.
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, (
        f"{len(warnings)} Sphinx warning(s):\n"
        + "\n".join(warnings or proc.stderr.splitlines()[-40:])
        + "\nreproduce with: python -m sphinx -W -b html docs /tmp/html"
    )
    for page in ("index", "concurrency", "diagrams", "cli", "recipes/jupyter", "api/index"):
        assert (out / f"{page}.html").exists(), page
    call_page = (out / "api" / "relaysync.call.html").read_text(encoding="utf-8")
    assert "timeline" in call_page and "refer" in call_page  # inherited methods shown
    cli = (out / "cli.html").read_text(encoding="utf-8")
    assert re.search(r"usage: relaysync demo .*--diagram", cli)
    assert (out / "_images" / "concurrency.svg").exists()


def test_concurrency_picture_is_valid_svg() -> None:
    root = ET.parse(DOCS / "_static" / "concurrency.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for part in ("I/O thread", "Send lock", "Worker pool", "Waiting callers", "RELAY"):
        assert part in texts
