"""Unit tests of ``audience_pipeline.run_lock`` (no dbt): one run per database and output folder.

Another run is played by a small Python subprocess that takes the locks and waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from audience_pipeline.run_lock import (
    RunLockedError,
    database_lock_file,
    hold_run_locks,
    output_lock_file,
    with_run_locks,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent


def start_holder(database: Path, output_dir: Path) -> subprocess.Popen[str]:
    """A process that holds both locks until it is killed."""
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from audience_pipeline.run_lock import hold_run_locks
        with hold_run_locks(database=Path({str(database)!r}), output_dir=Path({str(output_dir)!r})):
            print("held", flush=True)
            time.sleep(120)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=PROJECT_DIR
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "db" / "audience.duckdb", tmp_path / "published" / "out"


@pytest.fixture
def holder(paths: tuple[Path, Path]) -> Iterator[subprocess.Popen[str]]:
    process = start_holder(*paths)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_lock_files_sit_beside_the_database_and_the_output_folder(
    paths: tuple[Path, Path],
) -> None:
    database, output_dir = paths
    database.parent.mkdir(parents=True)
    assert database_lock_file(database) == database.parent / "audience.duckdb.lock"
    assert output_lock_file(output_dir) == output_dir.parent / ".out.lock"


def test_same_folder_by_another_path_has_the_same_lock(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert output_lock_file(tmp_path / "alias" / "out") == output_lock_file(
        tmp_path / "real" / "sub" / ".." / "out"
    )


@pytest.mark.parametrize("shared", ["database", "output folder", "both"])
def test_second_run_fails_fast_naming_what_is_locked_and_by_whom(
    paths: tuple[Path, Path],
    tmp_path: Path,
    holder: subprocess.Popen[str],
    shared: str,
) -> None:
    database, output_dir = paths
    if shared == "database":
        output_dir = tmp_path / "other_out"
    elif shared == "output folder":
        database = tmp_path / "other.duckdb"
    started = time.monotonic()
    with (
        pytest.raises(RunLockedError) as raised,
        hold_run_locks(database=database, output_dir=output_dir),
    ):
        pytest.fail("the lock was taken twice")
    assert time.monotonic() - started < 1
    error = raised.value
    expected_what = "output folder" if shared == "output folder" else "database"
    assert error.what == expected_what
    assert f"pid {holder.pid}," in str(error)
    assert "is locked by another run" in str(error)
    assert str(error.lock_file) in str(error)


def test_a_killed_holder_releases_the_locks(
    paths: tuple[Path, Path], holder: subprocess.Popen[str]
) -> None:
    database, output_dir = paths
    with pytest.raises(RunLockedError), hold_run_locks(database=database, output_dir=output_dir):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with hold_run_locks(database=database, output_dir=output_dir):
        assert f"pid {os.getpid()}," in database_lock_file(database).read_text()
    # released and emptied on the way out
    assert database_lock_file(database).read_text() == ""
    assert output_lock_file(output_dir).read_text() == ""


def test_the_same_process_cannot_take_the_lock_twice(paths: tuple[Path, Path]) -> None:
    database, output_dir = paths
    with (
        hold_run_locks(database=database, output_dir=output_dir),
        pytest.raises(RunLockedError, match=f"pid {os.getpid()},"),
        hold_run_locks(database=database, output_dir=output_dir),
    ):
        pass
    with hold_run_locks(database=database, output_dir=output_dir):
        pass


def test_a_failed_run_releases_the_locks(paths: tuple[Path, Path]) -> None:
    database, output_dir = paths

    @with_run_locks
    def run(output_dir: Path, database: Path = database) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run(output_dir)
    with hold_run_locks(database=database, output_dir=output_dir):
        pass


def test_the_decorator_reads_arguments_by_name_with_defaults(
    paths: tuple[Path, Path], holder: subprocess.Popen[str]
) -> None:
    database, output_dir = paths
    calls = []
    assert output_dir != Path("elsewhere")

    @with_run_locks
    def run(input_dir: Path, output_dir: Path, database: Path = database) -> None:
        calls.append(1)

    with pytest.raises(RunLockedError, match="database"):
        run(Path("in"), output_dir=Path("elsewhere"))
    assert calls == []
