"""Running dbt in-process and reading back what each node did."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from audience_pipeline.project import PROJECT_DIR

if TYPE_CHECKING:
    from dbt.contracts.graph.manifest import Manifest


@dataclass(frozen=True)
class NodeResult:
    """One node of a dbt invocation: a model, seed, data test or unit test."""

    unique_id: str
    resource_type: str
    name: str
    status: str
    failures: int | None
    execution_time: float
    message: str | None


@dataclass(frozen=True)
class DbtRun:
    """The outcome of one dbt command."""

    success: bool
    nodes: tuple[NodeResult, ...]
    error: str | None

    @property
    def controls(self) -> tuple[NodeResult, ...]:
        """Data tests and unit tests: the run's controls."""
        return tuple(node for node in self.nodes if node.resource_type in {"test", "unit_test"})


@contextmanager
def environment_values(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the length of a block (dbt reads them), then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _release_database() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    dbt-duckdb holds one database handle per process for speed. Releasing it lets the next
    step open the file with its own settings, and leaves no lock behind if the process lives on.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager._ENV = None
    gc.collect()


@dataclass(frozen=True)
class DbtSetup:
    """What every dbt command of one run shares: the database, variables, folders, environment.

    ``project_dir`` is this project unless a caller measures another one (its profiles.yml
    beside it). dbt's full log goes to ``log_path/dbt.log`` (beside the database for a run).
    """

    database: Path
    dbt_vars: dict[str, Any]
    target_path: Path
    environment: dict[str, str] = field(default_factory=dict)
    project_dir: Path = PROJECT_DIR
    log_path: Path | None = None
    target: str | None = None  # the profile's target (profiles.yml); its default when None

    def cli_args(self, args: list[str], *, console_log: bool = False) -> list[str]:
        """``args`` (e.g. ``["build"]``) with the project, folders and variables.

        dbt writes nothing to the console unless ``console_log``; then in colour only when the
        console is a terminal. Its log file never has colour codes.
        """
        cli_args = [
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.project_dir),
            "--target-path",
            str(self.target_path),
            "--vars",
            json.dumps(self.dbt_vars, sort_keys=True),
            "--no-use-colors-file",
        ]
        if self.target is not None:
            cli_args += ["--target", self.target]
        if self.log_path is not None:  # the whole log, SQL included
            cli_args += ["--log-path", str(self.log_path), "--log-level-file", "debug"]
        if not console_log:
            cli_args += ["--log-level", "none"]
        elif not sys.stdout.isatty():
            cli_args.append("--no-use-colors")
        return cli_args

    def env(self) -> dict[str, str]:
        """The environment variables profiles.yml and the models read."""
        return {
            "AUDIENCE_DUCKDB_PATH": str(self.database),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            **self.environment,
        }


def _parse_project(cli_args: list[str]) -> Manifest | None:
    from dbt.cli.main import dbtRunner  # imported late: dbt is slow to import

    outcome = dbtRunner().invoke(cli_args)
    return outcome.result if outcome.success else None


@contextmanager
def project_parsed_meanwhile(setup: DbtSetup) -> Iterator[Future[Manifest | None]]:
    """Import dbt and parse the project in a background thread while the caller works.

    Importing dbt and parsing the project take a few seconds of pure Python at every scale;
    the pre-step spends its time inside DuckDB, which releases the interpreter, so the two
    overlap (the pre-step runs at a lower priority, so that on few cores the parse, which the
    build waits for, is not the one left running: ``priority.py``).
    Hand the future to ``run_dbt(manifest=...)`` with the same ``setup``: dbt then runs with
    the very manifest this parse produced (the environment stays set until the block ends).
    A parse that fails yields None, and ``run_dbt`` parses again itself, so dbt reports the
    error the usual way. Parsing never opens the database, and writes no ``manifest.json``
    (``--no-write-json``): the build writes it, with the same manifest, when it ends.
    """
    with (
        environment_values(setup.env()),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="dbt-parse") as executor,
    ):
        yield executor.submit(_parse_project, setup.cli_args(["parse", "--no-write-json"]))


def run_dbt(
    args: list[str],
    setup: DbtSetup,
    *,
    console_log: bool = False,
    manifest: Manifest | None = None,
    callbacks: Sequence[Callable[[Any], None]] = (),
) -> DbtRun:
    """Run one dbt command (e.g. ``["build"]``) with ``setup`` and collect node results.

    ``manifest``, when given, is a manifest parsed with the same setup
    (``project_parsed_meanwhile``); dbt then skips parsing. ``callbacks`` receive every dbt
    event (``progress.DbtNodes.on_event`` follows the nodes with them).
    """
    from dbt.cli.main import dbtRunner  # imported late: dbt is slow to import

    with environment_values(setup.env()):
        try:
            runner = dbtRunner(manifest=manifest, callbacks=list(callbacks))
            outcome = runner.invoke(setup.cli_args(args, console_log=console_log))
        finally:
            _release_database()
    nodes = tuple(
        NodeResult(
            unique_id=result.node.unique_id,
            resource_type=str(result.node.resource_type),
            name=result.node.name,
            status=str(result.status),
            failures=result.failures,
            execution_time=float(result.execution_time or 0.0),
            message=result.message,
        )
        for result in getattr(outcome.result, "results", None) or []
    )
    error = str(outcome.exception) if outcome.exception is not None else None
    return DbtRun(success=bool(outcome.success), nodes=nodes, error=error)
