"""The benchmark's process-tree memory sampler sees memory held by a grandchild process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audience_tools.process_memory import TreeMemorySampler, tree_resident_mb

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")

# a child that starts a grandchild holding 300 MB (touched, so resident) for a while: like
# `audience run --target spark`, whose JVM is a child of the Python process
_HOLDER = "import sys, time; block = b'x' * (300 * 1024 * 1024); time.sleep(float(sys.argv[1]))"
_PARENT = (
    "import subprocess, sys; "
    "subprocess.run([sys.executable, '-c', sys.argv[1], sys.argv[2]], check=True)"
)


def test_a_grandchild_s_memory_counts_in_the_tree() -> None:
    child = subprocess.Popen([sys.executable, "-c", _PARENT, _HOLDER, "2.5"])
    sampler = TreeMemorySampler(child.pid, interval_seconds=0.1).start()
    try:
        assert child.wait(timeout=60) == 0
    finally:
        memory = sampler.stop()
    assert memory.tree_peak_mb >= 300
    assert memory.largest_process_mb >= 300
    assert memory.largest_process_name.startswith("python")
    # the parent itself holds far less than the block: the tree is more than its root
    assert memory.tree_peak_mb > memory.largest_process_mb


def test_the_tree_of_this_process_is_at_least_this_process() -> None:
    total, largest, name = tree_resident_mb(os.getpid())
    assert total >= largest > 10
    assert name


def test_a_stopped_sampler_stops_sampling() -> None:
    sampler = TreeMemorySampler(os.getpid(), interval_seconds=0.05).start()
    time.sleep(0.2)
    memory = sampler.stop()
    seen = memory.tree_peak_mb
    assert seen > 0
    block = b"x" * (200 * 1024 * 1024)  # noqa: F841 - held while we check nothing changed
    time.sleep(0.2)
    assert memory.tree_peak_mb == seen
