"""Publishing a run's outputs atomically: all of them appear together, or none does.

A run publishes ``eligible_audience.csv``, one ``rejected_<input file>.csv`` per input file,
the deltas against the destination's previous published run (``audience_entered.csv``,
``audience_left.csv``, ``audience_updated.csv``) and ``reconciliation.json`` into
``<output-dir>``. Readers always find a complete set from a single run, whatever happens to the
publishing process (killed, out of disk, machine crash):

- **Generations.** Each publish writes a complete *generation* of the outputs into a private
  staging folder beside the output folder, ``<parent>/.<name>.generations/.staging-<pid>/``;
  every file and the folder are fsynced, then the folder is renamed to the next generation,
  ``.<name>.generations/g000042/``.
- **One atomic switch.** ``<output-dir>`` itself is a symbolic link to the current generation
  (``<name> -> .<name>.generations/g000042``, relative, so the parent folder can be moved).
  The switch creates a new link under a temporary name and renames it over ``<output-dir>``:
  ``rename(2)`` replaces the link atomically, so a reader sees either the old set or the new
  set, never a mix or a gap. The parent folder is fsynced after the switch.
- **Documented paths unchanged.** ``<output-dir>/eligible_audience.csv`` and the others are
  ordinary files reached through the link; ``ls``, ``cp`` and ``rsync <output-dir>/ ...`` see
  plain files. A reader that must read several files of one set resolves the link once
  (``realpath <output-dir>``) and reads from the generation folder.
- **Killed runs.** Until the switch nothing visible changes; after it the new set is complete.
  The next publish removes what a killed run left: staging folders, temporary links and
  generations that were written but never switched to. It keeps the current generation and
  the one before it (a reader that resolved the link just before a switch can still finish),
  and deletes older ones.
- **Files the pipeline did not write** (anything in the current generation other than the
  audience, the ``rejected_*.csv`` files and the reconciliation) are hard-linked into each new
  generation, so they are not lost. Steps that must publish a file atomically with the
  outputs pass it as ``extra_files``.
- **An existing plain folder** at ``<output-dir>`` (published before this scheme, or created
  by hand) is adopted, unchanged, as generation 0: it is atomically exchanged with a link
  pointing at the place it moves to (``renameat2(RENAME_EXCHANGE)``; where the file system
  lacks it, by two renames, leaving a moment in which ``<output-dir>`` is missing). An empty
  one is simply removed. A symbolic link at ``<output-dir>`` that the pipeline did not create
  is followed: the folder it points to is the output folder.

Only one run may publish into an output folder at a time: ``audience_pipeline.run_lock``
holds a lock for the whole run. Nothing inside the files depends on the time or the process,
so the same inputs and as-of date give byte-identical outputs (every CSV is sorted).

**Stopped runs** (a failed control, the drift guard) publish nothing; their would-be outputs go
to a diagnostics folder beside the output folder, never inside it:
``<parent>/.<name>.diagnostics/<UTC time>-as-of-<date>/`` (:func:`write_diagnostics`; the
last ``DIAGNOSTICS_KEPT`` are kept). They hold what the published files would: customer ids
and addresses included.

For fault-injection tests, ``AUDIENCE_TEST_PAUSE_BEFORE=<point>`` makes the run stop at a
named point (``publish-write``: after the audience file of the new generation is written,
before the rest; ``publish-switch``: after the new generation is complete and the history has
recorded the run, before the switch),
print ``pause point <point>: pid <pid> waiting`` on stderr and wait for SIGUSR1 (then go on)
or to be killed. It does nothing unless that variable names the point.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import json
import os
import re
import shutil
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.errors import PipelineError
from audience_pipeline.sql import string_literal

AUDIENCE_FILE = "eligible_audience.csv"
RECONCILIATION_FILE = "reconciliation.json"
#: The deltas against the destination's previous published run: file name -> model (marts).
DELTA_FILES = {
    "audience_entered.csv": "audience_entered",
    "audience_left.csv": "audience_left",
    "audience_updated.csv": "audience_updated",
}
#: Stopped runs whose diagnostics are kept beside an output folder.
DIAGNOSTICS_KEPT = 5
STOPPED_FILE = "stopped.txt"
PAUSE_ENV = "AUDIENCE_TEST_PAUSE_BEFORE"
PAUSE_SECONDS = 600.0

_GENERATION = re.compile(r"g(\d{6,})")
_STAGING_PREFIX = ".staging-"
_LINK_PREFIX = ".link-"
_LEGACY_STAGING_PREFIX = ".publishing-"  # the pre-generations publish wrote these
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_MAX_SYMLINK_HOPS = 40


# ---------------------------------------------------------------------------
# Test hook
# ---------------------------------------------------------------------------


def pause_point(name: str) -> None:
    """Wait here when ``AUDIENCE_TEST_PAUSE_BEFORE`` names this point (fault tests only)."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    resumed = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGUSR1, lambda *_: resumed.set()) if in_main_thread else None
    print(f"pause point {name}: pid {os.getpid()} waiting", file=sys.stderr, flush=True)
    try:
        resumed.wait(PAUSE_SECONDS)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGUSR1, signal.SIG_DFL if previous is None else previous)


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------


def generations_dir(output_dir: Path) -> Path:
    """Where the generations of ``output_dir`` live: ``<parent>/.<name>.generations``."""
    return output_dir.parent / f".{output_dir.name}.generations"


def diagnostics_dir(output_dir: Path) -> Path:
    """Where stopped runs leave their would-be outputs: ``<parent>/.<name>.diagnostics``."""
    target = resolve_output_dir(output_dir)
    return target.parent / f".{target.name}.diagnostics"


def _is_managed_link(path: Path) -> bool:
    """True if ``path`` is a link this module made: ``.<name>.generations/g<n>``."""
    if not path.is_symlink():
        return False
    target = Path(os.readlink(path))
    return (
        len(target.parts) == 2
        and target.parts[0] == generations_dir(path).name
        and _GENERATION.fullmatch(target.parts[1]) is not None
    )


def resolve_output_dir(output_dir: Path) -> Path:
    """The output folder as an absolute path whose parent has no symbolic links.

    The folder itself may be (and after a publish is) the pipeline's own link; a link the
    pipeline did not make is followed to the folder it points to.
    """
    path = Path(os.path.abspath(output_dir))
    for _ in range(_MAX_SYMLINK_HOPS):
        if path.name == "":
            raise PipelineError(f"the output folder cannot be {output_dir}")
        path = path.parent.resolve() / path.name
        if path.exists() and not path.is_dir():
            raise PipelineError(f"output folder {path} is a file, not a folder")
        if not path.is_symlink() or _is_managed_link(path):
            return path
        path = Path(os.path.abspath(path.parent / os.readlink(path)))
    raise PipelineError(f"output folder {output_dir}: too many levels of symbolic links")


# ---------------------------------------------------------------------------
# Durable file-system steps
# ---------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's content and metadata to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2``); False where it is not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP}:
        return False
    raise OSError(code, os.strerror(code), str(first))


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def _is_own_output(name: str) -> bool:
    """Files every publish writes anew (never carried over from the previous generation)."""
    return name in {AUDIENCE_FILE, RECONCILIATION_FILE, *DELTA_FILES} or (
        name.startswith("rejected_") and name.endswith(".csv")
    )


class _Generations:
    """The generations of one output folder and the link that selects the current one."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.root = generations_dir(output_dir)

    def numbers(self) -> list[int]:
        if not self.root.is_dir():
            return []
        return sorted(
            int(match.group(1))
            for entry in self.root.iterdir()
            if (match := _GENERATION.fullmatch(entry.name)) and entry.is_dir()
        )

    def path(self, number: int) -> Path:
        return self.root / f"g{number:06d}"

    def current(self) -> int | None:
        """The generation ``output_dir`` points to, if it is a link of ours."""
        if not _is_managed_link(self.output_dir):
            return None
        match = _GENERATION.fullmatch(Path(os.readlink(self.output_dir)).name)
        return int(match.group(1)) if match else None

    def link_target(self, number: int) -> str:
        return f"{self.root.name}/g{number:06d}"

    def prepare(self) -> None:
        """Create the folders, adopt a plain output folder, clear what killed runs left."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._adopt_plain_folder()
        link_prefix = f".{self.output_dir.name}{_LINK_PREFIX}"
        for entry in self.output_dir.parent.iterdir():
            if entry.name.startswith(link_prefix) and entry.is_symlink():
                _remove(entry)
        current = self.current()
        for entry in self.root.iterdir():
            match = _GENERATION.fullmatch(entry.name)
            unpublished = match is not None and (current is None or int(match.group(1)) > current)
            if entry.name.startswith(_STAGING_PREFIX) or unpublished:
                _remove(entry)

    def _adopt_plain_folder(self) -> None:
        """Turn a plain folder at ``output_dir`` into generation 0, without a visible change."""
        if self.output_dir.is_symlink() or not self.output_dir.is_dir():
            return
        if not any(self.output_dir.iterdir()):
            self.output_dir.rmdir()  # nothing was published there
            return
        number = min(self.numbers(), default=1) - 1
        if number < 0:
            raise PipelineError(
                f"output folder {self.output_dir} is a plain folder and {self.root} already "
                "holds generation 0; move one of them away"
            )
        generation = self.path(number)
        # A link named like the generation, whose relative target resolves to the generation
        # once it sits beside it: exchanging the two puts the folder in the generations and
        # the link at output_dir in one step.
        os.symlink(self.link_target(number), generation)
        if not _exchange(generation, self.output_dir):
            generation.unlink()
            os.rename(self.output_dir, generation)
            os.rename(self._new_link(number), self.output_dir)
        _fsync(self.root)
        _fsync(self.output_dir.parent)

    def _new_link(self, number: int) -> Path:
        link = self.output_dir.parent / f".{self.output_dir.name}{_LINK_PREFIX}{os.getpid()}"
        _remove(link)
        os.symlink(self.link_target(number), link)
        return link

    def staging(self) -> Path:
        staging = self.root / f"{_STAGING_PREFIX}{os.getpid()}"
        _remove(staging)
        staging.mkdir()
        return staging

    def carry_over(self, staging: Path) -> None:
        """Hard-link files the pipeline did not write from the current generation."""
        current = self.current()
        if current is None:
            return
        for entry in self.path(current).iterdir():
            if _is_own_output(entry.name) or entry.name.startswith(_LEGACY_STAGING_PREFIX):
                continue
            if (staging / entry.name).exists():
                continue  # written by this run as an extra file
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, staging / entry.name, symlinks=True, copy_function=_link)
            else:
                _link(str(entry), str(staging / entry.name))

    def commit(self, staging: Path) -> int:
        """Make a complete staging folder the next generation (not yet visible)."""
        _fsync(staging)
        number = max(self.numbers(), default=0) + 1
        os.rename(staging, self.path(number))
        _fsync(self.root)
        return number

    def switch(self, number: int) -> None:
        """Point ``output_dir`` at generation ``number``: the one atomic, visible step."""
        if self.output_dir.exists() and not self.output_dir.is_symlink():
            raise PipelineError(f"output folder {self.output_dir} appeared during the publish")
        os.replace(self._new_link(number), self.output_dir)
        _fsync(self.output_dir.parent)

    def prune(self) -> None:
        """Keep the current generation and the one before it; delete older ones."""
        current = self.current()
        if current is None:
            return
        older = [number for number in self.numbers() if number < current]
        for number in older[:-1]:
            _remove(self.path(number))


def _link(source: str, destination: str) -> None:
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, destination, follow_symlinks=False)


# ---------------------------------------------------------------------------
# Writing a generation
# ---------------------------------------------------------------------------


def _copy_query(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"copy ({query}) to {string_literal(str(path))} (format csv, header true)")
    _fsync(path)


def _write_file(path: Path, content: str | bytes) -> None:
    data = content.encode("utf-8") if isinstance(content, str) else content
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _table_files(input_files: list[str]) -> list[tuple[str, str, str]]:
    """(file name, model, query) of every CSV a run publishes, each sorted by its key."""
    files = [
        (AUDIENCE_FILE, "eligible_audience", "order by customer_id"),
        *(
            (f"rejected_{name}.csv", f"rejected_{name}", "order by source_line")
            for name in input_files
        ),
        *((file, model, "order by customer_id") for file, model in DELTA_FILES.items()),
    ]
    return [(file, model, f"select * from marts.{model} {order}") for file, model, order in files]


@dataclass(frozen=True)
class StagedGeneration:
    """A run's complete new generation, not yet visible: ``switch`` publishes it."""

    generations: _Generations
    number: int
    paths: list[Path]

    def switch(self) -> None:
        """Point the output folder at this generation (the one atomic, visible step), then
        delete the generations older than the one before it."""
        pause_point("publish-switch")
        self.generations.switch(self.number)
        self.generations.prune()


def stage_outputs(
    con: duckdb.DuckDBPyConnection,
    report: dict[str, Any],
    input_files: list[str],
    output_dir: Path,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> StagedGeneration:
    """Write every output of a passed run as one new, complete generation of the output folder,
    not yet visible (``StagedGeneration.switch`` publishes it).

    ``extra_files`` (file name -> content) are published in the same generation, so they
    appear together with the outputs. Between the two steps the history records the run with
    the generation's number: a run stopped before the switch is then forgotten by the next one
    (``history.forget_run_never_published``).
    """
    target = resolve_output_dir(output_dir)
    generations = _Generations(target)
    generations.prepare()
    staging = generations.staging()
    try:
        names = _write_generation(con, staging, report, input_files, extra_files)
        generations.carry_over(staging)
    except BaseException:  # an error, or Ctrl-C: nothing of this run stays behind
        _remove(staging)
        raise
    number = generations.commit(staging)
    return StagedGeneration(generations, number, [output_dir / name for name in names])


def _write_generation(
    con: duckdb.DuckDBPyConnection,
    staging: Path,
    report: dict[str, Any],
    input_files: list[str],
    extra_files: Mapping[str, str | bytes] | None,
) -> list[str]:
    """Write the outputs into ``staging``; returns their names."""
    names = []
    for position, (name, _, query) in enumerate(_table_files(input_files)):
        _copy_query(con, query, staging / name)
        names.append(name)
        if position == 0:
            pause_point("publish-write")
    _write_file(staging / RECONCILIATION_FILE, json.dumps(report, indent=2, sort_keys=False) + "\n")
    names.append(RECONCILIATION_FILE)
    for name, content in (extra_files or {}).items():
        if Path(name).name != name or name in names or name.startswith("."):
            raise PipelineError(f"cannot publish an extra file named {name!r}")
        _write_file(staging / name, content)
        names.append(name)
    return names


def current_generation(output_dir: Path) -> int | None:
    """The generation the output folder points to (``None``: not a link of ours, or absent)."""
    return _Generations(resolve_output_dir(output_dir)).current()


def write_diagnostics(
    con: duckdb.DuckDBPyConnection,
    output_dir: Path,
    *,
    as_of: str,
    input_files: list[str],
    built_models: set[str] | None,
    why: str,
    report: dict[str, Any] | None = None,
    extra_files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Write a stopped run's would-be outputs beside ``output_dir``; returns their folder.

    Only the files whose model this run built (``built_models``; None means all) are written,
    so nothing stale from an earlier build is passed off as this run's. ``why`` (the error,
    counts only) goes into ``stopped.txt``. Keeps the last ``DIAGNOSTICS_KEPT`` folders.
    """
    root = diagnostics_dir(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = root / f"{stamp}-as-of-{as_of}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = root / f"{stamp}-as-of-{as_of}-{suffix}"
    staging = root / f"{_STAGING_PREFIX}{os.getpid()}"
    _remove(staging)
    staging.mkdir()
    for name, model, query in _table_files(input_files):
        if built_models is None or model in built_models:
            _copy_query(con, query, staging / name)
    if report is not None:
        _write_file(
            staging / RECONCILIATION_FILE, json.dumps(report, indent=2, sort_keys=False) + "\n"
        )
    for name, content in (extra_files or {}).items():
        if Path(name).name == name and not name.startswith("."):
            _write_file(staging / name, content)
    _write_file(staging / STOPPED_FILE, why.rstrip("\n") + "\n")
    os.rename(staging, folder)
    kept = sorted(
        entry for entry in root.iterdir() if entry.is_dir() and not entry.name.startswith(".")
    )
    for old in kept[:-DIAGNOSTICS_KEPT]:
        _remove(old)
    for entry in root.iterdir():
        if entry.name.startswith(_STAGING_PREFIX) and entry != staging:
            _remove(entry)
    return folder
