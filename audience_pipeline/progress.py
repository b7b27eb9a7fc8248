"""Progress of a run for the person watching it: the stage, and how far dbt has come.

On a terminal the dbt build is one line rewritten in place (nodes done / total, and the node
that has been running longest); into a file or a pipe the same facts come as plain lines, a
few per stage, so a scheduler's log stays short. Nothing here writes colour. dbt's own log goes
to a file beside the database (``dbt_invoke``), never to the screen.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

#: How often the terminal line is redrawn, and how often a plain line is written while dbt runs.
_REDRAW_SECONDS = 0.5
_PLAIN_EVERY_SECONDS = 30.0


@dataclass
class DbtNodes:
    """What dbt has done so far in one command, fed by its events (thread-safe)."""

    total: int | None = None
    done: int = 0
    running: dict[str, tuple[str, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_event(self, event: Any) -> None:
        """A dbt event callback (``dbtRunner(callbacks=[...])``)."""
        name = event.info.name
        if name not in {"LogStartLine", "NodeStart", "NodeFinished"}:
            return
        data = event.data
        if name != "LogStartLine" and data.node_info.materialized == "ephemeral":
            return  # compiled into the models that use it: not one of dbt's counted nodes
        with self.lock:
            if name == "LogStartLine":
                self.total = int(data.total) or self.total
            elif name == "NodeStart":
                node = data.node_info
                self.running[node.unique_id] = (node.node_name, time.perf_counter())
            else:  # finished, skipped included
                self.running.pop(data.node_info.unique_id, None)
                self.done += 1

    def describe(self) -> str:
        """``57 of 140 nodes done; running stg_exports__bookings_checked (12 s)``."""
        with self.lock:
            total = f"{self.total:,}" if self.total else "?"
            text = f"{self.done:,} of {total} nodes done"
            if self.running:
                name, started = min(self.running.values(), key=lambda item: item[1])
                text += f"; running {name} ({time.perf_counter() - started:,.0f} s)"
            return text


class Progress:
    """Stage lines with elapsed times; ``mode`` is ``terminal``, ``plain`` or ``quiet``."""

    def __init__(self, mode: str | None = None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        if mode is None:
            mode = "terminal" if self.stream.isatty() else "plain"
        if mode not in {"terminal", "plain", "quiet"}:
            raise ValueError(f"unknown progress mode {mode!r}")
        self.mode = mode
        self.started = time.perf_counter()
        self.stage_seconds: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return self.mode != "quiet"

    def _elapsed(self) -> str:
        return f"[{time.perf_counter() - self.started:7,.1f} s]"

    def say(self, message: str) -> None:
        """One line, stamped with the time since the run started."""
        if self.enabled:
            print(f"{self._elapsed()} {message}", file=self.stream, flush=True)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage; say when it starts and how long it took."""
        self.say(f"{name} ...")
        began = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - began
            self.stage_seconds[name] = seconds
            self.say(f"{name}: {seconds:,.1f} s")

    @contextmanager
    def watching(self, label: str, nodes: DbtNodes) -> Iterator[None]:
        """Show ``nodes`` while the block runs: one live line, or a plain line now and then."""
        if not self.enabled:
            yield
            return
        stop = threading.Event()
        interval = _REDRAW_SECONDS if self.mode == "terminal" else _PLAIN_EVERY_SECONDS

        def report() -> None:
            while not stop.wait(interval):
                self._show(f"{label}: {nodes.describe()}")

        reporter = threading.Thread(target=report, name="progress", daemon=True)
        reporter.start()
        try:
            yield
        finally:
            stop.set()
            reporter.join()
            if self.mode == "terminal":
                self.stream.write("\r\x1b[2K")  # clear the live line
            self.say(f"{label}: {nodes.describe()}")

    def _show(self, message: str) -> None:
        line = f"{self._elapsed()} {message}"
        if self.mode == "terminal":
            width = shutil.get_terminal_size().columns - 1
            self.stream.write("\r\x1b[2K" + line[:width])
            self.stream.flush()
        else:
            print(line, file=self.stream, flush=True)
