"""A real headless Chromium driven over the Chrome DevTools Protocol (no browser download).

`open_page(path)` launches Debian's `chromium` with the network blocked (every host resolves
to nothing, a dead proxy, and CDP `Network.setBlockedURLs` for every non-file scheme), loads
the file from file://, and records every request, console error, exception and log error.
If chromium is missing the caller's test FAILS with a clear message: it is never skipped.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect as ws_connect

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--remote-allow-origins=*", "--window-size=1400,1000"]
BLOCKED = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]
LOCAL = ("file://", "data:", "blob:", "about:")


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("headless Chromium not found: install Debian's `chromium` "
                "(apt-get install -y chromium; .ci/run does this)", pytrace=False)
    raise AssertionError  # unreachable


@dataclass
class PageRun:
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors

    @property
    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(LOCAL)]


class Browser:
    """One Chromium process with one page; `evaluate` runs JavaScript in it."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="tracker-chromium-")
        self.proc = subprocess.Popen([chromium_path(), *FLAGS, f"--user-data-dir={self.profile}",
                                      "about:blank"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        port = self._port()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                            timeout=5) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("chromium started but exposed no page over CDP")
            time.sleep(0.1)
        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(ws_connect(pages[0]["webSocketDebuggerUrl"],
                                                      max_size=None, open_timeout=30))
        self.ids = itertools.count(1)
        self.run = PageRun()

    def _port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"chromium exited at start (code {self.proc.returncode})")
            if marker.exists():
                text = marker.read_text().split()
                if text:
                    return int(text[0])
            time.sleep(0.05)
        raise AssertionError("chromium did not open its DevTools port within 30 s")

    def close(self) -> None:
        try:
            self.stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    # --- protocol ---------------------------------------------------------------------------
    def send(self, method: str, params: dict[str, Any] | None = None,
             timeout: float = 30) -> dict[str, Any]:
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(deadline - time.monotonic())
            if msg is None:
                raise AssertionError(f"CDP {method}: no answer within {timeout} s")
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise AssertionError(f"CDP {method}: {msg['error']}")
                return msg.get("result", {})

    def _recv(self, timeout: float) -> dict[str, Any] | None:
        try:
            msg = json.loads(self.ws.recv(timeout=max(timeout, 0.001)))
        except TimeoutError:
            return None
        self._record(msg)
        return msg

    def _record(self, msg: dict[str, Any]) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            self.run.requests.append(p["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.run.console_errors.append(
                " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            self.run.exceptions.append(d.get("exception", {}).get("description", d["text"]))
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            self.run.log_errors.append(p["entry"]["text"])

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._recv(deadline - time.monotonic())

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"evaluate failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, path: Path, ready: str = "window.__reportReady === true",
             timeout: float = 60, width: int | None = None,
             media: str | None = None) -> PageRun:
        """Load `path` from file:// with the network blocked; wait until `ready` is true.
        `width`: the viewport's CSS width (below 600, a phone: mobile viewport, touch);
        `media`: an emulated CSS media type ("print")."""
        for domain in ("Network", "Runtime", "Log", "Page"):
            self.send(f"{domain}.enable")
        if width is not None:
            self.send("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600})
        if media is not None:
            self.send("Emulation.setEmulatedMedia", {"media": media})
        self.send("Network.setBlockedURLs", {"urls": BLOCKED})
        self.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({ready})"):
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: page not ready within {timeout} s "
                                     f"(errors: {self.run.errors})")
            self.drain(0.1)
        self.drain(0.3)  # late console errors or requests
        return self.run


def open_page(path: Path, **kw: Any) -> tuple[Browser, PageRun]:
    browser = Browser()
    try:
        return browser, browser.open(path, **kw)
    except BaseException:
        browser.close()
        raise


def screenshot(browser: Browser, out: Path) -> None:
    """Save a full-page PNG (handy when a browser test fails)."""
    import base64

    size = browser.evaluate("[document.body.scrollWidth, document.body.scrollHeight]")
    shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                   "clip": {"x": 0, "y": 0, "width": size[0],
                                                            "height": size[1], "scale": 1}})
    out.write_bytes(base64.b64decode(shot["data"]))


# Per chart element (data-chart): for each view (a concat member, else the whole chart), the
# number of drawn data marks (bars, lines, points, cells, text), brush marks excluded.
MARKS_JS = """(() => {
  const out = {};
  document.querySelectorAll('[data-chart]').forEach(el => {
    const views = el.querySelectorAll('svg g.role-scope[class*="concat_"]');
    const scopes = views.length ? Array.from(views) : [el];
    out[el.dataset.chart] = scopes.map(g => Array.from(g.querySelectorAll('g.role-mark'))
      .filter(m => !/brush/.test(m.getAttribute('class')))
      .reduce((n, m) => n + m.childElementCount, 0));
  });
  return out;
})()"""


def chart_marks(browser: Browser) -> dict[str, list[int]]:
    return browser.evaluate(MARKS_JS)


def hover(browser: Browser, selector: str) -> None:
    """Move the mouse to the centre of the first element matching `selector`."""
    box = browser.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
        "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
    for dx in (-1, 0):  # a move into the mark, then onto it, as a real pointer does
        browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": box[0] + dx,
                                                  "y": box[1]})
    browser.drain(0.3)


def drag(browser: Browser, selector: str, x_from: float, x_to: float) -> None:
    """Press, move and release the mouse across the element, at fractions of its width."""
    box = browser.evaluate(
        f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
        "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
        "return [r.x, r.y + r.height / 2, r.width]; })()")
    x0, y, width = box
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x0 + width * x_from,
                                              "y": y})
    browser.send("Input.dispatchMouseEvent", {"type": "mousePressed", "button": "left",
                                              "clickCount": 1, "x": x0 + width * x_from,
                                              "y": y})
    for k in range(1, 6):
        x = x0 + width * (x_from + (x_to - x_from) * k / 5)
        browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "button": "left",
                                                  "buttons": 1, "x": x, "y": y})
    browser.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "button": "left",
                                              "clickCount": 1, "x": x0 + width * x_to, "y": y})
    browser.drain(0.5)
