"""One run, end to end: pre-step, dbt build with every control, publish."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.contract import PROJECT_DIR, load_contract
from audience_pipeline.dbt_invoke import DbtRun, run_dbt
from audience_pipeline.errors import ControlFailure, PipelineError
from audience_pipeline.landing import LoadedFile, load_landing_folder
from audience_pipeline.progress import Progress
from audience_pipeline.publish import write_outputs
from audience_pipeline.reconciliation import build_report
from audience_pipeline.settings import EngineSettings

DEFAULT_DATABASE = PROJECT_DIR / "target" / "pipeline" / "audience.duckdb"
LANDING_SCHEMA = "landing"


@dataclass
class RunResult:
    """What a successful run published and how long each stage took."""

    report: dict[str, Any]
    outputs: list[Path]
    loaded: list[LoadedFile]
    dbt: DbtRun
    stage_seconds: dict[str, float] = field(default_factory=dict)


def parse_as_of(text: str | None) -> str:
    """Validate an as-of date (YYYY-MM-DD); None means today in UTC."""
    if text is None:
        return dt.datetime.now(dt.UTC).date().isoformat()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as error:
        raise PipelineError(f"--as-of must be a date as YYYY-MM-DD, not {text!r}") from error


def describe_failures(run: DbtRun) -> str:
    """A readable list of what failed in a dbt build."""
    failed = [node for node in run.nodes if node.status in {"fail", "error"}]
    lines = [
        f"  - {node.resource_type} {node.name}: {node.status}"
        + (f" ({node.failures} failing rows)" if node.failures else "")
        + (f": {node.message}" if node.status == "error" and node.message else "")
        for node in failed
    ]
    if run.error:
        lines.append(f"  - dbt: {run.error}")
    return "\n".join(lines) or "  - dbt reported a failure without details"


def run_pipeline(
    input_dir: Path,
    output_dir: Path,
    as_of: str | None = None,
    database: Path = DEFAULT_DATABASE,
    settings: EngineSettings | None = None,
    quiet: bool = False,
) -> RunResult:
    """Run a landing folder end to end; raises PipelineError and publishes nothing on failure."""
    as_of_date = parse_as_of(as_of)
    settings = settings or EngineSettings()
    progress = Progress(enabled=not quiet)
    contract = load_contract()
    database = database.resolve()
    database.parent.mkdir(parents=True, exist_ok=True)

    with progress.stage("pre-step (validate and load raw files)"):
        con = duckdb.connect(str(database), config=settings.connection_config(database))
        try:
            loaded = load_landing_folder(con, input_dir.resolve(), contract, LANDING_SCHEMA)
        finally:
            con.close()
        for item in loaded:
            progress.say(
                f"  {item.input_file}: {item.data_lines:,} rows read, "
                f"{item.structural_errors:,} could not be split"
            )

    with progress.stage("dbt build (models and every control)"):
        dbt_run = run_dbt(
            ["build", "--exclude-resource-type", "seed", "--exclude-resource-type", "unit_test"],
            database=database,
            dbt_vars={
                "raw_input": "landing",
                "as_of_date": as_of_date,
                "landing_schema": LANDING_SCHEMA,
            },
            target_path=database.parent / "dbt_target",
            environment=settings.environment(database),
            quiet=quiet,
        )
    if not dbt_run.success:
        raise ControlFailure(
            "the run failed, so no audience was published:\n" + describe_failures(dbt_run)
        )

    with progress.stage("publish"):
        # same configuration as dbt-duckdb's connection, which stays open in this process
        con = duckdb.connect(str(database), config=settings.connection_config(database))
        try:
            report = build_report(con, as_of_date, dbt_run.controls)
            outputs = write_outputs(con, report, [spec.name for spec in contract], output_dir)
        finally:
            con.close()

    return RunResult(
        report=report,
        outputs=outputs,
        loaded=loaded,
        dbt=dbt_run,
        stage_seconds=dict(progress.stage_seconds),
    )
