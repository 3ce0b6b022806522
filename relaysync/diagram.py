"""Call-flow (ladder) diagrams: a timeline drawn as a self-contained SVG or HTML page.

Two lifelines, the client on the left and RELAY on the right; one arrow per frame, in
order, with the time since the first frame on the left. Requests are blue arrows to
RELAY, replies dashed arrows back (red for an error) labelled with how long the reply
took, events green arrows from RELAY. Hovering an arrow shows its frame (secrets
masked). The SVG has no scripts, external fonts or links, so it can be mailed, attached
to a ticket or shown inline in Jupyter.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Sequence, Tuple, Union

from . import constants as C
from .timeline import LEGEND, SEND, TimelineLine, build_timeline, render_timeline

WIDTH = 940
CLIENT_X = 190
RELAY_X = 860
TOP = 90
ROW = 42
MAX_LABEL = 110
MAX_TOOLTIP = 1500
FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
MONO = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace"

#: File suffixes :meth:`CallFlow.save` writes.
SUFFIXES = (".html", ".htm", ".svg", ".txt")

#: Row kind -> (stroke colour, dashed).
STYLES: Dict[str, Tuple[str, bool]] = {
    "request": ("#1f5fbf", False),
    "reply": ("#6b7280", True),
    "error": ("#c62828", True),
    "event": ("#2e7d32", False),
}


def _kind(line: TimelineLine) -> str:
    """``request``, ``reply``, ``error`` or ``event``."""
    frame = line.frame if isinstance(line.frame, dict) else {}
    if line.direction == SEND:
        return "request"
    if frame.get("method") == C.METHOD_EVENT:
        return "event"
    if "error" in frame or line.details.startswith("error"):
        return "error"
    return "reply" if "method" not in frame else "event"


def _latencies(lines: Sequence[TimelineLine]) -> Dict[int, int]:
    """Row index of each reply -> milliseconds since its request was sent."""
    sent: Dict[str, int] = {}
    found: Dict[int, int] = {}
    for index, line in enumerate(lines):
        frame = line.frame if isinstance(line.frame, dict) else {}
        frame_id = frame.get("id")
        if not isinstance(frame_id, str):
            continue
        if line.direction == SEND and "method" in frame:
            sent[frame_id] = line.offset_ms
        elif "method" not in frame and frame_id in sent:
            found[index] = line.offset_ms - sent.pop(frame_id)
    return found


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _tooltip(frame: Any) -> str:
    text = frame if isinstance(frame, str) else json.dumps(frame, default=str, indent=1)
    return _clip(text, MAX_TOOLTIP)


def _arrow(y: int, kind: str, to_relay: bool) -> str:
    colour, dashed = STYLES[kind]
    x1, x2 = (CLIENT_X, RELAY_X) if to_relay else (RELAY_X, CLIENT_X)
    tip = x2 - 9 if to_relay else x2 + 9
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (
        f'<line x1="{x1}" y1="{y}" x2="{tip}" y2="{y}" stroke="{colour}" '
        f'stroke-width="1.6"{dash}/>'
        f'<polygon points="{x2},{y} {tip},{y - 5} {tip},{y + 5}" fill="{colour}"/>'
    )


def render_svg(lines: Sequence[TimelineLine], title: str = "call flow") -> str:
    """Draw timeline lines as a ladder diagram.

    Args:
        lines: from :func:`~relaysync.timeline.build_timeline` (frames already masked).
        title: the heading drawn above the lifelines.

    Returns:
        A standalone ``<svg>`` document (UTF-8 text, no scripts or external resources).
    """
    latency = _latencies(lines)
    height = TOP + max(len(lines), 1) * ROW + 56
    mid = (CLIENT_X + RELAY_X) // 2
    out: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="{_esc(FONT)}" font-size="13" '
        f'role="img" aria-label="{_esc(title)}">',
        f"<title>{_esc(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{mid}" y="22" text-anchor="middle" font-size="15" font-weight="bold" '
        f'fill="#111827">{_esc(_clip(title, 90))}</text>',
    ]
    for x, name in ((CLIENT_X, "client"), (RELAY_X, "RELAY")):
        out.append(
            f'<rect class="actor" x="{x - 55}" y="34" width="110" height="28" rx="5" '
            f'fill="#f3f4f6" stroke="#374151"/>'
            f'<text x="{x}" y="53" text-anchor="middle" font-weight="bold" '
            f'fill="#111827">{name}</text>'
            f'<line x1="{x}" y1="62" x2="{x}" y2="{height - 40}" stroke="#9ca3af" '
            f'stroke-width="1.2"/>'
        )
    out.append(
        f'<text x="{CLIENT_X - 65}" y="{TOP - 12}" text-anchor="end" font-size="11" '
        f'fill="#6b7280">time</text>'
    )
    if not lines:
        out.append(
            f'<text x="{mid}" y="{TOP + 20}" text-anchor="middle" fill="#6b7280">'
            "no frames recorded</text>"
        )
    for index, line in enumerate(lines):
        y = TOP + index * ROW + 14
        kind = _kind(line)
        colour = STYLES[kind][0]
        label = line.name
        if index in latency:
            label += f"  ({latency[index]:,} ms)"
        out.append(
            f'<g class="row {kind}" data-offset-ms="{line.offset_ms}">'
            f"<title>{_esc(_tooltip(line.frame))}</title>"
            f'<text x="{CLIENT_X - 65}" y="{y + 4}" text-anchor="end" font-family="{_esc(MONO)}" '
            f'font-size="11" fill="#374151">{line.offset_ms:,} ms</text>'
            f"{_arrow(y, kind, line.direction == SEND)}"
            f'<text x="{mid}" y="{y - 5}" text-anchor="middle" font-weight="bold" '
            f'fill="{colour}">{_esc(_clip(label, MAX_LABEL))}</text>'
            f'<text x="{mid}" y="{y + 15}" text-anchor="middle" font-family="{_esc(MONO)}" '
            f'font-size="11" fill="#374151">{_esc(_clip(line.details, MAX_LABEL))}</text>'
            "</g>"
        )
    legend_y = height - 18
    out.append(
        f'<text x="{mid}" y="{legend_y}" text-anchor="middle" font-size="11" fill="#6b7280">'
        "blue: request to RELAY \u00b7 dashed: reply (time taken; red: error) \u00b7 "
        "green: event from RELAY \u00b7 hover an arrow for its frame</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_html(lines: Sequence[TimelineLine], title: str = "call flow") -> str:
    """A self-contained HTML page with the ladder diagram and the text timeline.

    Args:
        lines: from :func:`~relaysync.timeline.build_timeline`.
        title: the page and diagram title.

    Returns:
        The HTML document (no scripts or external resources).
    """
    text = render_timeline(lines) or "(no frames recorded)\n"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(title)}</title>\n"
        "<style>body{margin:24px;font-family:" + FONT + ";color:#111827}"
        "pre{font-size:12px;background:#f9fafb;padding:12px;overflow-x:auto}</style>\n"
        "</head>\n<body>\n"
        f"{render_svg(lines, title)}"
        f"<details><summary>Timeline as text ({_esc(LEGEND)})</summary>\n"
        f"<pre>{_esc(text)}</pre></details>\n"
        "</body>\n</html>\n"
    )


class CallFlow:
    """A call flow: the timeline of frames between a client and RELAY, printable and
    drawable as a ladder diagram.

    Returned by :meth:`relaysync.call.Call.timeline` and
    :meth:`relaysync.client.RelayClient.timeline`; build one from a simulator journal
    with :meth:`from_entries`. In Jupyter, a ``CallFlow`` as a cell's value shows the
    diagram inline.

    Args:
        lines: the timeline lines, oldest first.
        title: the diagram's heading.

    Attributes:
        entries: the :class:`~relaysync.timeline.TimelineLine` tuple (time offset,
            direction, method or event type, details, masked frame).
        title: the heading.
    """

    def __init__(self, lines: Iterable[TimelineLine], title: str = "call flow") -> None:
        self.entries: Tuple[TimelineLine, ...] = tuple(lines)
        self.title = title

    @classmethod
    def from_entries(
        cls, entries: Iterable[Any], *, title: str = "call flow", verbose: bool = False
    ) -> CallFlow:
        """Build a call flow from recorded frames.

        Args:
            entries: objects with ``direction`` (``"in"`` = client to RELAY), ``frame``
                and ``time``, oldest first: a simulator's ``journal.entries`` or a
                client's recorded frames.
            title: the diagram's heading.
            verbose: also show pings, acks and raw frames.

        Returns:
            The call flow (secrets masked).
        """
        return cls(build_timeline(entries, verbose=verbose), title)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TimelineLine]:
        return iter(self.entries)

    def __repr__(self) -> str:
        return f"CallFlow({self.title!r}, {len(self.entries)} entries)"

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self, *, verbose: bool = False) -> str:
        """The timeline as aligned plain text (see :func:`relaysync.timeline.render_timeline`).

        Args:
            verbose: add each frame (secrets masked) under its line.

        Returns:
            The text; empty when nothing was recorded.
        """
        return render_timeline(self.entries, verbose=verbose)

    def to_svg(self) -> str:
        """The ladder diagram as a standalone SVG document.

        Returns:
            The SVG text.
        """
        return render_svg(self.entries, self.title)

    def to_html(self) -> str:
        """A self-contained HTML page with the diagram and the text timeline.

        Returns:
            The HTML text.
        """
        return render_html(self.entries, self.title)

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the diagram inline."""
        return f'<div class="relaysync-callflow">{self.to_svg()}</div>'

    def save(self, path: Union[str, Path]) -> Path:
        """Write the diagram to a file, in the format its suffix names.

        Args:
            path: ``*.html``/``*.htm`` (page), ``*.svg`` (diagram) or ``*.txt`` (text).

        Returns:
            The path written.

        Raises:
            ValueError: the suffix is none of those.
        """
        target = check_diagram_path(path)
        render = {".svg": self.to_svg, ".txt": self.to_text}.get(target.suffix.lower())
        target.write_text((render or self.to_html)(), encoding="utf-8")
        return target


def check_diagram_path(path: Union[str, Path], name: str = "path") -> Path:
    """Check that ``path`` names a format :meth:`CallFlow.save` writes.

    Args:
        path: the file name.
        name: the argument's name, for the message.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        TypeError: ``path`` is not a string or path.
        ValueError: its suffix is not ``.html``, ``.htm``, ``.svg`` or ``.txt``.
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{name} must be a str or pathlib.Path, got {path!r}")
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise ValueError(f"{name} must end in .html, .svg or .txt, got {str(path)!r}")
    return target


__all__ = ["SUFFIXES", "CallFlow", "check_diagram_path", "render_html", "render_svg"]
