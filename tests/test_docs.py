"""The Sphinx docs: they build with warnings as errors, and the reference names every
public name (walking ``relaysync.__all__``, ``relaysync.testing.__all__`` and the event
table), organised by what users import."""

from __future__ import annotations

import html
import inspect
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Dict, Iterator, Set

import pytest

import relaysync
import relaysync.testing
from relaysync.events import EVENT_CLASSES

from .docs_support import DOCS, DocsBuild, docs_build


@pytest.fixture(scope="session")
def docs(tmp_path_factory: pytest.TempPathFactory) -> DocsBuild:
    return docs_build(tmp_path_factory)


def anchors(folder: Path) -> Set[str]:
    """Every ``id`` of every page under ``folder``."""
    found: Set[str] = set()
    for page in folder.rglob("*.html"):
        found.update(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
    return found


def public_methods(cls: type) -> Iterator[str]:
    for name in dir(cls):
        if name.startswith("_") or name.endswith("_locked"):
            continue
        if name in ("apply_event", "detach"):  # machinery the reader thread calls
            continue
        yield name


@pytest.mark.timeout(250)
def test_sphinx_builds_without_warnings(docs: DocsBuild) -> None:
    # Each warning names the file (the page, or the docstring's module) and line.
    assert docs.returncode == 0, (
        f"{len(docs.warnings)} Sphinx warning(s):\n"
        + "\n".join(docs.warnings or docs.stderr.splitlines()[-40:])
        + "\nreproduce with: python -m sphinx -W -b html docs /tmp/html"
    )
    out = docs.html
    for page in ("index", "concurrency", "diagrams", "recipes/jupyter", "reference/index"):
        assert (out / f"{page}.html").exists(), page
    cli = (out / "reference" / "cli.html").read_text(encoding="utf-8")
    assert re.search(r"usage: relaysync demo .*--diagram", cli)
    assert (out / "_images" / "concurrency.svg").exists()
    # Every guide page is in the navigation, whichever branch wrote it.
    index = (out / "index.html").read_text(encoding="utf-8")
    for guide in sorted((DOCS / "guides").glob("*.rst")):
        assert f'href="guides/{guide.stem}.html"' in index, guide.name


@pytest.mark.timeout(250)
def test_reference_names_every_public_name(docs: DocsBuild) -> None:
    assert docs.returncode == 0, "\n".join(docs.warnings)
    ids = anchors(docs.html / "reference")
    wanted: Dict[str, Set[str]] = {}
    for name in relaysync.__all__:
        wanted[f"relaysync.{name}"] = {f"relaysync.{name}"}
    for name in relaysync.testing.__all__:
        wanted[f"relaysync.testing.{name}"] = {f"relaysync.testing.{name}"}
    for event_type, cls in EVENT_CLASSES.items():
        wanted[event_type] = {f"relaysync.{cls.__name__}", f"relaysync.events.{cls.__name__}"}
    missing = sorted(name for name, spellings in wanted.items() if not spellings & ids)
    assert not missing, f"public names missing from the built reference: {missing}"


@pytest.mark.timeout(250)
def test_class_pages_show_every_method_including_mixins(docs: DocsBuild) -> None:
    from relaysync.testing.remote import RemoteSimulator

    ids = anchors(docs.html / "reference")
    for dotted, cls in (
        ("relaysync.RelayClient", relaysync.RelayClient),
        ("relaysync.Call", relaysync.Call),
        ("relaysync.testing.RelaySimulator", relaysync.testing.RelaySimulator),
        ("relaysync.testing.remote.RemoteSimulator", RemoteSimulator),
    ):
        missing = [m for m in public_methods(cls) if f"{dotted}.{m}" not in ids]
        assert not missing, f"{dotted}: {missing}"
    client = (docs.html / "reference" / "client.html").read_text(encoding="utf-8")
    # Dialing and messaging are on the client's page, not on mixin pages.
    for name in ("dial", "dial_phone", "dial_sip", "send_message", "on_message"):
        assert f'id="relaysync.RelayClient.{name}"' in client, name
    assert "Mixin" not in client


@pytest.mark.timeout(250)
def test_reference_leaves_internals_out(docs: DocsBuild) -> None:
    ids = anchors(docs.html / "reference")
    leaked = sorted(
        i
        for i in ids
        if i.startswith("relaysync")
        and (
            ("._" in i and not i.endswith(".__version__"))
            or i.endswith(("_locked", ".cond", ".apply_event", ".detach"))
            or "EventTap" in i
        )
    )
    assert not leaked, leaked
    assert not (docs.html / "api").exists()  # no per-module pages any more
    text = html.unescape((docs.html / "reference" / "actions.html").read_text("utf-8"))
    assert "offer_locked" not in text


@pytest.mark.timeout(250)
def test_event_table_page_lists_every_event_type(docs: DocsBuild) -> None:
    page = html.unescape((docs.html / "reference" / "events.html").read_text("utf-8"))
    for event_type in EVENT_CLASSES:
        assert event_type in page, event_type
    # Each documented class has its docstring (not an empty entry).
    for cls in EVENT_CLASSES.values():
        first = (inspect.getdoc(cls) or "").split("\n")[0][:20]
        assert first and html.unescape(first).split("``")[0] in page, cls.__name__


def test_concurrency_picture_is_valid_svg() -> None:
    root = ET.parse(DOCS / "_static" / "concurrency.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    for part in ("I/O thread", "Send lock", "Worker pool", "Waiting callers", "RELAY"):
        assert part in texts


def literal_words(text: str) -> Set[str]:
    """Every identifier inside a ``literal`` of a reST page."""
    words: Set[str] = set()
    for literal in re.findall(r"``(.+?)``", text, re.S):
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", literal))
    return words


def test_migration_guide_maps_every_public_name_and_option_of_the_sdk() -> None:
    sdk = pytest.importorskip("signalwire.relay", reason="signalwire-sdk needs Python 3.10+")
    page = (DOCS / "guides" / "migrating.rst").read_text(encoding="utf-8")
    named = literal_words(page)
    wildcards = re.findall(r"``([A-Z_]+)_\*``", page)
    missing = []
    for name in dir(sdk):
        value = getattr(sdk, name)
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if name not in named and not any(name.startswith(w + "_") for w in wildcards):
            missing.append(name)
    ours = {"RelayClient": relaysync.RelayClient, "Call": relaysync.Call}
    for cls_name in ("RelayClient", "Call", "Message", "Action", "CollectAction"):
        cls = getattr(sdk, cls_name)
        mine = ours.get(cls_name)
        members = {n for k in cls.__mro__ if k.__module__.startswith("signalwire") for n in vars(k)}
        for member in sorted(m for m in members if not m.startswith("_") or m == "__init__"):
            if member != "__init__" and member not in named and not hasattr(mine, member):
                missing.append(f"{cls_name}.{member}")
            func = getattr(cls, member)
            if not callable(func) or cls_name not in ours:
                continue
            theirs = inspect.signature(func).parameters
            target = getattr(mine, member, None)
            same = set(inspect.signature(target).parameters) if callable(target) else set()
            for option in theirs:
                if option in ("self", "kwargs") or option in same or option in named:
                    continue
                missing.append(f"{cls_name}.{member}({option}=)")
    assert not missing, f"missing from docs/guides/migrating.rst: {missing}"
