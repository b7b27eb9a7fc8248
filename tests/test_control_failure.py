"""A failed control stops the run: exit non-zero, a clear message, nothing published."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import RUN_PIPELINE_CLI

from audience_pipeline import pipeline
from audience_pipeline.errors import ControlFailure

PROJECT_DIR = Path(__file__).resolve().parent.parent


def test_a_row_lost_between_file_and_models_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulate a pre-step that loses a line: the reconciliation control must catch it."""
    original = pipeline.load_landing_folder

    def losing_one_booking(con: duckdb.DuckDBPyConnection, *args: object, **kwargs: object):
        loaded = original(con, *args, **kwargs)
        # row k of the stored lines is line k + 1 of the file: this loses line 2
        con.execute("delete from landing.bookings__lines where rowid = 1")
        return loaded

    monkeypatch.setattr(pipeline, "load_landing_folder", losing_one_booking)
    output_dir = tmp_path / "out"
    with pytest.raises(ControlFailure) as failure:
        pipeline.run_pipeline(
            input_dir=PROJECT_DIR / "seeds",
            output_dir=output_dir,
            as_of="2026-11-26",
            database=tmp_path / "audience.duckdb",
            quiet=True,
        )
    assert "assert_raw_rows_reconcile_per_input_file" in str(failure.value)
    assert not output_dir.exists() or not any(output_dir.iterdir())


def test_missing_input_file_exits_non_zero_naming_the_file(tmp_path: Path) -> None:
    input_dir = tmp_path / "landing"
    shutil.copytree(PROJECT_DIR / "seeds", input_dir)
    (input_dir / "suppressions.csv").unlink()
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(input_dir),
            "--as-of",
            "2026-11-26",
            "--output-dir",
            str(tmp_path / "out"),
            "--database",
            str(tmp_path / "audience.duckdb"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "suppressions.csv: file not found" in completed.stderr
    assert not (tmp_path / "out" / "eligible_audience.csv").exists()
