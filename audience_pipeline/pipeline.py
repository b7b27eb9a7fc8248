"""One run, end to end: pre-step, dbt build with every control, publish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from audience_pipeline.builds import (
    BUILD_ARGS,
    BuildInputs,
    report_checked_files,
    require_accepted_suppressions,
    watched_build,
    with_layout,
)
from audience_pipeline.contract import load_contract
from audience_pipeline.database import open_database
from audience_pipeline.dbt_invoke import DbtRun, DbtSetup, project_parsed_meanwhile
from audience_pipeline.diagnostics import built_models, keep_stopped_run
from audience_pipeline.dialect import Dialect
from audience_pipeline.drift import DriftFailure, DriftResult, DriftThresholds, check_drift
from audience_pipeline.errors import ControlFailure, PipelineError
from audience_pipeline.history import (
    SWITCH_FAILED,
    RunDestination,
    default_destination,
    ensure_history_tables,
    forget_run,
    forget_runs_never_published,
    mark_switched,
    next_run_id,
    prune_runs,
    record_run,
    require_folder_destination,
)
from audience_pipeline.interrupts import deferred_interrupts, noting_interrupts
from audience_pipeline.landing import LoadedFile, load_landing_folder
from audience_pipeline.landing_folder import RemoteFolder
from audience_pipeline.priority import run_at_lower_priority
from audience_pipeline.progress import Progress
from audience_pipeline.project import default_database, work_dir
from audience_pipeline.publish import StagedGeneration, current_generation, stage_outputs
from audience_pipeline.reconciliation import build_report
from audience_pipeline.report import REPORT_FILE, collect_report_facts, render_report
from audience_pipeline.run_lock import with_run_locks
from audience_pipeline.settings import EngineSettings
from audience_pipeline.spark_build import build_on_spark

LANDING_SCHEMA = "landing"


@dataclass
class RunResult:
    """What a successful run published and how long each stage took."""

    report: dict[str, Any]
    outputs: list[Path]
    loaded: list[LoadedFile]
    dbt: DbtRun
    stage_seconds: dict[str, float] = field(default_factory=dict)
    run_id: int | None = None  # number of the run in the history (history.published_runs)
    drift: DriftResult | None = None


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


def _pre_step(
    input_dir: Path, inputs: BuildInputs, run_work_dir: Path, con: duckdb.DuckDBPyConnection
) -> list[LoadedFile]:
    """Load the landing folder, and create the history tables (dbt's source ``history``).

    First, on the connection the run holds, a folder last published to another destination
    is refused (``history.require_folder_destination``).
    """
    require_folder_destination(con, inputs.publishes_to)
    loaded = load_landing_folder(
        con,
        input_dir,
        inputs.contract,
        LANDING_SCHEMA,
        dialects=inputs.dialects,
        work_dir=run_work_dir / "transcoded",
    )
    ensure_history_tables(con)  # the dbt source `history` exists from the first run
    # What the pre-step wrote is committed (DuckDB's write-ahead log); dbt opens the database
    # next and checkpoints it as it closes, so a checkpoint here would only make the build wait
    # (0.4 s at 10M bookings). A run stopped before dbt leaves the log (a few MB: the lines are
    # in the file already) to the next connection, which replays it.
    con.execute("pragma disable_checkpoint_on_shutdown")
    return loaded


def _build_on_duckdb(
    dbt_setup: DbtSetup,
    inputs: BuildInputs,
    settings: EngineSettings,
    progress: Progress,
    *,
    dbt_console_log: bool,
    allow_empty_suppressions: bool,
) -> tuple[list[LoadedFile], DbtRun]:
    """The pre-step loads the files into the database, then ``dbt build`` runs on it."""
    database = dbt_setup.database
    if isinstance(inputs.input_dir, RemoteFolder):
        raise PipelineError(
            f"{inputs.input_dir} is a remote folder: DuckDB's pre-step reads files on this "
            "machine; run with --target spark, or give a local or mounted folder"
        )
    input_dir = inputs.input_dir
    # dbt is imported and the project parsed while the pre-step loads the files, at a lower
    # priority: the parse ends last otherwise (priority.py)
    with project_parsed_meanwhile(dbt_setup) as parsed:
        with progress.stage("pre-step: check and load the raw files"):
            pre_step = partial(_pre_step, input_dir, inputs, work_dir(database))
            loaded = run_at_lower_priority(pre_step, database, settings.connection_config(database))
            report_checked_files(
                progress,
                loaded,
                allow_empty_suppressions=allow_empty_suppressions,
                counted="data lines read",
            )
        dbt_run = watched_build(
            progress,
            "dbt build: models and every control",
            BUILD_ARGS,
            with_layout(dbt_setup, loaded),
            console_log=dbt_console_log,
            manifest=parsed.result(),
        )
    return loaded, dbt_run


@with_run_locks  # one run at a time per database and per output folder (run_lock.py)
def run_pipeline(
    input_dir: Path | RemoteFolder,
    output_dir: Path,
    as_of: str | None = None,
    database: Path | None = None,
    settings: EngineSettings | None = None,
    quiet: bool = False,
    progress: Progress | None = None,
    dbt_console_log: bool = False,
    allow_empty_suppressions: bool = False,
    drift_thresholds: DriftThresholds | None = None,
    accept_drift: str | None = None,
    rule_parameters: Mapping[str, Any] | None = None,
    dialects: Mapping[str, Dialect] | None = None,
    destination: str | None = None,
    allow_empty_audience: bool = False,
    keep_runs: int | None = None,
    target: str = "duckdb",
) -> RunResult:
    """Run a landing folder end to end; raises PipelineError and publishes nothing on failure.

    ``database`` defaults to ``project.default_database()``; dbt's target folder and full log go
    beside it (``project.work_dir``). Progress goes to ``progress`` (by default to standard
    error, or nowhere when ``quiet``); dbt's own log reaches the console only with
    ``dbt_console_log``. ``rule_parameters`` (checked by ``parameters.parse_rule_parameters``)
    override the rules' defaults in dbt_project.yml. ``dialects`` are the input files' declared
    encodings and delimiters (``dialect.resolve_dialects``; UTF-8 and commas by default); a
    file in another encoding is transcoded into the database's work folder while it is read.

    ``destination`` names where the run publishes (default: the output folder's resolved
    path); the run is compared only with earlier runs published there (history, drift guard,
    deltas). A folder last published to another destination is refused (UsageError) before
    the pre-step, unless the destination given is the folder's own path. A stopped run (a
    failed control, the drift guard) leaves its would-be outputs in a diagnostics folder
    beside the output folder, and its error says where.
    """
    as_of_date = parse_as_of(as_of)
    named = (destination or "").strip()
    destination = named or default_destination(output_dir)
    settings = settings or EngineSettings()
    progress = progress or Progress("quiet" if quiet else None)
    contract = load_contract()
    input_files = [spec.name for spec in contract]
    database = (database or default_database()).resolve()
    database.parent.mkdir(parents=True, exist_ok=True)

    dbt_setup = DbtSetup(
        database=database,
        dbt_vars={
            "raw_input": "landing",
            "landing_schema": LANDING_SCHEMA,
            **(rule_parameters or {}),
        },
        target_path=work_dir(database) / "target",
        log_path=work_dir(database) / "logs",
        # the date goes by environment, not --vars, so dbt's partial parse survives
        environment={
            **settings.environment(database),
            "AUDIENCE_AS_OF_DATE": as_of_date,
            "AUDIENCE_DESTINATION": destination,  # as the date: dbt's partial parse survives
        },
    )
    _forget_run_never_published(database, settings, output_dir, destination, progress)
    build = build_on_spark if target == "spark" else _build_on_duckdb
    with noting_interrupts() as interrupted:
        # dbt turns Ctrl-C into a failed build, DuckDB into RuntimeError('Query interrupted'):
        # either way an interrupted run (exit 130), not a failed control or an unexpected error
        try:
            loaded, dbt_run = build(
                dbt_setup,
                BuildInputs(
                    input_dir.resolve(),
                    contract,
                    dialects or {},
                    RunDestination(Path(output_dir), destination, named=bool(named)),
                ),
                settings,
                progress,
                dbt_console_log=dbt_console_log,
                allow_empty_suppressions=allow_empty_suppressions,
            )
        except Exception:
            if interrupted.is_set():
                raise KeyboardInterrupt from None
            raise
    if interrupted.is_set():
        raise KeyboardInterrupt
    may_be_empty = frozenset({"suppressions"} if allow_empty_suppressions else ())
    if not dbt_run.success:
        message = (
            "the run failed, so no audience was published:\n"
            + describe_failures(dbt_run)
            + f"\n  dbt's log: {dbt_setup.log_path / 'dbt.log'}"
        )
        try:
            con = duckdb.connect(str(database), config=settings.connection_config(database))
        except duckdb.Error as error:
            kept = f"\nIts would-be outputs could not be kept for diagnosis: {error}"
            raise ControlFailure(message + kept) from None
        try:
            where = keep_stopped_run(
                con,
                output_dir=output_dir,
                as_of=as_of_date,
                destination=destination,
                input_files=input_files,
                controls=dbt_run.controls,
                why=message,
                models=built_models(dbt_run),
                thresholds=drift_thresholds,
                allow_empty_audience=allow_empty_audience,
                may_be_empty=may_be_empty,
            )
        finally:
            con.close()
        raise ControlFailure(message + where)

    # dbt released the database (dbt_invoke.run_dbt); reopen it with the run's settings
    con = open_database(database, config=settings.connection_config(database))
    try:
        with noting_interrupts() as interrupted:
            try:
                drift = _checked_before_publish(
                    con,
                    progress,
                    loaded,
                    allow_empty_suppressions=allow_empty_suppressions,
                    drift_thresholds=drift_thresholds,
                    accept_drift=accept_drift,
                    may_be_empty=may_be_empty,
                    allow_empty_audience=allow_empty_audience,
                    destination=destination,
                    as_of_date=as_of_date,
                    output_dir=output_dir,
                    input_files=input_files,
                    dbt_run=dbt_run,
                )
                staged = _stage_the_publish(
                    con,
                    progress,
                    as_of_date=as_of_date,
                    dbt_run=dbt_run,
                    destination=destination,
                    drift=drift,
                    contract_files=[spec.name for spec in contract],
                    output_dir=output_dir,
                )
            except Exception:
                # DuckDB turns Ctrl-C into RuntimeError('Query interrupted')
                if interrupted.is_set():
                    raise KeyboardInterrupt from None
                raise
        # From the record until the output folder has switched and the run is marked so,
        # Ctrl-C and SIGTERM wait: the run is recorded just before the switch (interrupts.py).
        with deferred_interrupts() as received:
            _record_and_switch(
                con,
                progress,
                staged,
                destination=destination,
                drift=drift,
                output_dir=output_dir,
                input_dir=input_dir,
                keep_runs=keep_runs,
            )
        if received.is_set():
            progress.say(
                "  an interrupt arrived during the publish: it was completed and recorded first"
            )
    finally:
        con.close()

    return RunResult(
        report=staged.report,
        outputs=staged.generation.paths,
        loaded=loaded,
        dbt=dbt_run,
        stage_seconds=dict(progress.stage_seconds),
        run_id=staged.run_id,
        drift=drift,
    )


def _forget_run_never_published(
    database: Path,
    settings: EngineSettings,
    output_dir: Path,
    destination: str,
    progress: Progress,
) -> None:
    """Before anything else: a run recorded for the output folder (or another folder of the
    destination) but stopped before the folder switched to it was never published; the history
    forgets it, so this run is compared with the run the destination holds
    (``history.forget_runs_never_published``)."""
    if not database.exists():
        return
    con = open_database(database, config=settings.connection_config(database))
    try:
        forgotten = forget_runs_never_published(con, output_dir, destination)
    finally:
        con.close()
    for run_id, folder in forgotten:
        progress.say(
            f"history: run #{run_id} was recorded for {folder} but stopped before the "
            "folder switched to it (never published): forgotten"
        )


def _checked_before_publish(
    con: duckdb.DuckDBPyConnection,
    progress: Progress,
    loaded: list[LoadedFile],
    *,
    allow_empty_suppressions: bool,
    drift_thresholds: DriftThresholds | None,
    accept_drift: str | None,
    may_be_empty: frozenset[str],
    allow_empty_audience: bool,
    destination: str,
    as_of_date: str,
    output_dir: Path,
    input_files: list[str],
    dbt_run: DbtRun,
) -> DriftResult:
    """The suppressions' check and the drift guard; a stopped run keeps its diagnostics."""
    if not allow_empty_suppressions:
        require_accepted_suppressions(con, loaded)
    with progress.stage("drift guard: against the previous run to this destination"):
        try:
            return check_drift(  # DriftFailure stops the run here
                con,
                drift_thresholds,
                accept_drift,
                may_be_empty=may_be_empty,
                allow_empty_audience=allow_empty_audience,
                destination=destination,
                as_of=as_of_date,
            )
        except DriftFailure as failure:
            where = keep_stopped_run(
                con,
                output_dir=output_dir,
                as_of=as_of_date,
                destination=destination,
                input_files=input_files,
                controls=dbt_run.controls,
                why=str(failure),
                drift=failure.result,
            )
            raise DriftFailure(str(failure) + where, failure.result) from None


@dataclass(frozen=True)
class StagedRun:
    """A passed run's report and outputs, written as the output folder's next generation, not
    yet visible, and the number the history will record it with."""

    run_id: int
    report: dict[str, Any]
    generation: StagedGeneration


def _stage_the_publish(
    con: duckdb.DuckDBPyConnection,
    progress: Progress,
    *,
    as_of_date: str,
    dbt_run: DbtRun,
    destination: str,
    drift: DriftResult,
    contract_files: list[str],
    output_dir: Path,
) -> StagedRun:
    """Build the report and write every output as the output folder's next generation. Nothing
    is visible or recorded yet: a run interrupted here published nothing, and leaves nothing
    behind (``stage_outputs``)."""
    with progress.stage("publish"):
        report = build_report(con, as_of_date, dbt_run.controls, destination, drift=drift)
        run_id = next_run_id(con)
        run_report = render_report(
            collect_report_facts(con, report=report, drift=drift, run_id=run_id)
        )
        generation = stage_outputs(
            con,
            report,
            contract_files,
            output_dir,
            extra_files={REPORT_FILE: run_report},
        )
    return StagedRun(run_id, report, generation)


def _record_and_switch(
    con: duckdb.DuckDBPyConnection,
    progress: Progress,
    staged: StagedRun,
    *,
    destination: str,
    drift: DriftResult,
    output_dir: Path,
    input_dir: Path | RemoteFolder,
    keep_runs: int | None,
) -> None:
    """Record the staged run in the history with its generation, switch the output folder to
    it, then prune the history.

    Recorded before the switch: a run stopped after the switch is in the history (its delta
    files may have reached the platform, so the next run compares with it), and one stopped
    before it is forgotten by the next run (``forget_run_never_published``).
    """
    run_id = staged.run_id
    with progress.stage("history: record the run"):
        record_run(
            con,
            run_id=run_id,
            report=staged.report,
            drift=drift,
            published_at=dt.datetime.now(dt.UTC),
            input_dir=str(input_dir.resolve()),
            output_dir=str(Path(output_dir).absolute()),
            destination=destination,
            generation=staged.generation.number,
        )
    try:
        staged.generation.switch()
    except BaseException:
        if current_generation(output_dir) == staged.generation.number:  # switched, then failed
            mark_switched(con, run_id)
        else:  # not published: the folder still holds the generation before
            forget_run(con, run_id, SWITCH_FAILED)
        raise
    mark_switched(con, run_id)
    if keep_runs is not None:
        pruned = prune_runs(con, destination, keep_runs)
        progress.say(
            f"  history: kept the customers of the {keep_runs:,} latest runs, "
            f"{pruned:,} older rows pruned"
        )
