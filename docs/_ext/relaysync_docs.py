"""Local Sphinx extension of the relaysync docs.

- :func:`write_api_pages` writes one autodoc page per public module.
- ``.. relaysync-help:: [SUBCOMMAND]`` shows the ``relaysync`` command's own ``--help``
  text, so the CLI page always matches the code.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from docutils import nodes
from docutils.parsers.rst import Directive

#: Width the ``--help`` texts are wrapped to (fits the page's code blocks).
HELP_WIDTH = 76
#: ``name, other: text`` at the start of a docstring line (several names, one text).
SHARED_ENTRY = re.compile(r"^(\s+)(\w+(?:, \w+)+): (.*)$")
#: Docstring sections whose entries are names.
NAME_SECTIONS = ("Args:", "Arguments:", "Attributes:", "Parameters:")

#: Section titles of the API index, by package.
GROUPS = {"relaysync": "Client", "relaysync.testing": "Simulator (relaysync.testing)"}


def public_modules(package: str) -> List[str]:
    """Every importable module of ``package`` whose dotted name has no private part."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def _write(path: Path, text: str) -> None:
    """Write ``text`` atomically, and only when it differs from what is there."""
    with contextlib.suppress(OSError):
        if path.read_text(encoding="utf-8") == text:
            return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".rst")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_api_pages(folder: Path, package: str) -> List[str]:
    """Write ``folder/<module>.rst`` for each public module and ``folder/index.rst``.

    Returns:
        The modules documented.
    """
    folder.mkdir(exist_ok=True)
    modules = public_modules(package)
    groups: Dict[str, List[str]] = {}
    for name in modules:
        group = "relaysync.testing" if name.startswith("relaysync.testing") else "relaysync"
        groups.setdefault(group, []).append(name)
        options = "   :inherited-members:\n" if name == "relaysync.call" else ""
        underline = "=" * len(name)
        _write(
            folder / f"{name}.rst",
            f"{name}\n{underline}\n\n.. automodule:: {name}\n{options}",
        )
    index = [
        "API reference",
        "=============",
        "",
        "Generated from the docstrings. The names most programs need are importable from",
        ":mod:`relaysync` itself (``RelayClient``, ``Call``, the actions, results, events",
        "and errors) and from :mod:`relaysync.testing` (``RelaySimulator``).",
        "",
    ]
    for group, names in groups.items():
        title = GROUPS.get(group, group)
        index += [title, "-" * len(title), "", ".. toctree::", "   :maxdepth: 1", ""]
        index += [f"   {name}" for name in names] + [""]
    _write(folder / "index.rst", "\n".join(index))
    for stale in folder.glob("relaysync*.rst"):
        if stale.stem not in modules:
            with contextlib.suppress(OSError):
                stale.unlink()
    return modules


class RelaysyncHelp(Directive):
    """``.. relaysync-help:: demo``: the ``--help`` output of ``relaysync demo``."""

    optional_arguments = 1

    def run(self) -> List[nodes.Node]:
        from relaysync.cli import build_parser

        parser = build_parser()
        args = [*self.arguments, "--help"]
        out = io.StringIO()
        saved = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = str(HELP_WIDTH)  # argparse wraps to the terminal width
        try:
            with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
                parser.parse_args(args)
        finally:
            if saved is None:
                del os.environ["COLUMNS"]
            else:
                os.environ["COLUMNS"] = saved
        text = out.getvalue().rstrip()
        if not text:
            raise self.error(f"relaysync {' '.join(self.arguments)} --help printed nothing")
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def split_shared_entries(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: List[str]
) -> None:
    """Give each name of ``a, b: text`` in Args/Attributes its own entry.

    The docstrings group related names on one line; napoleon reads only one name per
    entry. Runs before napoleon (``autodoc-process-docstring``, lower priority number).
    """
    section = False
    out: List[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.endswith(":") and " " not in stripped:
            section = stripped in NAME_SECTIONS
        match = SHARED_ENTRY.match(line) if section else None
        if match is None:
            out.append(line)
            continue
        indent, names, text = match.groups()
        out.extend(f"{indent}{each}: {text}" for each in names.split(", "))
    lines[:] = out


def setup(app: Any) -> Dict[str, Any]:
    """Register the directive and the docstring hook."""
    app.add_directive("relaysync-help", RelaysyncHelp)
    app.connect("autodoc-process-docstring", split_shared_entries, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
