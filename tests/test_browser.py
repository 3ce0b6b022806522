"""What a person sees: the built docs and a call-flow diagram, rendered in headless Chromium.

Every page of the built docs is opened at 1280 px and at 800 px: the page never scrolls
sideways, every code block and table stays inside the text column, and a block wider
than the column scrolls inside itself. A call flow's diagram shows its two lanes and one
arrow per frame, each arrow running from one lane to the other with its head painted.

Skipped, with the reason, where no Chromium is installed (``apt-get install chromium``);
``.ci/run`` installs it and sets ``RELAYSYNC_REQUIRE_BROWSER=1``, so CI never skips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, List

import pytest

from relaysync.diagram import CLIENT_X, RELAY_X
from relaysync.testing import RelaySimulator

from . import browser_support
from .browser_support import Browser, require_browser
from .docs_support import DocsBuild, docs_build
from .test_diagram import refer_flow

pytestmark = pytest.mark.timeout(300)

#: Layout facts of one page, measured in the browser.
MEASURE = r"""
(() => {
  const view = window.innerWidth;
  const column = document.querySelector("div.body");
  const right = column ? column.getBoundingClientRect().right : view;
  const blocks = Array.from(document.querySelectorAll(
      "div.body div.highlight pre, div.body pre.literal-block, div.body table"));
  const bad = [];
  let wide = 0;
  for (const el of blocks) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    const hidden = el.scrollWidth > el.clientWidth + 1;
    if (hidden) wide += 1;
    const first = (el.innerText || "").split("\n")[0].slice(0, 60);
    if (box.right > right + 1 || box.right > view + 1) {
      const edge = `${Math.round(box.right)} > ${Math.round(right)} px`;
      bad.push(`${el.tagName} past the column (${edge}): ${first}`);
    }
    if (hidden && !["auto", "scroll"].includes(style.overflowX)) {
      bad.push(`${el.tagName} cut off (overflow-x ${style.overflowX}): ${first}`);
    }
  }
  return {
    view: view,
    pageWidth: document.documentElement.scrollWidth,
    title: (document.querySelector("h1") || {innerText: ""}).innerText,
    text: document.body.innerText.length,
    blocks: blocks.length,
    wide: wide,
    bad: bad,
  };
})()
"""

#: The diagram's lanes and arrows, measured in the browser.
DIAGRAM = r"""
(() => {
  const svg = document.querySelector("svg");
  const frame = svg.getBoundingClientRect();
  const actors = Array.from(svg.querySelectorAll("rect.actor")).map(r => {
    const box = r.getBoundingClientRect();
    return {x: box.x + box.width / 2, width: box.width, label: r.nextElementSibling.textContent};
  });
  const lanes = Array.from(svg.querySelectorAll(":scope > line"))
    .filter(l => l.getAttribute("x1") === l.getAttribute("x2"))
    .map(l => { const b = l.getBoundingClientRect(); return {x: b.x, height: b.height}; });
  const rows = Array.from(svg.querySelectorAll("g.row")).map(g => {
    const line = g.querySelector("line").getBoundingClientRect();
    const head = g.querySelector("polygon").getBoundingClientRect();
    const label = g.querySelectorAll("text")[1];
    return {
      kind: g.classList[1], left: line.left, right: line.right, width: line.width,
      head: head.x + head.width / 2, headWidth: head.width,
      stroke: getComputedStyle(g.querySelector("line")).stroke,
      label: label.textContent, labelWidth: label.getBoundingClientRect().width,
    };
  });
  return {
    width: frame.width, left: frame.left, right: frame.right,
    pageWidth: document.documentElement.scrollWidth, view: window.innerWidth,
    actors: actors, lanes: lanes, rows: rows,
  };
})()
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = require_browser()
    opened = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> DocsBuild:
    built = docs_build(tmp_path_factory)
    assert built.returncode == 0, "the docs do not build:\n" + "\n".join(built.warnings)
    return built


def pages(docs: DocsBuild) -> List[Path]:
    """Every page of the built docs (not Sphinx's own assets)."""
    found = [
        page
        for page in sorted(docs.html.rglob("*.html"))
        if not page.relative_to(docs.html).parts[0].startswith("_")
    ]
    assert len(found) > 20, found
    return found


def check_pages(browser: Browser, docs: DocsBuild, width: int) -> List[Any]:
    browser.resize(width)
    problems: List[str] = []
    measured: List[Any] = []
    for page in pages(docs):
        name = page.relative_to(docs.html).as_posix()
        browser.open(page.as_uri())
        facts = browser.evaluate(MEASURE)
        assert facts["view"] == width, facts
        measured.append(facts)
        if facts["pageWidth"] > width:
            problems.append(f"{name}: the page is {facts['pageWidth']} px wide at {width} px")
        problems += [f"{name}: {problem}" for problem in facts["bad"]]
        if name not in ("search.html", "genindex.html") and not facts["title"]:
            problems.append(f"{name}: no heading rendered")
    assert not problems, "\n".join(problems)
    return measured


def test_docs_pages_fit_a_1280_px_window(browser: Browser, docs: DocsBuild) -> None:
    measured = check_pages(browser, docs, 1280)
    assert sum(m["blocks"] for m in measured) > 50  # the code blocks were measured
    assert all(m["text"] > 100 for m in measured)


def test_docs_pages_fit_an_800_px_window(browser: Browser, docs: DocsBuild) -> None:
    measured = check_pages(browser, docs, 800)
    # At this width some blocks are wider than the column: they scroll inside it.
    assert sum(m["wide"] for m in measured) > 0


def test_the_measure_catches_a_block_that_overflows(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    long_line = "x = " + "1 + " * 200
    page.write_text(
        "<!DOCTYPE html><html><body><h1>wide</h1><div class='body' style='width: 600px'>"
        f"<div class='highlight'><pre style='overflow: visible'>{long_line}</pre></div>"
        f"<div class='highlight'><pre style='overflow: hidden'>{long_line}</pre></div>"
        "</div></body></html>",
        encoding="utf-8",
    )
    browser.resize(1280)
    browser.open(page.as_uri())
    facts = browser.evaluate(MEASURE)
    assert facts["pageWidth"] > 1280
    assert any("cut off (overflow-x hidden)" in problem for problem in facts["bad"]), facts


def test_reference_page_shows_dialing_and_messaging_on_the_client(
    browser: Browser, docs: DocsBuild
) -> None:
    browser.open((docs.html / "reference" / "client.html").as_uri())
    shown = browser.evaluate(
        "Array.from(document.querySelectorAll('dt.sig')).filter(d => d.offsetHeight > 0)"
        ".map(d => d.id)"
    )
    for name in ("connect", "dial", "dial_phone", "dial_sip", "send_message", "on_message"):
        assert f"relaysync.RelayClient.{name}" in shown, name


def test_call_flow_diagram_shows_lanes_and_arrows(browser: Browser, tmp_path: Path) -> None:
    with RelaySimulator(project="p", token="t", time_scale=0.01) as sim:
        flow = refer_flow(sim).timeline()
    page = flow.save(tmp_path / "flow.html")
    browser.resize(1280)
    browser.open(page.as_uri())
    seen = browser.evaluate(DIAGRAM)
    assert seen["pageWidth"] <= seen["view"], seen["pageWidth"]
    # Two lanes, labelled, each a box with a lifeline running down the diagram.
    assert [a["label"] for a in seen["actors"]] == ["client", "RELAY"]
    assert all(a["width"] > 50 for a in seen["actors"])
    assert len(seen["lanes"]) == 2 and all(lane["height"] > 200 for lane in seen["lanes"])
    client_x, relay_x = (a["x"] for a in seen["actors"])
    scale = seen["width"] / 940  # the SVG may be drawn narrower than its viewBox
    assert abs((relay_x - client_x) - (RELAY_X - CLIENT_X) * scale) < 2
    # One arrow per frame, from one lane to the other, its head at the receiving lane.
    rows = seen["rows"]
    assert len(rows) == len(flow) > 10
    assert {r["kind"] for r in rows} == {"request", "reply", "event"}
    span = relay_x - client_x
    for row, entry in zip(rows, flow):
        assert row["width"] > 0.9 * span, row
        assert client_x - 2 <= row["left"] and row["right"] <= relay_x + 2, row
        receiving = relay_x if entry.direction == "-->" else client_x
        assert abs(row["head"] - receiving) < 12 and row["headWidth"] > 4, row
        assert row["label"].startswith(entry.name) and row["labelWidth"] > 20, row
    assert len({r["stroke"] for r in rows}) >= 3  # requests, replies, events: own colours


def test_without_chromium_the_checks_skip_with_the_reason_or_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(browser_support, "find_browser", lambda: None)
    monkeypatch.delenv("RELAYSYNC_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        require_browser()
    monkeypatch.setenv("RELAYSYNC_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="RELAYSYNC_REQUIRE_BROWSER=1"):
        require_browser()
