"""Reading and checking an input file's header row."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from audience_pipeline.contract import InputFile
from audience_pipeline.dialect import DEFAULT_DELIMITER, delimiter_label
from audience_pipeline.errors import InputFileError

#: Delimiters a header of a single column is checked for (never used to guess: only to say so).
_COMMON_DELIMITERS = (",", ";", "\t", "|")
#: How much of a header a message quotes: a file read in the wrong encoding can be one "line".
MAX_SHOWN = 200


def abridged(text: str, limit: int = MAX_SHOWN) -> str:
    """``text`` as a message quotes it: whole when short, else its start and its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Header:
    """The columns of a header row, normalized, and where the contract's columns are."""

    columns: tuple[str, ...]
    extra_columns: tuple[str, ...]

    def position(self, column: str) -> int:
        """0-based position of a contract column in the file."""
        return self.columns.index(column)


def normalize_column_name(name: str) -> str:
    """Header names match trimmed, case-insensitively, with inner spaces read as underscores."""
    return re.sub(r"\s+", "_", name.strip().lower())


def split_line(line: str, delimiter: str = DEFAULT_DELIMITER) -> list[str]:
    """The fields of one line (without its line ending), as Python's CSV reader splits it.

    A field may be as long as the line: the reader's limit (128 KB by default) guards against
    reading a whole file into one field, and the line is in memory already.
    """
    previous = csv.field_size_limit(max(csv.field_size_limit(), len(line)))
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=False), [])
    finally:
        csv.field_size_limit(previous)


def read_header(spec: InputFile, line: str, delimiter: str = DEFAULT_DELIMITER) -> Header:
    """Parse and check a header line against the contract; raises InputFileError.

    ``delimiter`` is the one declared for the file (a comma unless ``--delimiter`` says
    otherwise). A header that is one column holding another common delimiter is refused with
    the option that would read it: the delimiter is declared, never guessed.
    """
    fields = split_line(line, delimiter)
    columns = tuple(normalize_column_name(field) for field in fields)
    if len(columns) == 1:
        for other in _COMMON_DELIMITERS:
            if other != delimiter and other in line:
                declared = (
                    "the contract's delimiter is a comma"
                    if delimiter == DEFAULT_DELIMITER
                    else f"the declared delimiter is a {delimiter_label(delimiter)}"
                )
                shown = "tab" if other == "\t" else f"'{other}'"
                raise InputFileError(
                    spec.file_name,
                    f"header has a single column containing {delimiter_label(other)}s; "
                    f"{declared}: if the file uses {delimiter_label(other)}s, pass "
                    f"--delimiter {shown} (every file) or --delimiter {spec.name}={shown}",
                    line=1,
                )
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InputFileError(
                spec.file_name,
                "column name appears more than once",
                line=1,
                column=abridged(column),
            )
        seen.add(column)
    for column in spec.columns:
        if column not in seen:
            has = abridged(", ".join(columns)) or "nothing"
            raise InputFileError(
                spec.file_name,
                f"required column is missing (header has: {has})",
                line=1,
                column=column,
            )
    extra = tuple(column for column in columns if column not in spec.columns)
    return Header(columns=columns, extra_columns=extra)
