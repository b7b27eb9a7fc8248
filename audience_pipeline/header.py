"""Reading and checking an input file's header row."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

from audience_pipeline.contract import InputFile
from audience_pipeline.errors import InputFileError

_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


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


def read_header(spec: InputFile, line: str) -> Header:
    """Parse and check a header line against the contract; raises InputFileError."""
    fields = next(csv.reader([line]), [])
    columns = tuple(normalize_column_name(field) for field in fields)
    if len(columns) == 1:
        for delimiter, label in _OTHER_DELIMITERS.items():
            if delimiter in line:
                raise InputFileError(
                    spec.file_name,
                    f"header has a single column containing {label}s; "
                    "the contract's delimiter is a comma",
                    line=1,
                )
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise InputFileError(
                spec.file_name, "column name appears more than once", line=1, column=column
            )
        seen.add(column)
    for column in spec.columns:
        if column not in seen:
            raise InputFileError(
                spec.file_name,
                f"required column is missing (header has: {', '.join(columns) or 'nothing'})",
                line=1,
                column=column,
            )
    extra = tuple(column for column in columns if column not in spec.columns)
    return Header(columns=columns, extra_columns=extra)
