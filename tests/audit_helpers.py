"""Shared, run-once fixtures for the audit-trail tests (history, drift, explain, report, docs).

dbt takes seconds per build, so the scenario below runs once per pytest session, whichever
test module asks first, and every audit test reads what it left behind:

1. the committed sample as of 2026-11-26 (the first published run: run #1);
2. the same files as of 2027-01-15, through the command line with progress output on, so the
   logs can be checked for personal data (run #2: 2 customers enter, 8 leave, 14.3%);
3. as of 2027-06-01 with half of bookings.csv missing: the drift guard must stop it (the
   audience moves by 43% and bookings lose 50% of their rows); nothing is published;
4. the full files as of 2027-06-01 with ``--accept-drift``: published as run #3 and the
   acceptance recorded.

All four runs build in one database and publish into one output folder, as a person would.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import RUN_PIPELINE_CLI

PROJECT_DIR = Path(__file__).resolve().parent.parent

SEEDS = PROJECT_DIR / "seeds"
AS_OF_DATES = ("2026-11-26", "2027-01-15", "2027-06-01")
ACCEPT_REASON = "bookings of the 2026 spring season fell out of the 365-day window"
#: Set to a folder to keep the browser tests' screenshots there (e.g. docs/images).
SCREENSHOT_DIR_ENV = "AUDIT_SCREENSHOT_DIR"


@dataclass
class Scenario:
    """What the four runs left behind."""

    work: Path
    database: Path
    output_dir: Path
    reports: dict[int, str] = field(default_factory=dict)  # run id -> run_report.html text
    audiences: dict[int, bytes] = field(default_factory=dict)  # run id -> eligible_audience.csv
    results: dict[int, Any] = field(default_factory=dict)  # run id -> RunResult
    cli: subprocess.CompletedProcess[str] | None = None
    drift_error: Exception | None = None
    after_failure: dict[str, bytes] = field(default_factory=dict)


_SCENARIO: Scenario | None = None
_DOCS: Path | None = None


def _published(output_dir: Path) -> tuple[str, bytes]:
    return (
        (output_dir / "run_report.html").read_text(encoding="utf-8"),
        (output_dir / "eligible_audience.csv").read_bytes(),
    )


def run_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Run the four runs once per session; returns what they left behind."""
    global _SCENARIO
    if _SCENARIO is not None:
        return _SCENARIO
    from audience_pipeline.drift import DriftFailure
    from audience_pipeline.pipeline import run_pipeline

    work = tmp_path_factory.mktemp("audit_trail")
    scenario = Scenario(work=work, database=work / "audience.duckdb", output_dir=work / "out")
    common = {"database": scenario.database, "output_dir": scenario.output_dir, "quiet": True}

    first = run_pipeline(SEEDS, as_of=AS_OF_DATES[0], **common)
    scenario.results[1] = first
    scenario.reports[1], scenario.audiences[1] = _published(scenario.output_dir)

    scenario.cli = subprocess.run(
        [
            *RUN_PIPELINE_CLI,
            "--input-dir",
            str(SEEDS),
            "--as-of",
            AS_OF_DATES[1],
            "--output-dir",
            str(scenario.output_dir),
            "--database",
            str(scenario.database),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        check=False,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    assert scenario.cli.returncode == 0, scenario.cli.stderr
    scenario.reports[2], scenario.audiences[2] = _published(scenario.output_dir)

    shrunk = work / "landing_shrunk"
    shutil.copytree(SEEDS, shrunk, ignore=shutil.ignore_patterns("*.yml"))
    lines = (shrunk / "bookings.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (shrunk / "bookings.csv").write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    try:
        run_pipeline(shrunk, as_of=AS_OF_DATES[2], **common)
    except DriftFailure as error:
        scenario.drift_error = error
    scenario.after_failure = {
        path.name: path.read_bytes() for path in scenario.output_dir.iterdir() if path.is_file()
    }

    accepted = run_pipeline(SEEDS, as_of=AS_OF_DATES[2], accept_drift=ACCEPT_REASON, **common)
    scenario.results[3] = accepted
    scenario.reports[3], scenario.audiences[3] = _published(scenario.output_dir)
    _SCENARIO = scenario
    return scenario


def build_docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dbt docs generate --static`` on the committed sample, once; returns the target dir."""
    global _DOCS
    if _DOCS is not None:
        return _DOCS
    from audience_pipeline.dbt_invoke import DbtSetup, run_dbt

    work = tmp_path_factory.mktemp("docs_site")
    target = work / "target"
    database = work / "docs.duckdb"
    # an empty database: the page needs the manifest (descriptions, SQL, lineage), not data
    run = run_dbt(
        ["docs", "generate", "--static"],
        DbtSetup(
            database=database,
            dbt_vars={"as_of_date": AS_OF_DATES[0]},
            target_path=target,
            log_path=work / "logs",
        ),
    )
    assert run.success, f"dbt docs generate failed: {run.error}"
    assert (target / "static_index.html").is_file()
    _DOCS = target
    return target


def personal_values() -> set[str]:
    """Email addresses and first names in the committed sample (none may reach a report)."""
    values: set[str] = set()
    for name, columns in (("customers", ("email", "first_name")), ("suppressions", ("email",))):
        with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                for column in columns:
                    value = (row.get(column) or "").strip()
                    if len(value) >= 4 and (column != "email" or "@" in value):
                        values.add(value.lower())
    return values


def screenshot_dir(default: Path) -> Path:
    """Where browser tests save screenshots: $AUDIT_SCREENSHOT_DIR, else ``default``."""
    configured = os.environ.get(SCREENSHOT_DIR_ENV)
    return Path(configured).resolve() if configured else default
