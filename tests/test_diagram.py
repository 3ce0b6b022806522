"""Call-flow diagrams: call.timeline(), the SVG/HTML ladder, ``demo --diagram``, a browser."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Dict, List

import pytest

from relaysync import Call, RelayClient
from relaysync.diagram import CallFlow, check_diagram_path
from relaysync.results import ReferResult
from relaysync.testing import RelaySimulator
from relaysync.wire.flowlog import FlowRecorder

from .browser_support import require_browser

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"
TOKEN = "diagram-secret-token-81c2"


def rows(svg: str) -> List[ET.Element]:
    """The arrow groups of a ladder diagram, parsed with xml.etree."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [g for g in root.iter(f"{SVG}g") if "row" in g.get("class", "").split()]


def row_texts(row: ET.Element) -> List[str]:
    return ["".join(t.itertext()) for t in row.iter(f"{SVG}text")]


@pytest.fixture
def secret_sim() -> Any:
    with RelaySimulator(project="p", token=TOKEN, time_scale=0.01) as sim:
        yield sim


def refer_flow(sim: RelaySimulator) -> Call:
    """An inbound call answered, greeted and REFERred; returns it once it has ended."""
    done: queue.Queue[Any] = queue.Queue()

    def handle(call: Call) -> None:
        try:
            call.answer()
            call.play_tts("hello").wait(timeout=10)
            result: ReferResult = call.refer("sip:support@example.com", timeout=10)
            assert result.successful
            call.wait_for_ended(timeout=10)
            done.put(call)
        except BaseException as exc:
            done.put(exc)

    client = RelayClient(sim.project, sim.token, url=sim.url, contexts=["office"])
    client.on_call(handle)
    try:
        client.connect()
        sim.inbound_call("office", from_="+15550001111", to="+15550002222")
        outcome = done.get(timeout=20)
    finally:
        client.close()
    if isinstance(outcome, BaseException):
        raise outcome
    assert isinstance(outcome, Call)
    return outcome


def test_call_timeline_lists_requests_replies_and_events_in_order(
    secret_sim: RelaySimulator,
) -> None:
    call = refer_flow(secret_sim)
    flow = call.timeline()
    names = [(line.direction, line.name) for line in flow.entries]
    assert names[0] == ("<--", "calling.call.receive")
    assert ("-->", "calling.answer") in names
    assert ("<--", "calling.answer") in names  # its reply
    assert names.index(("-->", "calling.play")) < names.index(("-->", "calling.refer"))
    assert names[-1] == ("<--", "calling.call.state")
    assert "end_reason=hangup" in flow.entries[-1].details
    offsets = [line.offset_ms for line in flow.entries]
    assert offsets == sorted(offsets) and offsets[0] == 0
    # Connection-level frames are not part of a call's flow, and nothing leaks a secret.
    assert "signalwire.connect" not in [name for _, name in names]
    assert TOKEN not in flow.to_html() and TOKEN not in flow.to_text(verbose=True)


def test_svg_parses_with_one_row_per_entry_and_reply_timings(
    secret_sim: RelaySimulator,
) -> None:
    flow = refer_flow(secret_sim).timeline()
    svg = flow.to_svg()
    found = rows(svg)
    assert len(found) == len(flow) > 10
    kinds = [g.get("class", "").split()[1] for g in found]
    assert set(kinds) == {"request", "reply", "event"}
    first_reply = found[kinds.index("reply")]
    label = row_texts(first_reply)[1]
    assert label.startswith("calling.answer") and label.endswith(" ms)"), label
    # Each arrow carries its masked frame as a tooltip.
    assert all(g.find(f"{SVG}title") is not None for g in found)
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_outbound_call_timeline_includes_its_dial(relay_simulator: RelaySimulator) -> None:
    sim = relay_simulator
    with RelayClient(sim.project, sim.token, url=sim.url) as client:
        call = client.dial_phone("+15551112222", "+15550003333")
        call.hangup()
        call.wait_for_ended(timeout=10)
        flow = call.timeline()
        assert client.timeline(call.call_id).entries == flow.entries
    names = [(line.direction, line.name) for line in flow]
    assert names[:2] == [("-->", "calling.dial"), ("<--", "calling.dial")]
    assert ("<--", "calling.call.dial") in names and ("-->", "calling.end") in names


def test_html_page_repr_html_and_save(secret_sim: RelaySimulator, tmp_path: Path) -> None:
    flow = refer_flow(secret_sim).timeline()
    page = flow.to_html()
    assert page.startswith("<!DOCTYPE html>") and flow.to_svg() in page
    assert "calling.call.refer" in page
    inline = flow._repr_html_()
    assert inline.startswith("<div") and "<svg" in inline and "<!DOCTYPE" not in inline
    for suffix in (".html", ".svg", ".txt"):
        written = flow.save(tmp_path / f"flow{suffix}")
        assert written.read_text(encoding="utf-8").strip()
    assert rows((tmp_path / "flow.svg").read_text(encoding="utf-8"))
    assert "calling.refer" in (tmp_path / "flow.txt").read_text(encoding="utf-8")


def test_bad_diagram_paths_are_refused_naming_the_argument(tmp_path: Path) -> None:
    flow = CallFlow([], "empty")
    with pytest.raises(ValueError, match=r"path must end in \.html, \.svg or \.txt"):
        flow.save(tmp_path / "flow.png")
    with pytest.raises(TypeError, match="diagram must be a str"):
        check_diagram_path(3, "diagram")  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())
    # An empty flow still draws a valid diagram that says so.
    assert rows(flow.to_svg()) == [] and "no frames recorded" in flow.to_svg()


def test_recorder_memory_is_bounded() -> None:
    recorder = FlowRecorder(max_calls=3, max_entries=5)

    def event(call_id: str, n: int) -> Dict[str, Any]:
        inner = {"call_id": call_id, "call_state": f"s{n}"}
        params = {"event_type": "calling.call.state", "params": inner}
        return {
            "jsonrpc": "2.0",
            "id": f"{call_id}-{n}",
            "method": "signalwire.event",
            "params": params,
        }

    for index in range(10):
        for n in range(8):
            recorder.received(event(f"call-{index}", n))
        recorder.sent({"id": f"req-{index}", "method": "calling.end", "params": {"call_id": "x"}})
    sizes = recorder.sizes()
    assert sizes["calls"] == 3 and sizes["entries"] <= 15
    assert [e.frame["id"] for e in recorder.entries("call-9")] == [
        f"call-9-{n}" for n in range(3, 8)
    ]
    assert recorder.entries("call-0") == []
    # Requests never answered are forgotten too, beyond a fixed number.
    for index in range(5000):
        recorder.sent({"id": f"r{index}", "method": "calling.end", "params": {"call_id": "x"}})
    assert recorder.sizes()["open_requests"] <= 4096


@pytest.mark.timeout(60)
def test_demo_writes_the_diagram(tmp_path: Path) -> None:
    target = tmp_path / "flow.html"
    proc = subprocess.run(
        [sys.executable, "-m", "relaysync", "demo", "--diagram", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Call-flow diagram written to {target}" in proc.stdout
    page = target.read_text(encoding="utf-8")
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    names = [row_texts(g)[1].split("  (")[0] for g in rows(svg)]
    assert names[:2] == ["signalwire.connect", "signalwire.connect"]
    assert "calling.refer" in names and "calling.call.refer" in names


def test_demo_refuses_an_unknown_diagram_format_before_running() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "relaysync", "demo", "--diagram", "flow.png"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "--diagram must end in .html, .svg or .txt" in proc.stderr
    assert "Timeline" not in proc.stdout


@pytest.mark.timeout(90)
def test_diagram_renders_in_a_headless_browser(secret_sim: RelaySimulator, tmp_path: Path) -> None:
    browser = require_browser()  # skips without Chromium (fails in CI, which installs it)
    pil = pytest.importorskip("PIL.Image", reason="Pillow (the test extra) reads the screenshot")
    flow = refer_flow(secret_sim).timeline()
    page = flow.save(tmp_path / "flow.html")
    shot = tmp_path / "flow.png"
    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1000,900",
        f"--screenshot={shot}",
        page.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root
    proc = subprocess.run(command, capture_output=True, text=True, timeout=80, check=False)
    assert shot.exists(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    image = pil.open(shot).convert("RGB")
    colors = image.getcolors(maxcolors=1 << 20) or []
    assert len(colors) > 20, "the screenshot is blank"
    data = image.tobytes()
    pixels = [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), 3)]
    width, height = image.size
    inked = sum(1 for p in pixels if p != (255, 255, 255))
    assert inked > width * height // 100, f"only {inked} coloured pixels"

    def near(rgb: tuple[int, int, int]) -> int:
        return sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, rgb)) < 60)

    # Blue request arrows and green event arrows were actually painted.
    assert near((0x1F, 0x5F, 0xBF)) > 200 and near((0x2E, 0x7D, 0x32)) > 200
