"""Headless Chromium for the tests, driven over the DevTools protocol (CDP).

Only websocket-client (a runtime dependency) is needed: Chromium is started with
``--remote-debugging-port=0``, prints the browser's websocket URL on stderr, and each
page is a target attached in "flattened" mode, so one socket carries every command.

Without a Chromium on the PATH the tests that need it are skipped with the reason; with
``RELAYSYNC_REQUIRE_BROWSER=1`` (set by ``.ci/run``) they fail instead, so CI cannot
pass without having looked.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import websocket

from .process_support import die_with_parent

#: Executable names tried in order.
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds to wait for the browser to start, a page to load, a command to answer.
START_TIMEOUT = 60.0
LOAD_TIMEOUT = 30.0
INSTALL_HINT = (
    "no headless browser: install Chromium (Debian/Ubuntu: apt-get install chromium) "
    "to run the browser checks"
)


def find_browser() -> Optional[str]:
    """The path of a Chromium-family browser, or None."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    """The browser's path; skips the test (fails it in CI) when there is none."""
    found = find_browser()
    if found is None:
        if os.environ.get("RELAYSYNC_REQUIRE_BROWSER") == "1":
            pytest.fail(INSTALL_HINT + " (RELAYSYNC_REQUIRE_BROWSER=1 is set)")
        pytest.skip(INSTALL_HINT)
    return found


class CdpError(RuntimeError):
    """The browser answered a command with an error, or did not answer in time."""


class Browser:
    """One headless Chromium with one page (tab), closed by :meth:`close`."""

    def __init__(self, executable: str, profile: Path, width: int = 1280, height: int = 900):
        command = [
            executable,
            "--headless",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent(),
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: List[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        self._next_id = 0
        self._events: List[Dict[str, Any]] = []
        self.socket: Optional[websocket.WebSocket] = None
        self.session = ""
        try:
            self.socket = websocket.create_connection(
                self._devtools_url(), timeout=LOAD_TIMEOUT, suppress_origin=True
            )
            target = self.command("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.command(
                "Target.attachToTarget", {"targetId": target, "flatten": True}
            )["sessionId"]
            self.command("Page.enable", session=True)
            self.resize(width, height)
        except BaseException:
            self.close()
            raise

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace")
            self._stderr.append(line)
            self._lines.put(line)

    def _devtools_url(self) -> str:
        while True:
            try:
                line = self._lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                raise CdpError("Chromium printed no DevTools URL:\n" + self.stderr()) from None
            if line.startswith("DevTools listening on "):
                return line.split(" on ", 1)[1].strip()

    def stderr(self) -> str:
        """What the browser wrote to stderr so far (the last 3,000 characters)."""
        return "".join(self._stderr)[-3000:]

    def command(
        self, method: str, params: Optional[Dict[str, Any]] = None, *, session: bool = False
    ) -> Dict[str, Any]:
        """Send one CDP command (to the page when ``session``) and return its result."""
        assert self.socket is not None
        self._next_id += 1
        message: Dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error']}")
                result: Dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self._events.append(reply)

    def _wait_event(self, name: str) -> None:
        assert self.socket is not None
        if any(e["method"] == name for e in self._events):
            return
        while True:
            event = json.loads(self.socket.recv())
            if event.get("method") == name and event.get("sessionId") == self.session:
                return

    def resize(self, width: int, height: int = 900) -> None:
        """Make the page's window ``width`` x ``height`` CSS pixels (scale 1, desktop)."""
        self.command(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def open(self, url: str) -> None:
        """Load ``url`` in the page and wait for its load event."""
        self._events.clear()
        result = self.command("Page.navigate", {"url": url}, session=True)
        if result.get("errorText"):
            raise CdpError(f"cannot open {url}: {result['errorText']}")
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.command(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise CdpError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        """Close the browser and wait for its process (killed if it lingers)."""
        if self.socket is not None:
            # Already gone: the process wait below settles it.
            with contextlib.suppress(Exception):
                self.command("Browser.close")
            self.socket.close()
            self.socket = None
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self._reader.join(timeout=15)
        if self.process.stderr is not None:
            self.process.stderr.close()
