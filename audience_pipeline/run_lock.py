"""One run at a time per database and per output folder.

Two runs building in the same DuckDB file would overwrite each other's tables, and two runs
publishing into the same output folder would race for it. ``hold_run_locks`` takes an
exclusive ``fcntl.flock`` on a lock file for each, without waiting: if another run holds
either, the new run stops at once with :class:`RunLockedError`, naming what is locked, the
lock file and the pid written in it by the run that holds it.

- database ``<path>.duckdb`` -> lock file ``<path>.duckdb.lock`` beside it;
- output folder ``<parent>/<name>`` -> lock file ``<parent>/.<name>.lock`` beside it (the
  folder itself is replaced on every publish, see ``audience_pipeline.publish``).

The operating system releases a ``flock`` when the process holding it ends, however it ends
(even ``kill -9``), so a killed run never leaves a stale lock behind. Lock files are left in
place (deleting one while another process waits on it would let two runs hold "the" lock);
after a run they are empty.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import inspect
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ParamSpec, TypeVar

from audience_pipeline.errors import PipelineError
from audience_pipeline.publish import resolve_output_dir

P = ParamSpec("P")
R = TypeVar("R")


class RunLockedError(PipelineError):
    """Another run holds the database or the output folder this run needs."""

    def __init__(self, what: str, path: Path, lock_file: Path, holder: str) -> None:
        self.what = what
        self.path = path
        self.lock_file = lock_file
        self.holder = holder
        super().__init__(
            f"the {what} {path} is locked by another run ({holder or 'pid unknown'}; "
            f"lock file {lock_file}); wait for that run to finish or stop it, then run again"
        )


def database_lock_file(database: Path) -> Path:
    """The lock file of a DuckDB database file."""
    database = database.resolve()
    return database.with_name(database.name + ".lock")


def output_lock_file(output_dir: Path) -> Path:
    """The lock file of an output folder (beside it, since the folder is a switched link)."""
    output_dir = resolve_output_dir(output_dir)
    return output_dir.parent / f".{output_dir.name}.lock"


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


@contextlib.contextmanager
def _exclusive(what: str, path: Path, lock_file: Path) -> Iterator[None]:
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(what, path, lock_file, _holder(fd)) from None
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {started}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def hold_run_locks(*, database: Path, output_dir: Path) -> Iterator[None]:
    """Hold the database's and the output folder's locks for the body; fail fast if taken."""
    with (
        _exclusive("database", database.resolve(), database_lock_file(database)),
        _exclusive("output folder", resolve_output_dir(output_dir), output_lock_file(output_dir)),
    ):
        yield


def with_run_locks(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a run function taking ``database`` and ``output_dir``: hold both locks for it.

    The arguments are read by name (defaults applied), so the run's own signature and body
    stay as they are.
    """
    signature = inspect.signature(function)

    @functools.wraps(function)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        with hold_run_locks(
            database=Path(bound.arguments["database"]),
            output_dir=Path(bound.arguments["output_dir"]),
        ):
            return function(*args, **kwargs)

    return locked
