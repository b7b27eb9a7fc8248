"""Command-line values, checked where they are read: each returns the value or says why not.

Every function is an ``argparse`` type: a ValueError or ``ArgumentTypeError`` becomes a one-line
usage error naming the option (exit code 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
from pathlib import Path

from audience_pipeline.errors import UsageError
from audience_pipeline.landing_folder import RemoteFolder

_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)\s*$")


def iso_date(text: str) -> str:
    """A calendar date written YYYY-MM-DD."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, not {text!r}") from None


def memory_size(text: str) -> str:
    """A memory size with its unit, as DuckDB reads it: ``4GB``, ``512MB``, ``1.5GiB``."""
    match = _SIZE.match(text)
    if not match or float(match[1]) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected a size with its unit such as 4GB or 512MB, not {text!r}"
        )
    return f"{match[1]}{match[2].upper().replace('I', 'i')}"


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    if not (text.strip().isascii() and text.strip().isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, not {text!r}")
    return int(text)


def whole_number(text: str) -> int:
    """A whole number >= 0 (a count of customers)."""
    if not (text.strip().isascii() and text.strip().isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, not {text!r}")
    return int(text)


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
    if not path.is_dir():
        problem = "is not a folder" if path.exists() else "does not exist"
        raise UsageError(f"argument {option}: {path} {problem}")


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
