"""Peak resident memory of a process tree, sampled from /proc while it runs.

``ru_maxrss`` (what ``wait4`` reports) is the peak of one process: for ``audience run
--target spark`` that is the Python side alone, while Spark's JVM, a child of that process
that is never waited for, holds most of the memory. This sampler adds up the resident memory
of the process and every descendant every half second and keeps the largest sum and the
largest single process, so a benchmark reports what the machine had to hold. A sample can miss
a peak shorter than its interval: the figure is a lower bound, beside the exact ``ru_maxrss``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass
class TreeMemory:
    """The largest samples seen: the whole tree's resident memory and one process's, in MB."""

    tree_peak_mb: float = 0.0
    largest_process_mb: float = 0.0
    largest_process_name: str = ""


def _parents_and_names() -> dict[int, tuple[int, str]]:
    """Every visible process: pid -> (parent pid, command name)."""
    processes: dict[int, tuple[int, str]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        processes[int(entry.name)] = (parent, name)
    return processes


def _resident_mb(pid: int) -> float:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_resident_mb(root: int) -> tuple[float, float, str]:
    """Resident memory of ``root`` and its descendants now: the sum, the largest, its name."""
    processes = _parents_and_names()
    tree = {root}
    grew = True
    while grew:
        grew = False
        for pid, (parent, _) in processes.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    sizes = {pid: _resident_mb(pid) for pid in tree}
    largest = max(sizes, key=lambda pid: sizes[pid])
    return sum(sizes.values()), sizes[largest], processes.get(largest, (0, ""))[1]


class TreeMemorySampler:
    """Samples a process tree in a background thread until ``stop()``; see ``memory``."""

    def __init__(self, root: int, interval_seconds: float = 0.5) -> None:
        self.memory = TreeMemory()
        self._root = root
        self._interval = interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> TreeMemorySampler:
        if _PROC.is_dir():  # elsewhere nothing is sampled and the figures stay 0
            self._thread.start()
        return self

    def stop(self) -> TreeMemory:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.memory

    def _run(self) -> None:
        while not self._stopped.is_set():
            total, largest, name = tree_resident_mb(self._root)
            if total > self.memory.tree_peak_mb:
                self.memory.tree_peak_mb = total
            if largest > self.memory.largest_process_mb:
                self.memory.largest_process_mb = largest
                self.memory.largest_process_name = name
            self._stopped.wait(self._interval)
