"""Opening the DuckDB database: one that cannot be opened is named in one line, with why."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

from audience_pipeline.errors import PipelineError

#: DuckDB's message when another process holds the database file.
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*\(PID (\d+)\)")


def cannot_open(database: Path, error: duckdb.Error, read_only: bool = False) -> str:
    """Why ``database`` did not open, in one line (a process holding it is named by its PID)."""
    holder = _LOCK_HOLDER.search(str(error))
    if holder and read_only:  # only a writer keeps a reader out: a run (dbt, the pre-step)
        return (
            f"the database {database} is in use by a run (PID {holder[1]}); try again when it ends"
        )
    if holder:
        return (
            f"the database {database} is in use by another process (PID {holder[1]}), such as "
            "audience explain or history; try again when it ends"
        )
    lines = str(error).strip().splitlines()
    return f"cannot open the database {database}: {' '.join(lines[0].split()) if lines else error}"


def open_database(
    database: Path, *, read_only: bool = False, config: Mapping[str, str] | None = None
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``; a database that cannot be opened is a PipelineError saying why."""
    if database.is_dir():
        raise PipelineError(f"the database {database} is a folder, not a DuckDB file")
    try:
        return duckdb.connect(str(database), read_only=read_only, config=dict(config or {}))
    except duckdb.Error as error:
        raise PipelineError(cannot_open(database, error, read_only)) from None
