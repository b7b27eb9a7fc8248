"""The build on Spark: the engine reads the landing folder, the control plane stays here.

``audience run --target spark`` checks each file as the DuckDB pre-step does (``file_checks``:
the same refusals, the same messages), without loading anything: Spark reads the files
itself, line by line (``landing_lines`` in macros/inputs/landing_rows.sql), and the same
staging macros split and quarantine them. The build covers every model and control that does
not need the run history; at its end the engine writes the models as Parquet
(``export_for_control_plane``), which are read into the local DuckDB database here. There the
models that compare with earlier runs (the previous run, the deltas, the consent channels'
comparison and their controls) are
built with dbt on DuckDB, against the history kept in that database, and the drift guard,
report, publish and history run exactly as after a DuckDB build.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import duckdb

from audience_pipeline.builds import (
    BUILD_ARGS,
    BuildInputs,
    report_checked_files,
    watched_build,
    with_layout,
)
from audience_pipeline.contract import InputFile
from audience_pipeline.database import open_database
from audience_pipeline.dbt_invoke import DbtRun, DbtSetup, project_parsed_meanwhile, run_dbt
from audience_pipeline.dialect import Dialect
from audience_pipeline.errors import PipelineError
from audience_pipeline.file_checks import (
    check_data_lines_split,
    check_file_is_text,
    check_no_long_line,
    check_no_nul_bytes,
    fingerprint_file,
    read_header_row,
    require_data_lines,
)
from audience_pipeline.history import (
    RunDestination,
    ensure_history_tables,
    require_folder_destination,
)
from audience_pipeline.landing import LoadedFile
from audience_pipeline.landing_folder import RemoteFolder
from audience_pipeline.progress import Progress
from audience_pipeline.project import PROJECT_DIR, work_dir
from audience_pipeline.settings import EngineSettings
from audience_pipeline.sql import string_literal
from audience_pipeline.text_encoding import UTF8

#: dbt selectors of what needs the run history, built on DuckDB after the engine's build.
HISTORY_SELECTOR = "source:history+"
#: The layers the engine hands back (the base models' split lines stay there).
EXPORTED_LAYERS = ("staging", "intermediate", "marts")


def require_spark() -> None:
    """Refuse, before anything runs, a Spark build this machine cannot start."""
    if importlib.util.find_spec("pyspark") is None or (
        importlib.util.find_spec("dbt.adapters.spark") is None
    ):
        raise PipelineError(
            "--target spark needs the spark extra (dbt-spark[session] and pyspark): "
            "AUDIENCE_EXTRAS=spark bash scripts/setup.sh, or pip install 'audience-pipeline[spark]'"
        )
    if shutil.which("java") is None:
        raise PipelineError("--target spark needs Java 17 on the PATH (openjdk-17-jre-headless)")


def inspect_landing_folder(
    input_dir: Path | RemoteFolder,
    contract: Sequence[InputFile],
    dialects: Mapping[str, Dialect] | None = None,
) -> list[LoadedFile]:
    """Check every file of a landing folder for an engine that reads them itself.

    Raises InputFileError on the first unusable file, as the DuckDB pre-step does. Files are
    read as UTF-8 (declaring another encoding is refused by the command line); each one's
    lines are counted as it is checksummed. A remote folder's files are read through fsspec
    (``landing_folder``), and Spark gets their URLs as given.
    """
    dialects = dialects or {}
    loaded = []
    for spec in contract:
        path = (input_dir / spec.file_name).resolve()
        dialect = dialects.get(spec.name) or Dialect()
        check_file_is_text(spec, path, dialect)
        header = read_header_row(spec, path, dialect)
        check_data_lines_split(spec, path, header, dialect)
        fingerprint = fingerprint_file(path)
        check_no_nul_bytes(spec, fingerprint, path)
        check_no_long_line(spec, fingerprint.first_long_line)
        data_lines = max(fingerprint.lines - 1, 0)
        require_data_lines(spec, data_lines)
        loaded.append(
            LoadedFile(
                input_file=spec.name,
                file_path=str(path),
                byte_count=path.stat().st_size,
                sha256=fingerprint.sha256,
                data_lines=data_lines,
                header_columns=header.columns,
                extra_columns=header.extra_columns,
                encoding=UTF8,
                delimiter=dialect.delimiter,
            )
        )
    return loaded


def engine_build_args() -> list[str]:
    """``dbt build`` on the engine: every model and control but those that read the history."""
    return [*BUILD_ARGS, "--exclude", HISTORY_SELECTOR]


def history_build_args() -> list[str]:
    """``dbt build`` on DuckDB, after the engine's models were read back: the history's part."""
    return [*BUILD_ARGS, "--select", HISTORY_SELECTOR]


def clear_export_dir(export_dir: Path) -> None:
    """Start every run with an empty export folder: nothing stale can be read back."""
    shutil.rmtree(export_dir, ignore_errors=True)
    export_dir.mkdir(parents=True)


def _drop_layers(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what an earlier run left in the exported layers (tables and views)."""
    for schema in EXPORTED_LAYERS:
        con.execute(f"drop schema if exists {schema} cascade")
        con.execute(f"create schema {schema}")


def import_exported_models(con: duckdb.DuckDBPyConnection, export_dir: Path) -> list[str]:
    """Read every model the engine exported into a table of the same name; returns them.

    The layers are emptied first, so a model the engine did not build (a failed build) is
    absent rather than left over from an earlier run.
    """
    _drop_layers(con)
    imported = []
    for schema in EXPORTED_LAYERS:
        folder = export_dir / schema
        if not folder.is_dir():
            continue
        for model_dir in sorted(path for path in folder.iterdir() if path.is_dir()):
            files = string_literal(str(model_dir / "*.parquet"))
            con.execute(
                f'create table {schema}."{model_dir.name}" as select * from read_parquet({files})'
            )
            imported.append(f"{schema}.{model_dir.name}")
    return imported


def combined(engine_run: DbtRun, history_run: DbtRun | None) -> DbtRun:
    """The engine's build and the history's build on DuckDB, as one run."""
    if history_run is None:
        return engine_run
    return DbtRun(
        success=engine_run.success and history_run.success,
        nodes=engine_run.nodes + history_run.nodes,
        error=engine_run.error or history_run.error,
    )


def require_folder_destination_before_build(
    database: Path, config: Mapping[str, str], publishes_to: RunDestination
) -> None:
    """Refuse, before Spark starts, a folder last published to another destination.

    The DuckDB pre-step checks on the connection it holds; Spark's build opens the database
    only after the engine's build, so the check opens it here (a database not created yet
    holds no history, and one held by another process is refused as it would be later).
    """
    if not database.exists():
        return
    con = open_database(database, config=config)
    try:
        require_folder_destination(con, publishes_to)
    finally:
        con.close()


def build_on_spark(
    dbt_setup: DbtSetup,
    inputs: BuildInputs,
    settings: EngineSettings,
    progress: Progress,
    *,
    dbt_console_log: bool,
    allow_empty_suppressions: bool,
) -> tuple[list[LoadedFile], DbtRun]:
    """Spark reads the folder and builds; its models come back for the history's part on DuckDB.

    See the module's docstring. dbt parses the project for Spark while the files are checked
    (one dbt command at a time in a process: the DuckDB part parses when it starts).
    """
    require_spark()
    database = dbt_setup.database
    require_folder_destination_before_build(
        database, settings.connection_config(database), inputs.publishes_to
    )
    export_dir = work_dir(database) / "engine_export"
    engine_setup = replace(
        dbt_setup,
        target="spark",
        target_path=work_dir(database) / "target_spark",
        environment={
            "AUDIENCE_SPARK_DIR": os.environ.get(
                "AUDIENCE_SPARK_DIR", str(work_dir(database) / "spark")
            ),
            "AUDIENCE_SPARK_LOG_CONFIG": os.environ.get(
                "AUDIENCE_SPARK_LOG_CONFIG", str(PROJECT_DIR / "spark" / "log4j2.properties")
            ),
            **dbt_setup.environment,
            "AUDIENCE_EXPORT_DIR": str(export_dir),
        },
    )
    with project_parsed_meanwhile(engine_setup) as engine_parsed:
        with progress.stage("pre-step: check the raw files"):
            loaded = inspect_landing_folder(inputs.input_dir, inputs.contract, inputs.dialects)
            report_checked_files(
                progress,
                loaded,
                allow_empty_suppressions=allow_empty_suppressions,
                counted="data lines",
            )
            clear_export_dir(export_dir)
        engine_run = watched_build(
            progress,
            "dbt build on spark: models and every control",
            engine_build_args(),
            with_layout(engine_setup, loaded),
            console_log=dbt_console_log,
            manifest=engine_parsed.result(),
        )
    with progress.stage("read the models back from spark"):
        con = open_database(database, config=settings.connection_config(database))
        try:
            imported = import_exported_models(con, export_dir)
            ensure_history_tables(con)
        finally:
            con.close()
        progress.say(f"  {len(imported):,} models read into {database.name}")
    if not engine_run.success:
        return loaded, engine_run
    with progress.stage("dbt build on duckdb: the changes since the previous run"):
        history_run = run_dbt(
            history_build_args(),
            with_layout(dbt_setup, loaded),
            console_log=dbt_console_log,
        )
    return loaded, combined(engine_run, history_run)
