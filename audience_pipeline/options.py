"""Command-line values, checked where they are read: each returns the value or says why not.

Every function is an ``argparse`` type: a ValueError or ``ArgumentTypeError`` becomes a one-line
usage error naming the option (exit code 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import tempfile
from pathlib import Path

from audience_pipeline.errors import UsageError
from audience_pipeline.landing_folder import RemoteFolder, UnknownStore

_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*$")
#: Bytes per unit of a memory size, as DuckDB reads them (KB = 1000 bytes, KiB = 1024).
_UNIT_BYTES = {
    "b": 1,
    **{unit: 1000 ** (power + 1) for power, unit in enumerate(("kb", "mb", "gb", "tb"))},
    **{unit: 1024 ** (power + 1) for power, unit in enumerate(("kib", "mib", "gib", "tib"))},
}
#: The smallest memory limit taken: below it DuckDB cannot build the models at all (the sample
#: fails under 32MB on two threads).
MIN_MEMORY = "64MB"
_MIN_MEMORY_BYTES = 64 * 1000**2
#: The largest memory limit taken (DuckDB refuses sizes it cannot hold in 64 bits).
MAX_MEMORY = "1000TB"
_MAX_MEMORY_BYTES = 1000 * 1000**4
#: The largest count taken (runs kept, customers, thresholds): it must fit where it is stored.
MAX_COUNT = 2**31 - 1
#: The most threads taken, for DuckDB and for dbt.
MAX_THREADS = 1024


def iso_date(text: str) -> str:
    """A calendar date written YYYY-MM-DD."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def memory_size(text: str) -> str:
    """A memory size with its unit, as DuckDB reads it: ``4GB``, ``512MB``, ``1.5GiB``.

    At least ``MIN_MEMORY``.
    """
    match = _SIZE.match(text)
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a size with its unit such as 4GB or 512MB, not {text!r}"
        )
    size = float(match[1]) * _UNIT_BYTES[match[2].lower()]
    if size < _MIN_MEMORY_BYTES:
        raise argparse.ArgumentTypeError(
            f"expected at least {MIN_MEMORY} (DuckDB cannot build in less), not {text!r}"
        )
    if size > _MAX_MEMORY_BYTES:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_MEMORY}, not {text!r}")
    return f"{match[1]}{match[2].upper().replace('I', 'i')}"


def path_option(text: str) -> Path:
    """A path on this machine; an empty one (Python reads it as the current folder) is refused."""
    if not text:
        raise argparse.ArgumentTypeError("empty path")
    return Path(text)


def _whole_number_within(text: str, low: int, high: int) -> int:
    if not (text.strip().isascii() and text.strip().isdigit()) or not low <= int(text) <= high:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from {low} to {high:,}, not {text!r}"
        )
    return int(text)


def positive_int(text: str) -> int:
    """A whole number from 1 to ``MAX_COUNT``."""
    return _whole_number_within(text, 1, MAX_COUNT)


def whole_number(text: str) -> int:
    """A whole number from 0 to ``MAX_COUNT`` (a count of customers)."""
    return _whole_number_within(text, 0, MAX_COUNT)


def thread_count(text: str) -> int:
    """A number of threads, from 1 to ``MAX_THREADS``."""
    return _whole_number_within(text, 1, MAX_THREADS)


def destination_name(text: str) -> str:
    """A destination's name: any text that is not blank (kept as typed, less outer spaces)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("a destination needs a name, not a blank")
    return text.strip()


def share(text: str) -> float:
    """A share such as 0.2 (= 20%), for the drift guard's thresholds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a share >= 0 such as 0.2, not {text!r}")
    return value


def customer_id(text: str) -> int:
    """A customer id: ASCII digits."""
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"a customer_id is ASCII digits, not {text!r}")
    return int(text)


def existing_dir(path: Path | RemoteFolder, option: str, remote_allowed: bool = False) -> None:
    """A folder that exists, checked once every option has parsed (so a typo is named first).

    A remote folder (a URL) is read by an engine that reaches it (``--target spark``); the
    DuckDB pre-step reads files on this machine, so for it a URL is refused by name.
    """
    if isinstance(path, RemoteFolder) and not remote_allowed:
        raise UsageError(
            f"argument {option}: {path} is a remote folder, which only --target spark "
            "reads; for DuckDB give a local or mounted folder"
        )
    try:
        is_folder = path.is_dir()
        problem = "is not a folder" if not is_folder and path.exists() else "does not exist"
    except UnknownStore as error:  # a scheme no store answers to is a bad value; a store that
        # refuses (credentials, network) is an error at work, exit 1
        raise UsageError(f"argument {option}: {error}") from None
    if not is_folder:
        raise UsageError(f"argument {option}: {path} {problem}")


def _first_existing(path: Path) -> Path:
    """``path`` (made absolute) or its nearest parent that exists."""
    absolute = Path(os.path.abspath(path))
    for candidate in (absolute, *absolute.parents):
        if candidate.exists():
            return candidate
    return absolute  # not reached: the root exists


def _source(option: str) -> str:
    """How a message names where a path came from: ``argument --database`` for an option,
    the variable's name (``AUDIENCE_DATABASE``) or a phrase for anything else."""
    return f"argument {option}" if option.startswith("--") else option


def folder_to_write(path: Path, option: str, *, try_creating: bool = True) -> None:
    """A folder a command writes into, which may not exist yet: neither it nor one of its
    parents may be a file, nor out of reach, and the nearest that exists must be writable
    (checked once every option has parsed, exit 2). ``try_creating``: also create and remove
    a file there (off for a folder whose readers must never see one, such as a published
    output folder). ``option`` names where the path came from: an option, or an environment
    variable."""
    try:
        existing = _first_existing(path)
        is_folder = existing.is_dir()
    except OSError as error:
        raise UsageError(f"{_source(option)}: {path}: {error.strerror or error}") from None
    if not is_folder:
        raise UsageError(f"{_source(option)}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{_source(option)}: {existing} is not writable")
    if not try_creating:
        return
    # the access check passes every folder for root (and cannot see every file system's
    # refusals, such as /proc's): creating a file there is the test that cannot be fooled
    try:
        handle, probe = tempfile.mkstemp(prefix=".audience-write-check-", dir=existing)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(f"{_source(option)}: {existing} is not writable ({reason})") from None
    os.close(handle)
    os.unlink(probe)


def file_to_write(path: Path, option: str) -> None:
    """A file a command creates or opens (``--database``): not a folder, nor under a file."""
    try:
        is_folder = path.is_dir()
    except OSError as error:
        raise UsageError(f"{_source(option)}: {path}: {error.strerror or error}") from None
    if is_folder:
        raise UsageError(f"{_source(option)}: {path} is a folder, not a file")
    folder_to_write(path.parent, option)
    if path.exists():
        # opened for writing and closed untouched: a read-only file is refused before the run
        # starts, not after its pre-step
        try:
            with path.open("r+b"):
                pass
        except OSError as error:
            raise UsageError(
                f"{_source(option)}: {path} is not writable ({error.strerror or error})"
            ) from None


def _input_file_names() -> list[str]:
    from audience_pipeline.contract import load_contract

    return [spec.name for spec in load_contract()]


def encoding_option(text: str) -> tuple[str | None, str]:
    """``--encoding``: an encoding Python knows, for every file or one (``customers=cp1252``)."""
    from audience_pipeline.dialect import encoding_setting

    try:
        return encoding_setting(text, _input_file_names())
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{error} (e.g. utf-8, cp1252, latin-1, utf-16; or FILE=ENCODING)"
        ) from None


def delimiter_option(text: str) -> tuple[str | None, str]:
    """``--delimiter``: one character, for every file or one (``customers=;``)."""
    from audience_pipeline.dialect import delimiter_setting

    try:
        return delimiter_setting(text, _input_file_names())
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
