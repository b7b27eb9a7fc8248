"""The whole pipeline on the committed sample, compared with the expected outputs.

The expected audience and decisions in ``tests/expected/`` were computed by the plain-Python
reference in ``tests/reference/`` (no SQL, no shared code), so these tests compare two
independent implementations of the business rules.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import RUN_PIPELINE_CLI, query, read_decisions

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE_AS_OF = "2026-11-26"
EXPECTED = PROJECT_DIR / "tests" / "expected" / f"sample_{SAMPLE_AS_OF}"
INPUT_FILES = ("customers", "bookings", "consent_events", "suppressions")


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("sample_run")
    output_dir = work / "out"
    database = work / "audience.duckdb"
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(PROJECT_DIR / "seeds"),
            "--as-of",
            SAMPLE_AS_OF,
            "--output-dir",
            str(output_dir),
            "--database",
            str(database),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=work,
        check=False,
    )
    return {
        "completed": completed,
        "output_dir": output_dir,
        "database": database,
    }


@pytest.mark.slow
def test_run_succeeds_and_says_what_it_published(sample_run: dict) -> None:
    completed = sample_run["completed"]
    assert completed.returncode == 0, completed.stderr
    assert "published 70 of 151 customers" in completed.stdout


@pytest.mark.slow
def test_audience_matches_the_reference_byte_for_byte(sample_run: dict) -> None:
    published = (sample_run["output_dir"] / "eligible_audience.csv").read_bytes()
    assert published == (EXPECTED / "eligible_audience.csv").read_bytes()


@pytest.mark.slow
def test_every_decision_matches_the_reference(sample_run: dict) -> None:
    with (EXPECTED / "decisions.csv").open(encoding="utf-8") as handle:
        expected = {
            int(row["customer_id"]): row["decision_reason"] for row in csv.DictReader(handle)
        }
    actual = read_decisions(sample_run["database"])
    differences = {
        customer: (actual.get(customer), expected.get(customer))
        for customer in set(actual) | set(expected)
        if actual.get(customer) != expected.get(customer)
    }
    assert differences == {}


@pytest.mark.slow
def test_reconciliation_accounts_for_every_row_and_customer(sample_run: dict) -> None:
    report = json.loads((sample_run["output_dir"] / "reconciliation.json").read_text())
    expected_counts = json.loads((EXPECTED / "file_counts.json").read_text())
    assert report["as_of_date"] == SAMPLE_AS_OF
    for input_file in INPUT_FILES:
        counts = report["input_files"][input_file]
        assert {key: counts[key] for key in ("raw", "accepted", "rejected", "duplicate")} == (
            expected_counts[input_file]
        )
        assert counts["raw"] == counts["accepted"] + counts["rejected"] + counts["duplicate"]
        with (PROJECT_DIR / "seeds" / f"{input_file}.csv").open("rb") as handle:
            assert counts["raw"] == sum(1 for _ in handle) - 1
    assert report["customers"] == report["eligible"] + sum(report["excluded"].values())
    assert all(count > 0 for count in report["excluded"].values()), report["excluded"]
    assert report["controls_failed"] == 0
    assert report["controls_passed"] == len(report["controls"]) > 20


@pytest.mark.slow
def test_rejected_files_list_every_rejected_and_duplicate_row(sample_run: dict) -> None:
    report = json.loads((sample_run["output_dir"] / "reconciliation.json").read_text())
    for input_file in INPUT_FILES:
        path = sample_run["output_dir"] / f"rejected_{input_file}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        counts = report["input_files"][input_file]
        assert len(rows) == counts["rejected"] + counts["duplicate"]
        assert all(row["reason"] for row in rows)
        lines = [int(row["source_line"]) for row in rows]
        assert lines == sorted(lines)


@pytest.mark.slow
def test_bad_amounts_are_quarantined_with_their_reason(sample_run: dict) -> None:
    path = sample_run["output_dir"] / "rejected_bookings.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        amounts = {
            row["booking_amount"]
            for row in csv.DictReader(handle)
            if row["reason"] == "invalid booking_amount"
        }
    for bad in ("abc", "NaN", "Infinity", "1,234.50", "$10", "١٢", "-5.00", "1e16"):
        assert bad in amounts


@pytest.mark.slow
def test_rerun_gives_byte_identical_outputs(sample_run: dict, tmp_path: Path) -> None:
    output_dir = tmp_path / "again"
    subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(PROJECT_DIR / "seeds"),
            "--as-of",
            SAMPLE_AS_OF,
            "--output-dir",
            str(output_dir),
            "--database",
            str(tmp_path / "again.duckdb"),
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    # the same bytes but for the destination, which is each run's output folder
    first, again = (
        str(path.parent.resolve() / path.name) for path in (sample_run["output_dir"], output_dir)
    )
    for path in sorted(sample_run["output_dir"].iterdir()):
        expected = path.read_bytes().replace(first.encode(), again.encode())
        assert (output_dir / path.name).read_bytes() == expected, path.name


def test_bad_as_of_date_is_refused(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(PROJECT_DIR / "seeds"),
            "--as-of",
            "2026-02-30",
            "--output-dir",
            str(tmp_path / "out"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("audience run: argument --as-of: expected a date YYYY-MM-DD")
    assert len(completed.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_quarantine_models_document_the_columns_their_marts_store(sample_run: dict) -> None:
    """The `stg_exports__<file>_quarantined` models are ephemeral, so dbt's catalog (and the
    metadata linter's column check) never sees them; each `rejected_<file>` mart stores every
    column of its quarantine model as it is, so the mart's columns must be the documented ones,
    in order."""
    assert sample_run["completed"].returncode == 0, sample_run["completed"].stderr
    properties = yaml.safe_load(
        (PROJECT_DIR / "models" / "staging" / "exports" / "_exports__models.yml").read_text()
    )
    documented = {
        model["name"].removeprefix("stg_exports__").removesuffix("_quarantined"): [
            column["name"] for column in model["columns"]
        ]
        for model in properties["models"]
        if model["name"].endswith("_quarantined")
    }
    assert set(documented) == {"customers", "bookings", "consent_events", "suppressions"}
    stored = {
        input_file: [
            name
            for (name,) in query(
                sample_run["database"],
                "select column_name from information_schema.columns"
                " where table_name = ? order by ordinal_position",
                [f"rejected_{input_file}"],
            )
        ]
        for input_file in documented
    }
    assert stored == documented
