"""What the build of a run shares whatever the engine: its inputs, its dbt setup, its checks.

``pipeline`` builds on DuckDB, ``spark_build`` on Spark; both hand dbt the layout of the files
(``with_layout``) and refuse a suppression list that would silently empty the exclusions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from audience_pipeline.contract import InputFile
from audience_pipeline.dbt_invoke import DbtRun, DbtSetup, run_dbt
from audience_pipeline.dialect import Dialect
from audience_pipeline.errors import InputFileError
from audience_pipeline.history import RunDestination
from audience_pipeline.landing import LoadedFile, landing_layout
from audience_pipeline.landing_folder import RemoteFolder
from audience_pipeline.progress import DbtNodes, Progress

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest

_EMPTY_SUPPRESSIONS = (
    "; an empty suppression list is suspicious, so nothing was published"
    " (pass --allow-empty-suppressions if it is expected)"
)


def require_suppression_lines(loaded: Sequence[LoadedFile]) -> None:
    """Refuse, before the build, a suppression list with a header and no line.

    An empty list would publish every opted-in customer, including everyone who asked to be
    left alone: far more likely a failed export than a day without suppressions.
    """
    for item in loaded:
        if item.input_file == "suppressions" and item.data_lines == 0:
            raise InputFileError(
                "suppressions.csv", "file has a header but no rows" + _EMPTY_SUPPRESSIONS, line=2
            )


def report_checked_files(
    progress: Progress,
    loaded: Sequence[LoadedFile],
    *,
    allow_empty_suppressions: bool,
    counted: str,
) -> None:
    """Say each file's data lines, then refuse an empty suppression list unless it is allowed.

    ``counted`` names how the lines were counted ("data lines read" by the DuckDB pre-step).
    """
    for item in loaded:
        progress.say(f"  {item.input_file}: {item.data_lines:,} {counted}")
    if not allow_empty_suppressions:
        require_suppression_lines(loaded)


def require_accepted_suppressions(
    con: duckdb.DuckDBPyConnection, loaded: Sequence[LoadedFile]
) -> None:
    """Refuse, after the build, a suppression list whose every line was rejected.

    Blank lines, lines that do not split and rows with invalid values leave the list as empty
    as no line at all; the build's own reconciliation says how many rows it accepted.
    """
    for item in loaded:
        if item.input_file != "suppressions" or item.data_lines == 0:
            continue
        accepted = con.execute(
            "select accepted_rows from marts.reconciliation_input_files"
            " where input_file = 'suppressions'"
        ).fetchone()
        if accepted is not None and accepted[0] == 0:
            raise InputFileError(
                "suppressions.csv",
                f"none of its {item.data_lines:,} data lines was accepted" + _EMPTY_SUPPRESSIONS,
                line=2,
            )


@dataclass(frozen=True)
class BuildInputs:
    """The landing folder a build reads, its contract and the files' declared dialects, and
    where the run publishes.

    ``input_dir`` is a folder on this machine, or for an engine that reads the files itself
    (Spark) a ``RemoteFolder``. ``publishes_to`` is checked against the output folder's
    history before the build starts (``history.require_folder_destination``).
    """

    input_dir: Path | RemoteFolder
    contract: tuple[InputFile, ...]
    dialects: Mapping[str, Dialect]
    publishes_to: RunDestination


def with_layout(setup: DbtSetup, loaded: Sequence[LoadedFile]) -> DbtSetup:
    """``setup`` with the layout the staging models split the lines with (header, delimiter)."""
    return replace(
        setup,
        environment={**setup.environment, "AUDIENCE_LANDING_LAYOUT": landing_layout(loaded)},
    )


#: ``dbt build`` of a run: models and every data test, no seeds, no unit tests (CI runs those).
BUILD_ARGS = ("build", "--exclude-resource-type", "seed", "--exclude-resource-type", "unit_test")


def watched_build(
    progress: Progress,
    stage: str,
    args: Sequence[str],
    setup: DbtSetup,
    *,
    console_log: bool,
    manifest: Manifest | None,
) -> DbtRun:
    """``dbt build`` as one stage of the run, its progress shown node by node."""
    nodes = DbtNodes()
    with progress.stage(stage), progress.watching("dbt build", nodes):
        return run_dbt(
            list(args),
            setup,
            console_log=console_log,
            manifest=manifest,
            callbacks=[nodes.on_event],
        )
