"""Writing a run's outputs: the audience, the quarantine and the reconciliation report.

Every file is first written into a private folder inside the output folder, then moved into
place, so a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

AUDIENCE_FILE = "eligible_audience.csv"
RECONCILIATION_FILE = "reconciliation.json"


def _copy_query(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    con.execute(f"copy ({query}) to '{path}' (format csv, header true)")


def write_outputs(
    con: duckdb.DuckDBPyConnection,
    report: dict[str, Any],
    input_files: list[str],
    output_dir: Path,
) -> list[Path]:
    """Write every output of a passed run into ``output_dir``; returns the paths written."""
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = output_dir / f".publishing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    names = [AUDIENCE_FILE]
    _copy_query(
        con, "select * from marts.eligible_audience order by customer_id", staging / AUDIENCE_FILE
    )
    for input_file in input_files:
        name = f"rejected_{input_file}.csv"
        _copy_query(
            con, f"select * from marts.rejected_{input_file} order by source_line", staging / name
        )
        names.append(name)
    (staging / RECONCILIATION_FILE).write_text(
        json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    names.append(RECONCILIATION_FILE)
    written = []
    for name in names:
        os.replace(staging / name, output_dir / name)
        written.append(output_dir / name)
    staging.rmdir()
    return written
