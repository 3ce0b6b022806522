"""Project hygiene: README's two commands, CI, packaging metadata."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(10)


def readme_commands() -> list[str]:
    text = (ROOT / "README.rst").read_text(encoding="utf-8")
    blocks = re.findall(r"\.\. code-block:: shell\n\n((?:   .*\n)+)", text)
    return [block.strip() for block in blocks]


def test_readme_has_exactly_two_commands_and_ci_runs_the_second_verbatim() -> None:
    commands = readme_commands()
    assert len(commands) == 2, commands
    demo, tests = commands
    assert "relaysync demo" in demo and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()


def test_runtime_dependencies_are_exactly_three() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    requires = [
        line.split(">")[0].split("=")[0].strip()
        for line in config["options"]["install_requires"].splitlines()
        if line.strip()
    ]
    assert sorted(requires) == ["attrs", "tenacity", "websocket-client"]
    assert (ROOT / "relaysync" / "py.typed").exists()


def test_ci_installs_chromium_before_the_suite_so_the_browser_checks_run() -> None:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    suite = lines.index(readme_commands()[1])
    install = next(i for i, line in enumerate(lines) if "apt-get install" in line)
    require = lines.index("export RELAYSYNC_REQUIRE_BROWSER=1")
    assert install < require < suite
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert "-rs" in config["tool:pytest"]["addopts"].split()  # skips print their reason
