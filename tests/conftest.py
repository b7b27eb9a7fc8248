"""Shared helpers for the pre-step and quarantine tests.

- :func:`write_landing_folder` writes the four contract CSVs: a few valid baseline rows per
  file plus whatever rows a test adds (as column dicts, or as raw lines written verbatim).
- :func:`run_and_read_outputs` runs the real pipeline (pre-step, in-process ``dbt build``,
  publish) and reads the published files back with the ``csv`` module. dbt takes seconds per
  build, so tests batch many cases into one landing folder and run it once per session.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from audience_pipeline.contract import InputFile, load_contract

PROJECT_DIR = Path(__file__).resolve().parent.parent

AS_OF = "2026-11-26"
#: The command that runs the pipeline's CLI in a child process; tests append its arguments.
#: It is the ``scripts/run_pipeline.py`` alias of ``audience run`` (which schedulers call, and
#: which also takes ``--explain``); tests/test_cli.py runs ``audience`` itself.
RUN_PIPELINE_CLI: tuple[str, ...] = (
    sys.executable,
    str(PROJECT_DIR / "scripts" / "run_pipeline.py"),
)
CONTRACT: tuple[InputFile, ...] = load_contract()
SPECS: dict[str, InputFile] = {spec.name: spec for spec in CONTRACT}
COLUMNS: dict[str, tuple[str, ...]] = {spec.name: spec.columns for spec in CONTRACT}

_LINE_BREAK = re.compile(r"\r\n|\n|\r")

#: A data row given as column -> value (missing columns take the file's default value), or a
#: raw physical line written verbatim (without its line ending).
Row = Mapping[str, str] | str

#: One valid row per file; every column present. Ids 1-3 are reserved for the baseline.
DEFAULT_ROWS: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "1",
        "email": "c1@example.com",
        "first_name": "Ann",
        "home_state": "CA",
        "loyalty_tier": "Gold",
        "is_active": "true",
        "updated_at": "2026-01-01T00:00:00Z",
    },
    "bookings": {
        "booking_id": "B-1",
        "customer_id": "1",
        "booking_date": "2026-06-01",
        "booking_amount": "100.00",
        "booking_status": "COMPLETED",
        "product_name": "Flight",
        "source_system": "web",
    },
    "consent_events": {
        "event_id": "E-1",
        "customer_id": "1",
        "channel": "email",
        "consent_status": "OPT_IN",
        "event_ts": "2026-02-01T00:00:00Z",
        "source_system": "preference_center",
    },
    "suppressions": {
        "customer_id": "3",
        "email": "c3@example.com",
        "suppression_reason": "unsubscribed",
        "suppressed_from": "2026-01-01",
        "suppressed_until": "",
    },
}


def make_row(input_file: str, **values: str) -> dict[str, str]:
    """A full row of ``input_file``: the default valid row with ``values`` overriding it."""
    unknown = set(values) - set(COLUMNS[input_file])
    if unknown:
        raise ValueError(f"{input_file} has no column(s) {sorted(unknown)}")
    return {**DEFAULT_ROWS[input_file], **values}


def baseline_rows() -> dict[str, list[dict[str, str]]]:
    """Valid rows every landing folder starts with: customers 1-3, their bookings and events."""
    return {
        "customers": [
            make_row("customers"),
            make_row("customers", customer_id="2", email="c2@example.com", first_name="Bob"),
            make_row("customers", customer_id="3", email="c3@example.com", first_name="Cy"),
        ],
        "bookings": [
            make_row("bookings"),
            make_row("bookings", booking_id="B-2", customer_id="2", booking_amount="25.50"),
        ],
        "consent_events": [
            make_row("consent_events"),
            make_row("consent_events", event_id="E-2", customer_id="2"),
        ],
        "suppressions": [make_row("suppressions")],
    }


def csv_line(values: Sequence[str]) -> str:
    """One CSV record as the csv module writes it (quoted only where needed), no line end."""
    buffer = io.StringIO()
    # the terminator's characters are what make the writer quote a field holding a line break
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue().removesuffix("\r\n")


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    line_ending: str = "\n",
    bom: bool = False,
    encoding: str = "utf-8",
) -> int:
    """Write a CSV file; returns the number of physical data lines (lines after the header).

    Dict rows are written in ``header`` order (extra header columns get ''); string rows are
    written verbatim. A value holding a line break spans several physical lines.
    """
    lines = [csv_line(header)]
    for row in rows:
        if isinstance(row, str):
            lines.append(row)
        else:
            lines.append(csv_line([row.get(column, "") for column in header]))
    text = line_ending.join(lines) + line_ending
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return physical_line_count(text) - 1


def physical_line_count(text: str) -> int:
    """Lines as a CSV reader sees them: ended by CRLF, LF or a lone CR (last may be unended)."""
    breaks = len(_LINE_BREAK.findall(text))
    return breaks if text == "" or text.endswith(("\n", "\r")) else breaks + 1


def write_landing_folder(
    folder: Path,
    rows: Mapping[str, Sequence[Row]] | None = None,
    *,
    baseline: bool = True,
    headers: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, int]:
    """Write the four contract CSVs into ``folder``; returns data lines written per file.

    Each file holds the baseline rows (unless ``baseline`` is False) followed by ``rows[file]``.
    ``headers`` overrides a file's header (e.g. other column order or extra columns).
    """
    folder.mkdir(parents=True, exist_ok=True)
    start = baseline_rows() if baseline else {name: [] for name in COLUMNS}
    written = {}
    for name, columns in COLUMNS.items():
        file_rows: list[Row] = [*start[name], *(rows or {}).get(name, [])]
        header = (headers or {}).get(name, columns)
        written[name] = write_csv(folder / SPECS[name].file_name, header, file_rows)
    return written


@pytest.fixture
def landing_folder(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``landing_folder(rows=..., baseline=..., headers=...)`` -> a fresh folder."""
    counter = iter(range(1_000_000))

    def make(
        rows: Mapping[str, Sequence[Row]] | None = None,
        *,
        baseline: bool = True,
        headers: Mapping[str, Sequence[str]] | None = None,
    ) -> Path:
        folder = tmp_path / f"landing_{next(counter)}"
        write_landing_folder(folder, rows, baseline=baseline, headers=headers)
        return folder

    return make


@dataclass(frozen=True)
class PublishedRun:
    """The published outputs of one pipeline run, read back from disk."""

    output_dir: Path
    database: Path
    audience: list[dict[str, str]]
    rejected: dict[str, list[dict[str, str]]]
    reconciliation: dict[str, Any]

    def rejected_at(self, input_file: str, source_line: int) -> dict[str, str] | None:
        """The quarantine row of ``input_file`` at ``source_line`` (None if it was accepted)."""
        matches = [
            row for row in self.rejected[input_file] if int(row["source_line"]) == source_line
        ]
        assert len(matches) <= 1, f"line {source_line} appears {len(matches)} times"
        return matches[0] if matches else None


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """A published CSV as a list of dicts (every value as text)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def query(database: Path, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the DuckDB file ``database``, opened read-only and closed again."""
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql, list(parameters)).fetchall()


def read_decisions(database: Path) -> dict[int, str]:
    """customer_id -> decision_reason, as a run left them in ``database``."""
    return dict(
        query(
            database, "select customer_id, decision_reason from marts.customer_audience_decisions"
        )
    )


def run_and_read_outputs(input_dir: Path, work_dir: Path, as_of: str = AS_OF) -> PublishedRun:
    """Run the real pipeline on ``input_dir`` and read back everything it published."""
    from audience_pipeline.pipeline import run_pipeline

    output_dir = work_dir / "out"
    database = work_dir / "a.duckdb"
    run_pipeline(input_dir, output_dir, as_of=as_of, database=database, quiet=True)
    return PublishedRun(
        output_dir=output_dir,
        database=database,
        audience=read_csv_rows(output_dir / "eligible_audience.csv"),
        rejected={name: read_csv_rows(output_dir / f"rejected_{name}.csv") for name in COLUMNS},
        reconciliation=json.loads((output_dir / "reconciliation.json").read_text("utf-8")),
    )
