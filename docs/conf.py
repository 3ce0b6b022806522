"""Sphinx configuration of the relaysync documentation.

The API reference is generated at build time: one page per public module of the
package (modules whose name starts with ``_`` are private), so a new module is
documented, and its docstrings checked, without editing these files.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

from relaysync_docs import write_api_pages  # noqa: E402

import relaysync  # noqa: E402

project = "relaysync"
author = "relaysync contributors"
copyright = "relaysync contributors"
release = relaysync.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "relaysync_docs",
]
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "ignore-module-all": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autoclass_content = "both"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
napoleon_use_rtype = False

# Type hints name classes by their short names; where two modules define one (the
# client's Session and the simulator's), Sphinx picks one and would warn.
suppress_warnings = ["ref.python"]
exclude_patterns = ["_build"]
templates_path: list[str] = []
html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"relaysync {release}"
html_theme_options = {
    "description": "Synchronous SignalWire RELAY client with a local RELAY simulator",
    "fixed_sidebar": True,
}
# A file is rewritten only when its content changes, so concurrent builds can share it.
write_api_pages(HERE / "api", "relaysync")
