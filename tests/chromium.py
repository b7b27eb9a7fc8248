"""A small headless-Chromium driver for the browser tests (standard library only).

It starts Debian's ``chromium`` with the flags measured in the field notes and talks to it
over the DevTools protocol on a pipe (``--remote-debugging-pipe``: commands go to the
browser on fd 3, answers come back on fd 4, each message a JSON text ended by a NUL byte).
That lets a test open a page, wait until its scripts have drawn something, read the DOM as
the page shows it, and take a screenshot, without a WebDriver or a network port.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: Flags headless Chromium needs as root on this machine (see /work/shared/field-notes.md).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
)


def chromium_binary() -> str | None:
    """Path of the Chromium executable, or None when it is not installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(RuntimeError):
    """Chromium did not answer, or answered with an error."""


def _high_fd(fd: int) -> int:
    """Duplicate ``fd`` to a number >= 10 (so dup2 onto 3 and 4 cannot clobber it)."""
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class Chromium:
    """One headless Chromium process with one page, driven over the DevTools pipe."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900) -> None:
        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser_read, to_browser_write = (_high_fd(fd) for fd in os.pipe())
        from_browser_read, from_browser_write = (_high_fd(fd) for fd in os.pipe())

        def wire_pipes() -> None:  # runs in the child, before exec
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self._process = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={self._profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire_pipes,  # the tests are single-threaded
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._write_fd = to_browser_write
        self._read_fd = from_browser_read
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self.width = width
        self.height = height
        target = self.send("Target.createTarget", {"url": "about:blank"})
        attached = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )
        self._session = attached["sessionId"]
        self.page("Page.enable")
        self.page("Runtime.enable")
        self.set_viewport(width, height)

    # -- protocol -------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._read_fd, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer (events are kept for later)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise BrowserError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self._events.append(answer)

    def page(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A command for the page's session."""
        return self.send(method, params, session=self._session)

    def events(self, method: str) -> list[dict[str, Any]]:
        """Events of one kind received so far (e.g. ``Network.requestWillBeSent``)."""
        return [event for event in self._events if event.get("method") == method]

    def wait_for_event(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(index)
            event = self._read_message(deadline)
            if "method" in event:
                self._events.append(event)

    # -- page helpers ---------------------------------------------------------------------

    def set_viewport(self, width: int, height: int) -> None:
        self.page(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def open(self, url: str, timeout: float = 30.0) -> None:
        """Navigate and wait for the load event (a change of #hash only is not a reload)."""
        self._events = [e for e in self._events if e.get("method") != "Page.loadEventFired"]
        navigated = self.page("Page.navigate", {"url": url})
        if "errorText" in navigated:
            raise BrowserError(f"cannot open {url}: {navigated['errorText']}")
        if navigated.get("loaderId"):  # a new document: wait until it has loaded
            self.wait_for_event("Page.loadEventFired", timeout=timeout)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page and return its (JSON-serialisable) value."""
        result = self.page(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise BrowserError(f"script failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_until(self, expression: str, timeout: float = 20.0) -> Any:
        """Poll a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for: {expression}")
            time.sleep(0.1)

    def screenshot(self, path: Path, full_page: bool = False, height: int | None = None) -> Path:
        """Save a PNG of the viewport, the whole page, or its top ``height`` pixels."""
        params: dict[str, Any] = {"format": "png"}
        if height is not None:
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}
        elif full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.page("Page.captureScreenshot", params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._write_fd, self._read_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[Chromium]:
    """A headless Chromium for the duration of the block."""
    binary = chromium_binary()
    if binary is None:
        raise BrowserError("chromium is not installed (bash scripts/setup.sh installs it)")
    browser = Chromium(binary, width=width, height=height)
    try:
        yield browser
    finally:
        browser.close()
