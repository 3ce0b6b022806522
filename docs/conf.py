"""Sphinx configuration of the relaysync documentation.

The reference (``docs/reference``) is organised by what users import. Its pages use the
directives of ``_ext/relaysync_docs.py``, which walk ``relaysync.__all__``,
``relaysync.testing.__all__`` and the event table, so a name added to the package is
documented, and its docstring checked, without editing these files.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

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
autodoc_default_options: dict[str, object] = {}
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
html_css_files = ["relaysync.css"]
html_title = f"relaysync {release}"
html_theme_options = {
    "description": "Synchronous SignalWire RELAY client with a local RELAY simulator",
    "fixed_sidebar": True,
    # Wide enough at 1280 px for the --help texts and 100-column code blocks.
    "page_width": "1180px",
    "sidebar_width": "230px",
}
