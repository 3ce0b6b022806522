"""Packaging: sdist and wheel build, pass ``twine check``, and the wheel runs the demo.

The build runs without isolation and the fresh venv installs the wheel with
``--no-index``, so nothing is downloaded: the wheel's dependencies (and the ``sim``
extra's) are lent to the fresh venv from this interpreter's site-packages by a path
file, after the venv's own site-packages, so ``relaysync`` itself comes from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import venv
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest

import relaysync

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(180)

NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")


def run(command: List[str], *, cwd: Path, timeout: float, env: Dict[str, str]) -> str:
    """Run a command; fail the test with its output when it exits non-zero."""
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert proc.returncode == 0, (
        f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    )
    return proc.stdout


def clean_env() -> Dict[str, str]:
    """The environment without anything that would redirect Python or pip."""
    drop = ("PYTHONPATH", "PYTHONHOME", "PIP_", "VIRTUAL_ENV", "SIGNALWIRE_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python -m build --sdist --wheel`` of this checkout, into a temporary folder."""
    for module in ("build", "twine", "wheel"):
        pytest.importorskip(module, reason=f"{module} is part of the test extra")
    out = tmp_path_factory.mktemp("dist")
    # Built from a copy, so concurrent runs never share build/ or *.egg-info.
    source = tmp_path_factory.mktemp("source") / "relaysync"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--sdist",
            "--wheel",
            "--outdir",
            str(out),
        ],
        cwd=source,
        timeout=120,
        env=clean_env(),
    )
    return out


def test_sdist_and_wheel_pass_twine_check(dist: Path) -> None:
    wheels = sorted(dist.glob("relaysync-*.whl"))
    sdists = sorted(dist.glob("relaysync-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    output = run(
        [sys.executable, "-m", "twine", "check", "--strict", str(wheels[0]), str(sdists[0])],
        cwd=dist,
        timeout=60,
        env=clean_env(),
    )
    assert output.count("PASSED") == 2, output
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "relaysync/py.typed" in names and "relaysync/testing/simulator.py" in names
    assert not [n for n in names if n.startswith(("tests/", "notes/", "docs/"))], names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert (
        "relaysync = relaysync.cli:main" in zipfile.ZipFile(wheels[0]).read(entry_points).decode()
    )
    with tarfile.open(sdists[0]) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"setup.cfg", "README.rst", "relaysync/__init__.py"} <= members


def test_wheel_installs_in_a_fresh_venv_and_runs_the_demo(dist: Path, tmp_path: Path) -> None:
    wheel = next(dist.glob("relaysync-*.whl"))
    target = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    bindir = target / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    fresh_site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        cwd=tmp_path,
        timeout=30,
        env=clean_env(),
    ).strip()
    # Lend the dependencies (a plain path line: no .pth file of ours runs there).
    Path(fresh_site, "lent-dependencies.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-deps", "-q", str(wheel)],
        cwd=tmp_path,
        timeout=90,
        env=clean_env(),
    )
    where = run(
        [str(python), "-c", "import relaysync; print(relaysync.__file__, relaysync.__version__)"],
        cwd=tmp_path,
        timeout=30,
        env=clean_env(),
    )
    path, version = where.split()
    assert Path(path).resolve().is_relative_to(Path(fresh_site).resolve()), where
    assert version == relaysync.__version__
    demo = run(
        [str(bindir / "relaysync"), "demo", "--diagram", str(tmp_path / "flow.svg")],
        cwd=tmp_path,
        timeout=60,
        env=clean_env(),
    )
    assert "OK: the call was transferred to sip:support@example.com." in demo
    assert "<svg" in (tmp_path / "flow.svg").read_text(encoding="utf-8")
