"""A large file's fingerprint computed in a process of its own: ``fingerprint_process``.

The child's fingerprint is the one ``file_checks.fingerprint_file`` computes here; a file it
cannot read, or a Python that cannot run the module, leaves it to be computed here; only
files from ``OWN_PROCESS_BYTES`` on start one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from audience_pipeline import fingerprint_process
from audience_pipeline.file_checks import fingerprint_file
from audience_pipeline.fingerprint_process import (
    fingerprint_in_own_process,
    fingerprint_local_file,
)

CONTENT = b"id,name\r\n1,a\n2,b\x00c\r3,\xff\n4,last without line ending"


def test_the_child_s_fingerprint_is_the_one_computed_here(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(CONTENT)
    fingerprint = fingerprint_in_own_process(path)
    assert fingerprint == fingerprint_file(path)
    assert fingerprint.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert fingerprint.first_nul_byte == CONTENT.index(b"\x00")
    assert fingerprint.lines == len(CONTENT.splitlines())


def test_without_the_child_s_fingerprint_it_is_computed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the child cannot read, or a Python that cannot run the module, gives no
    fingerprint; the file's is then computed here, which raises the file's own error."""
    missing = tmp_path / "missing.csv"
    assert fingerprint_in_own_process(missing) is None
    path = tmp_path / "file.csv"
    path.write_bytes(CONTENT)
    monkeypatch.setattr(fingerprint_process, "OWN_PROCESS_BYTES", 0)
    monkeypatch.setattr(fingerprint_process.sys, "executable", "/bin/false")
    assert fingerprint_in_own_process(path) is None
    assert fingerprint_local_file(path) == fingerprint_file(path)


def test_a_large_file_that_cannot_be_read_raises_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(CONTENT)
    monkeypatch.setattr(fingerprint_process, "OWN_PROCESS_BYTES", 0)
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("this user (root) reads files whatever their mode")
        with pytest.raises(PermissionError):
            fingerprint_local_file(path)
    finally:
        path.chmod(0o644)


def test_only_large_files_start_a_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(CONTENT)
    started: list[list[str]] = []
    run = subprocess.run

    def recording_run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        started.append(args)
        return run(args, **kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(fingerprint_process.subprocess, "run", recording_run)
    monkeypatch.setattr(fingerprint_process, "OWN_PROCESS_BYTES", len(CONTENT) + 1)
    assert fingerprint_local_file(path) == fingerprint_file(path)
    assert started == []
    monkeypatch.setattr(fingerprint_process, "OWN_PROCESS_BYTES", len(CONTENT))
    assert fingerprint_local_file(path) == fingerprint_file(path)
    assert [args[-1] for args in started] == [str(path)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "usage: python -m audience_pipeline.fingerprint_process PATH"),
        (["nowhere.csv"], "nowhere.csv: No such file or directory"),
    ],
)
def test_the_module_run_wrongly_exits_2_with_one_line(
    tmp_path: Path, args: list[str], message: str
) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "audience_pipeline.fingerprint_process", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = completed.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0] == message
    assert "Traceback" not in completed.stderr
